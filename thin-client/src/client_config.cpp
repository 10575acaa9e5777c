// Loading thin-client.toml from the system and user places and applying the command line.
#include "vdi/thin_client/client_config.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostInfo>
#include <QProcessEnvironment>
#include <set>
#include <string>

#include <toml++/toml.h>

namespace vdi::thin_client {
namespace {

[[noreturn]] void fail(const QString& source, const QString& why)
{
    throw ClientConfigError((source + QStringLiteral(": ") + why).toStdString());
}

QString string_value(const toml::node& node, const QString& source, const char* key)
{
    const auto value = node.value<std::string>();
    if (!value) fail(source, QStringLiteral("%1 must be a string").arg(QLatin1String(key)));
    return QString::fromStdString(*value);
}

DisplayProtocol parse_protocol(const QString& text, const QString& source, const char* key)
{
    if (text == QStringLiteral("vnc")) return DisplayProtocol::vnc;
    if (text == QStringLiteral("rdp")) return DisplayProtocol::rdp;
    fail(source, QStringLiteral("%1 must be \"vnc\" or \"rdp\", not \"%2\"").arg(QLatin1String(key), text));
}

QByteArray parse_pin(const QString& text, const QString& source, const char* key)
{
    const auto pin = parse_sha256_hex(text);
    if (!pin) {
        fail(source, QStringLiteral("%1 must be the SHA-256 of the broker's certificate: 64 hex digits, colons "
                                    "allowed (openssl x509 -noout -fingerprint -sha256 -in tls.crt)")
                         .arg(QLatin1String(key)));
    }
    return *pin;
}

// A relative ca_file in a file is relative to that file's directory.
QString resolve_path(const QString& path, const QString& source)
{
    if (path.isEmpty() || QDir::isAbsolutePath(path) || !QFileInfo::exists(source)) return path;
    return QFileInfo(source).dir().filePath(path);
}

}  // namespace

QString protocol_name(DisplayProtocol protocol)
{
    return protocol == DisplayProtocol::rdp ? QStringLiteral("rdp") : QStringLiteral("vnc");
}

BrokerEndpoint ClientConfig::endpoint() const
{
    QString error;
    auto endpoint = parse_broker_endpoint(broker, &error);
    if (!endpoint) {
        const QString where = sources.isEmpty() ? QStringLiteral("broker") : sources.join(QStringLiteral(", "));
        throw ClientConfigError((error + QStringLiteral(" Set broker in ") + where +
                                 QStringLiteral(" or pass --broker HOST:PORT."))
                                    .toStdString());
    }
    return *endpoint;
}

ClientConfigPaths ClientConfigPaths::standard()
{
    ClientConfigPaths paths;
    const auto environment = QProcessEnvironment::systemEnvironment();
    QString base = environment.value(QStringLiteral("XDG_CONFIG_HOME"));
    if (base.isEmpty()) base = QDir::homePath() + QStringLiteral("/.config");
    paths.user_file = base + QStringLiteral("/vdi/thin-client.toml");
    return paths;
}

std::optional<QByteArray> parse_sha256_hex(const QString& text)
{
    QString hex = text.trimmed();
    hex.remove(QLatin1Char(':'));
    if (hex.size() != 64) return std::nullopt;
    for (const QChar c : hex) {
        if (!c.isDigit() && !(c.toLower() >= QLatin1Char('a') && c.toLower() <= QLatin1Char('f'))) return std::nullopt;
    }
    return QByteArray::fromHex(hex.toLatin1());
}

QString format_fingerprint(const QByteArray& sha256)
{
    return QString::fromLatin1(sha256.toHex(':').toUpper());
}

void apply_client_config_toml(ClientConfig& config, const QString& toml_text, const QString& source)
{
    toml::table table;
    try {
        table = toml::parse(toml_text.toStdString(), source.toStdString());
    } catch (const toml::parse_error& e) {
        fail(source, QStringLiteral("line %1: %2")
                         .arg(e.source().begin.line)
                         .arg(QString::fromUtf8(e.description().data(), static_cast<qsizetype>(e.description().size()))));
    }
    static const std::set<std::string> known = {"broker",        "ca_file",    "pin_sha256", "protocol",  "kiosk",
                                                "terminal_name", "admin_keys", "vnc_viewer", "rdp_viewer"};
    for (const auto& [key, node] : table) {
        const std::string name(key.str());
        if (!known.count(name)) {
            fail(source, QStringLiteral("unknown key '%1' (known: broker, ca_file, pin_sha256, protocol, kiosk, "
                                        "terminal_name, admin_keys, vnc_viewer, rdp_viewer)")
                             .arg(QString::fromStdString(name)));
        }
        if (node.is_table()) fail(source, QStringLiteral("'%1' must be a value, not a table").arg(QString::fromStdString(name)));
    }
    if (const auto* node = table.get("broker")) config.broker = string_value(*node, source, "broker");
    if (const auto* node = table.get("ca_file")) {
        config.trust.ca_file = resolve_path(string_value(*node, source, "ca_file"), source);
        config.trust.pin_sha256.clear();  // the later source's choice of trust wins
    }
    if (const auto* node = table.get("pin_sha256")) {
        config.trust.pin_sha256 = parse_pin(string_value(*node, source, "pin_sha256"), source, "pin_sha256");
        if (!table.get("ca_file")) config.trust.ca_file.clear();
    }
    if (table.get("ca_file") && table.get("pin_sha256")) {
        fail(source, QStringLiteral("set either ca_file or pin_sha256, not both"));
    }
    if (const auto* node = table.get("protocol")) {
        config.protocol = parse_protocol(string_value(*node, source, "protocol"), source, "protocol");
    }
    if (const auto* node = table.get("kiosk")) {
        const auto value = node->value<bool>();
        if (!value || !node->is_boolean()) fail(source, QStringLiteral("kiosk must be true or false"));
        config.kiosk = *value;
    }
    if (const auto* node = table.get("terminal_name")) config.terminal_name = string_value(*node, source, "terminal_name");
    if (const auto* node = table.get("admin_keys")) {
        config.admin_keys = string_value(*node, source, "admin_keys");
        if (config.admin_keys.trimmed().isEmpty()) fail(source, QStringLiteral("admin_keys must not be empty"));
    }
    if (const auto* node = table.get("vnc_viewer")) config.vnc_viewer = string_value(*node, source, "vnc_viewer");
    if (const auto* node = table.get("rdp_viewer")) config.rdp_viewer = string_value(*node, source, "rdp_viewer");
}

void add_client_config_options(QCommandLineParser& parser)
{
    parser.addOption({QStringLiteral("broker"), QStringLiteral("The broker: host, host:port or https URL."),
                      QStringLiteral("address")});
    parser.addOption({QStringLiteral("ca-file"), QStringLiteral("Verify the broker with the CA certificates in this PEM file."),
                      QStringLiteral("file")});
    parser.addOption({QStringLiteral("pin-sha256"),
                      QStringLiteral("Accept exactly the broker certificate with this SHA-256 fingerprint."),
                      QStringLiteral("hex")});
    parser.addOption({QStringLiteral("protocol"), QStringLiteral("Preferred display protocol: vnc or rdp."),
                      QStringLiteral("vnc|rdp")});
    parser.addOption({QStringLiteral("kiosk"), QStringLiteral("Kiosk mode.")});
    parser.addOption({QStringLiteral("terminal-name"), QStringLiteral("This terminal's name."), QStringLiteral("name")});
    parser.addOption({QStringLiteral("config"),
                      QStringLiteral("Read this file instead of $XDG_CONFIG_HOME/vdi/thin-client.toml."),
                      QStringLiteral("file")});
}

ClientConfig load_client_config(const ClientConfigPaths& paths, const QCommandLineParser* parser)
{
    ClientConfig config;
    QString user_file = paths.user_file;
    bool user_file_required = false;
    if (parser != nullptr && parser->isSet(QStringLiteral("config"))) {
        user_file = parser->value(QStringLiteral("config"));
        user_file_required = true;
    }
    for (const auto& [file, required] : {std::pair{paths.system_file, false}, std::pair{user_file, user_file_required}}) {
        if (file.isEmpty()) continue;
        QFile in(file);
        if (!in.exists()) {
            if (required) fail(file, QStringLiteral("no such file"));
            continue;
        }
        if (!in.open(QIODevice::ReadOnly)) fail(file, QStringLiteral("cannot read it: %1").arg(in.errorString()));
        apply_client_config_toml(config, QString::fromUtf8(in.readAll()), file);
        config.sources.append(file);
    }
    if (parser != nullptr) {
        const QString command_line = QStringLiteral("command line");
        if (parser->isSet(QStringLiteral("broker"))) config.broker = parser->value(QStringLiteral("broker"));
        if (parser->isSet(QStringLiteral("ca-file"))) {
            config.trust.ca_file = parser->value(QStringLiteral("ca-file"));
            config.trust.pin_sha256.clear();
        }
        if (parser->isSet(QStringLiteral("pin-sha256"))) {
            if (parser->isSet(QStringLiteral("ca-file"))) fail(command_line, QStringLiteral("give either --ca-file or --pin-sha256, not both"));
            config.trust.pin_sha256 = parse_pin(parser->value(QStringLiteral("pin-sha256")), command_line, "--pin-sha256");
            config.trust.ca_file.clear();
        }
        if (parser->isSet(QStringLiteral("protocol"))) {
            config.protocol = parse_protocol(parser->value(QStringLiteral("protocol")), command_line, "--protocol");
        }
        if (parser->isSet(QStringLiteral("kiosk"))) config.kiosk = true;
        if (parser->isSet(QStringLiteral("terminal-name"))) config.terminal_name = parser->value(QStringLiteral("terminal-name"));
    }
    if (config.terminal_name.isEmpty()) config.terminal_name = QHostInfo::localHostName();
    return config;
}

}  // namespace vdi::thin_client

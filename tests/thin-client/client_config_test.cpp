// thin-client.toml: the order of sources, trust keys, and errors that name the file and key.
#include <catch2/catch.hpp>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include "vdi/thin_client/client_config.h"

using namespace vdi::thin_client;

namespace {

void write(const QString& path, const QByteArray& text)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile file(path);
    REQUIRE(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(text);
}

const QString pin_hex = QStringLiteral("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

}  // namespace

TEST_CASE("client config: the user file overrides the system file, the command line overrides both", "[thin-client]")
{
    QTemporaryDir dir;
    ClientConfigPaths paths;
    paths.system_file = dir.filePath(QStringLiteral("etc/thin-client.toml"));
    paths.user_file = dir.filePath(QStringLiteral("home/thin-client.toml"));
    write(paths.system_file, "broker = \"broker.example.org\"\nkiosk = true\nterminal_name = \"seat-1\"\n"
                             "ca_file = \"ca.pem\"\nadmin_keys = \"Ctrl+Alt+F9\"\n");
    write(paths.user_file, "protocol = \"rdp\"\npin_sha256 = \"" + pin_hex.toLatin1() + "\"\n");

    const auto config = load_client_config(paths);
    CHECK(config.broker == QStringLiteral("broker.example.org"));
    CHECK(config.kiosk);
    CHECK(config.terminal_name == QStringLiteral("seat-1"));
    CHECK(config.protocol == DisplayProtocol::rdp);
    CHECK(config.admin_keys == QStringLiteral("Ctrl+Alt+F9"));
    CHECK(config.trust.ca_file.isEmpty());  // the user file's pin replaces the system file's CA
    CHECK(config.trust.pin_sha256 == *parse_sha256_hex(pin_hex));
    CHECK(config.sources.size() == 2);
    CHECK(config.endpoint().base_url.toString() == QStringLiteral("https://broker.example.org:8443/api/v1/"));

    QCommandLineParser parser;
    add_client_config_options(parser);
    REQUIRE(parser.parse({QStringLiteral("vdi-connect"), QStringLiteral("--broker"), QStringLiteral("10.0.0.5:9443"),
                          QStringLiteral("--ca-file"), QStringLiteral("/tmp/ca.pem"), QStringLiteral("--protocol"),
                          QStringLiteral("vnc")}));
    const auto overridden = load_client_config(paths, &parser);
    CHECK(overridden.broker == QStringLiteral("10.0.0.5:9443"));
    CHECK(overridden.trust.ca_file == QStringLiteral("/tmp/ca.pem"));
    CHECK(overridden.trust.pin_sha256.isEmpty());
    CHECK(overridden.protocol == DisplayProtocol::vnc);
}

TEST_CASE("client config: a relative ca_file is relative to its file, missing files are skipped", "[thin-client]")
{
    QTemporaryDir dir;
    ClientConfigPaths paths;
    paths.system_file = dir.filePath(QStringLiteral("etc/thin-client.toml"));
    paths.user_file = dir.filePath(QStringLiteral("nowhere/thin-client.toml"));
    write(paths.system_file, "ca_file = \"ca.pem\"\n");
    const auto config = load_client_config(paths);
    CHECK(config.trust.ca_file == dir.filePath(QStringLiteral("etc/ca.pem")));
    CHECK(config.sources == QStringList{paths.system_file});
    CHECK(config.protocol == DisplayProtocol::vnc);  // the default
    CHECK_FALSE(config.terminal_name.isEmpty());     // the host name
}

TEST_CASE("client config: errors name the file and the key", "[thin-client]")
{
    QTemporaryDir dir;
    ClientConfigPaths paths;
    paths.system_file = dir.filePath(QStringLiteral("thin-client.toml"));
    paths.user_file.clear();
    const auto error_of = [&](const QByteArray& text) {
        write(paths.system_file, text);
        try {
            load_client_config(paths);
        } catch (const ClientConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string file = paths.system_file.toStdString();
    CHECK(error_of("brokr = \"x\"\n") == file + ": unknown key 'brokr' (known: broker, ca_file, pin_sha256, protocol, "
                                             "kiosk, terminal_name, admin_keys, vnc_viewer, rdp_viewer)");
    CHECK(error_of("protocol = \"spice\"\n") == file + ": protocol must be \"vnc\" or \"rdp\", not \"spice\"");
    CHECK(error_of("kiosk = \"yes\"\n") == file + ": kiosk must be true or false");
    CHECK(error_of("pin_sha256 = \"abcd\"\n").find(file + ": pin_sha256 must be the SHA-256") == 0);
    CHECK(error_of("broker = 5\n") == file + ": broker must be a string");
    CHECK(error_of("ca_file = \"a\"\npin_sha256 = \"" + pin_hex.toLatin1() + "\"\n") ==
          file + ": set either ca_file or pin_sha256, not both");
    CHECK(error_of("broker = \n").find(file + ": line 1") == 0);

    write(paths.system_file, "kiosk = false\n");
    const auto config = load_client_config(paths);
    try {
        config.endpoint();
        FAIL("an empty broker address was accepted");
    } catch (const ClientConfigError& e) {
        CHECK(std::string(e.what()).find("No broker address is configured.") == 0);
        CHECK(std::string(e.what()).find(file) != std::string::npos);
    }
}

TEST_CASE("client config: fingerprints are read with or without colons and shown with them", "[thin-client]")
{
    const auto plain = parse_sha256_hex(pin_hex);
    REQUIRE(plain);
    CHECK(plain->size() == 32);
    const QString shown = format_fingerprint(*plain);
    CHECK(shown.startsWith(QStringLiteral("01:23:45:67:89:AB:CD:EF:")));
    CHECK(parse_sha256_hex(shown) == plain);
    CHECK_FALSE(parse_sha256_hex(QStringLiteral("xyz")));
    CHECK_FALSE(parse_sha256_hex(pin_hex.left(62) + QStringLiteral("zz")));
}

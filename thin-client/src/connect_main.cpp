// vdi-connect: the terminal login. Asks for user and password, lets the user pick a pool,
// connects through the broker and runs the configured viewer until it exits (or, with --json,
// prints the connection for a script). Same configuration and trust as vdi-thin-client.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vdi/thin_client/broker_client.h"
#include "vdi/thin_client/client_config.h"
#include "vnc_password_file.h"

using namespace vdi::thin_client;

namespace {

// exit codes
constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_refused = 3;  // wrong credentials, locked

// Prints `prompt` and reads one line. Echo goes off before the prompt shows, and neither change of the
// terminal discards input: whatever was typed after the prompt appeared is the answer.
std::string read_line(const char* prompt, bool echo)
{
    termios saved{};
    const bool tty = ::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty && !echo) {
        termios quiet = saved;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::cerr << prompt << std::flush;
    std::string line;
    std::getline(std::cin, line);
    if (tty && !echo) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        std::cerr << "\n";
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// Runs the event loop until `client` answers the call just made; nullopt (error printed) on failure.
template <typename Signal, typename Value>
bool await(BrokerApi& client, Signal signal, Value& out, BrokerError* failure)
{
    QEventLoop loop;
    bool ok = false;
    auto a = QObject::connect(&client, signal, &loop, [&](const auto& value) {
        out = value;
        ok = true;
        loop.quit();
    });
    auto b = QObject::connect(&client, &BrokerApi::requestFailed, &loop, [&](BrokerRequest, const BrokerError& error) {
        *failure = error;
        loop.quit();
    });
    loop.exec();
    QObject::disconnect(a);
    QObject::disconnect(b);
    return ok;
}

int run_viewer(const ClientConfig& config, const vdi::api::ConnectResponse& connection, const QString& user)
{
    QProcess viewer;
    viewer.setProcessChannelMode(QProcess::ForwardedChannels);
    viewer.setInputChannelMode(QProcess::ManagedInputChannel);
    QTemporaryDir private_dir(QDir::tempPath() + QStringLiteral("/vdi-connect-XXXXXX"));  // created 0700
    const QString address = QString::fromStdString(connection.host);
    if (connection.protocol == "rdp") {
        viewer.start(config.rdp_viewer, {QStringLiteral("/v:%1:%2").arg(address).arg(connection.port),
                                         QStringLiteral("/u:%1").arg(user), QStringLiteral("/from-stdin"),
                                         QStringLiteral("/cert:ignore")});
        if (!viewer.waitForStarted(10000)) {
            std::cerr << "Cannot start the RDP viewer " << config.rdp_viewer.toStdString() << ": "
                      << viewer.errorString().toStdString() << "\n";
            return exit_failed;
        }
        viewer.write(QByteArray::fromStdString(connection.ticket) + "\n");
    } else {
        if (!private_dir.isValid()) {
            std::cerr << "Cannot create a private directory for the VNC password file: "
                      << private_dir.errorString().toStdString() << "\n";
            return exit_failed;
        }
        const QString password_file = private_dir.filePath(QStringLiteral("passwd"));
        QFile file(password_file);
        if (!file.open(QIODevice::WriteOnly) ||
            !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner) ||
            file.write(vnc_obfuscated_password(QByteArray::fromStdString(connection.ticket))) != 8) {
            std::cerr << "Cannot write the VNC password file: " << file.errorString().toStdString() << "\n";
            return exit_failed;
        }
        file.close();
        viewer.start(config.vnc_viewer, {QStringLiteral("-passwd"), password_file,
                                         QStringLiteral("%1::%2").arg(address).arg(connection.port)});
        if (!viewer.waitForStarted(10000)) {
            std::cerr << "Cannot start the VNC viewer " << config.vnc_viewer.toStdString() << ": "
                      << viewer.errorString().toStdString() << "\n";
            return exit_failed;
        }
    }
    viewer.closeWriteChannel();
    viewer.waitForFinished(-1);  // the user's session lasts as long as the viewer
    return viewer.exitStatus() == QProcess::NormalExit && viewer.exitCode() == 0 ? exit_ok : exit_failed;
}

}  // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("vdi-connect"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Log in to a VDI desktop from a terminal and open it in a viewer."));
    parser.addHelpOption();
    add_client_config_options(parser);
    parser.addOption({QStringLiteral("user"), QStringLiteral("The user name (asked for if not given)."), QStringLiteral("name")});
    parser.addOption({QStringLiteral("pool"), QStringLiteral("The pool to connect to (asked for if there are several)."),
                      QStringLiteral("name")});
    parser.addOption({QStringLiteral("json"), QStringLiteral("Print the connection as JSON instead of starting a viewer.")});
    parser.process(app);

    ClientConfig config;
    BrokerEndpoint endpoint;
    try {
        config = load_client_config(ClientConfigPaths::standard(), &parser);
        endpoint = config.endpoint();
    } catch (const ClientConfigError& e) {
        std::cerr << e.what() << "\n";
        return exit_usage;
    }
    std::optional<BrokerClient> client;
    try {
        client.emplace(endpoint, config.trust);
    } catch (const ClientConfigError& e) {
        std::cerr << e.what() << "\n";
        return exit_usage;
    }

    QString user = parser.value(QStringLiteral("user"));
    if (user.isEmpty()) {
        user = QString::fromStdString(read_line("User name: ", true)).trimmed();
    }
    std::string password = read_line("Password: ", false);

    BrokerError error;
    vdi::api::LoginResponse login;
    client->login(user, QString::fromStdString(password));
    password.assign(password.size(), '\0');
    if (!await(*client, &BrokerApi::loggedIn, login, &error)) {
        std::cerr << error.sentence().toStdString() << "\n";
        return error.kind == BrokerErrorKind::invalid_credentials || error.kind == BrokerErrorKind::locked ? exit_refused
                                                                                                            : exit_failed;
    }

    vdi::api::DesktopList list;
    client->list_desktops();
    if (!await(*client, &BrokerApi::desktopsListed, list, &error)) {
        std::cerr << error.sentence().toStdString() << "\n";
        return exit_failed;
    }
    // the choices: disconnected sessions first (to resume), then the other pools
    struct Choice {
        std::string pool;
        std::string label;
        std::string protocol;
    };
    std::vector<Choice> choices;
    for (const auto& session : list.sessions) {
        if (session.state == "disconnected") {
            choices.push_back({session.pool, "resume your desktop " + session.desktop + " (" + session.pool + ")",
                               session.protocol});
        }
    }
    const std::string preferred = protocol_name(config.protocol).toStdString();
    for (const auto& pool : list.pools) {
        bool resumable = false;
        for (const auto& c : choices) resumable = resumable || c.pool == pool.name;
        if (resumable || pool.protocols.empty()) continue;
        const bool offered = std::find(pool.protocols.begin(), pool.protocols.end(), preferred) != pool.protocols.end();
        choices.push_back({pool.name, pool.display_name + (pool.available ? "" : " (busy: no desktop ready)"),
                           offered ? preferred : pool.protocols.front()});
    }
    if (choices.empty()) {
        std::cerr << "You are not entitled to any desktop pool. Ask your administrator.\n";
        return exit_failed;
    }
    std::size_t chosen = 0;
    const QString wanted = parser.value(QStringLiteral("pool"));
    if (!wanted.isEmpty()) {
        chosen = choices.size();
        for (std::size_t i = 0; i < choices.size(); ++i) {
            if (choices[i].pool == wanted.toStdString()) chosen = i;
        }
        if (chosen == choices.size()) {
            std::cerr << "There is no pool \"" << wanted.toStdString() << "\" for you.\n";
            return exit_failed;
        }
    } else if (choices.size() > 1) {
        for (std::size_t i = 0; i < choices.size(); ++i) std::cerr << "  " << i + 1 << ") " << choices[i].label << "\n";
        for (;;) {
            const std::string prompt = "Desktop [1-" + std::to_string(choices.size()) + "]: ";
            const std::string answer = read_line(prompt.c_str(), true);
            if (!std::cin) return exit_failed;
            try {
                const auto n = std::stoul(answer);
                if (n >= 1 && n <= choices.size()) {
                    chosen = n - 1;
                    break;
                }
            } catch (const std::exception&) {
            }
            std::cerr << "Type a number from 1 to " << choices.size() << ".\n";
        }
    }

    vdi::api::ConnectResponse connection;
    client->connect_desktop(QString::fromStdString(choices[chosen].pool), QString::fromStdString(choices[chosen].protocol));
    if (!await(*client, &BrokerApi::desktopConnected, connection, &error)) {
        std::cerr << error.sentence().toStdString() << "\n";
        return exit_failed;
    }
    if (parser.isSet(QStringLiteral("json"))) {
        const nlohmann::json out = connection;
        std::cout << out.dump() << std::endl;
        return exit_ok;
    }
    std::cerr << "Opening " << connection.desktop << " (" << connection.protocol << ")...\n";
    return run_viewer(config, connection, user);
}

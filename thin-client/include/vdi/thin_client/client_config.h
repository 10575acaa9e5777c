// The thin client's configuration (vdi-thin-client and vdi-connect share it): /etc/vdi/thin-client.toml,
// then $XDG_CONFIG_HOME/vdi/thin-client.toml (default ~/.config), then the command line.
//
// File layout (every key optional; a later source overrides an earlier one key by key):
//   broker = "broker.example.org:8443"   # host, host:port or https URL (broker_endpoint.h)
//   ca_file = "/etc/vdi/broker-ca.pem"   # trust: verify the broker against this CA, or
//   pin_sha256 = "AB:CD:..."             #        accept exactly this leaf certificate (SHA-256, hex, colons optional)
//   protocol = "vnc"                      # preferred display protocol where a pool offers both: vnc | rdp
//   kiosk = false
//   terminal_name = "lab-3-seat-12"
//   admin_keys = "Ctrl+Alt+Shift+F12"     # the key sequence that leaves kiosk mode
//   vnc_viewer = "vncviewer"              # vdi-connect's viewers
//   rdp_viewer = "xfreerdp"
// Unknown keys and mistyped values are errors naming the file and the key.
// Errors: load_client_config throws ClientConfigError (a std::runtime_error) with a sentence for people.
// Thread-safety: plain functions and data; no shared state.
#pragma once

#include <QByteArray>
#include <QCommandLineParser>
#include <QString>
#include <QStringList>
#include <optional>
#include <stdexcept>

#include "vdi/thin_client/broker_endpoint.h"

namespace vdi::thin_client {

class ClientConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class DisplayProtocol { vnc, rdp };
QString protocol_name(DisplayProtocol protocol);  // "vnc" | "rdp"

// How the broker's certificate is trusted. Neither set: the system's CA store.
struct TrustConfig {
    QString ca_file;          // PEM file of CA certificates (replaces the system store)
    QByteArray pin_sha256;    // 32 bytes: the SHA-256 of the broker's leaf certificate (DER)
};

struct ClientConfig {
    QString broker;                       // as written; parse with endpoint()
    TrustConfig trust;
    DisplayProtocol protocol = DisplayProtocol::vnc;
    bool kiosk = false;
    QString terminal_name;                // default: the host name
    QString admin_keys = QStringLiteral("Ctrl+Alt+Shift+F12");
    QString vnc_viewer = QStringLiteral("vncviewer");
    QString rdp_viewer = QStringLiteral("xfreerdp");
    QStringList sources;                  // the files that were read, for messages and --check

    // The parsed broker address, or ClientConfigError.
    BrokerEndpoint endpoint() const;
};

// Where the files are looked for; tests point them elsewhere. Empty: that source is skipped.
struct ClientConfigPaths {
    QString system_file = QStringLiteral("/etc/vdi/thin-client.toml");
    QString user_file;  // empty: $XDG_CONFIG_HOME/vdi/thin-client.toml or ~/.config/vdi/thin-client.toml
    static ClientConfigPaths standard();
};

// "AB:cd:..." or "abcd..." (64 hex digits) -> 32 bytes; nullopt if it is not that.
std::optional<QByteArray> parse_sha256_hex(const QString& text);
// 32 bytes -> "AB:CD:...": how fingerprints are shown to people.
QString format_fingerprint(const QByteArray& sha256);

// The command-line options both programs take (--broker, --ca-file, --pin-sha256, --protocol,
// --kiosk, --terminal-name, --config FILE: read FILE instead of the user file).
void add_client_config_options(QCommandLineParser& parser);

// Reads the files that exist (a missing file is not an error; an unreadable or invalid one is),
// then applies the options `parser` has seen (after add_client_config_options and process/parse).
ClientConfig load_client_config(const ClientConfigPaths& paths, const QCommandLineParser* parser = nullptr);

// Applies one TOML document to `config` (`source` names it in errors). Used by load_client_config.
void apply_client_config_toml(ClientConfig& config, const QString& toml_text, const QString& source);

}  // namespace vdi::thin_client

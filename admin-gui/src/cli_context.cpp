// vdictl's connection to the broker: resolving broker, trust and token; calls and exit codes.
#include "cli_context.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "table.h"
#include "vdi/common/api/group.h"
#include "vdi/common/api/host.h"
#include "vdi/common/api/image.h"
#include "vdi/common/api/pool.h"
#include "vdi/common/api/user.h"

namespace vdi::admin {

namespace {

std::string lower(std::string text)
{
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

BrokerAddress parse_address(const std::string& text)
{
    try {
        return BrokerAddress::parse(text);
    } catch (const ConfigError& e) {
        throw CliExit(Exit::usage, e.what());
    }
}

}  // namespace

std::optional<std::size_t> CliContext::table_width() const
{
    if (options_.wide) return std::nullopt;
    return terminal_width();
}

BrokerAddress CliContext::login_address(const std::optional<StoredLogin>& stored) const
{
    if (options_.broker) return parse_address(*options_.broker);
    if (stored) return parse_address(stored->broker);
    throw CliExit(Exit::usage, "which broker? give --broker URL (or set $VDI_BROKER), e.g. --broker "
                               "https://broker.example.org:8443");
}

BrokerTrust CliContext::login_trust(const BrokerAddress& address, const std::optional<StoredLogin>& stored) const
{
    BrokerTrust trust;
    try {
        if (options_.ca_file && options_.pin) {
            throw CliExit(Exit::usage, "give --ca or --pin, not both");
        }
        if (options_.ca_file) {
            trust.ca_file = std::filesystem::absolute(*options_.ca_file);
        } else if (options_.pin) {
            trust.pin = normalize_fingerprint(*options_.pin);
        } else if (stored && stored->broker == address.url()) {
            if (stored->ca_file) trust.ca_file = *stored->ca_file;
            if (stored->pin) trust.pin = *stored->pin;
        }
    } catch (const ConfigError& e) {
        throw CliExit(Exit::usage, e.what());
    }
    return trust;
}

BrokerClient& CliContext::client()
{
    if (client_) return *client_;
    const char* env_token = std::getenv("VDI_TOKEN");
    std::string token = env_token != nullptr ? env_token : "";
    std::optional<StoredLogin> stored;
    try {
        stored = store().load();
    } catch (const Error& e) {
        // (a script with $VDI_TOKEN and $VDI_BROKER needs no stored login, broken or not)
        if (token.empty() || !options_.broker) throw CliExit(Exit::not_logged_in, e.what());
    }
    std::optional<BrokerAddress> address;
    if (options_.broker) {
        address = parse_address(*options_.broker);
    } else if (stored) {
        address = parse_address(stored->broker);
    }
    if (!address) {
        throw CliExit(Exit::not_logged_in, "not logged in: run 'vdictl login --broker URL' (scripts: set $VDI_BROKER "
                                           "and $VDI_TOKEN)");
    }
    if (token.empty()) {
        if (!stored) {
            throw CliExit(Exit::not_logged_in,
                          fmt::format("not logged in to {}: run 'vdictl login' (scripts: set $VDI_TOKEN)", address->url()));
        }
        if (stored->broker != address->url()) {
            // a token goes only to the broker that issued it
            throw CliExit(Exit::not_logged_in,
                          fmt::format("logged in to {}, not {}: run 'vdictl login --broker {}' (scripts: set "
                                      "$VDI_TOKEN)",
                                      stored->broker, address->url(), address->url()));
        }
        token = stored->token;
    }
    try {
        client_ = std::make_unique<BrokerClient>(*address, login_trust(*address, stored));
    } catch (const ConfigError& e) {
        throw CliExit(Exit::usage, e.what());
    }
    client_->set_token(token);
    authenticated_ = true;
    return *client_;
}

nlohmann::json CliContext::call(std::string_view method, const std::string& target,
                                const std::optional<nlohmann::json>& body)
{
    BrokerClient& broker = client();
    BrokerResponse response;
    try {
        response = broker.request(method, target, body);
    } catch (const BrokerUnreachable& e) {
        throw_unreachable(e);
    }
    raw_body_ = response.body;
    if (!response.ok()) throw_refusal(response, authenticated_);
    try {
        return response.json();
    } catch (const Error& e) {
        throw CliExit(Exit::failed, e.what());
    }
}

void CliContext::print_raw() const
{
    std::cout << raw_body_ << "\n";
}

long long CliContext::resolve(const std::string& kind, const std::string& ref)
{
    const bool numeric = !ref.empty() && ref.size() < 19 && ref.find_first_not_of("0123456789") == std::string::npos;
    // by name first, then by id: a name made of digits still names its object
    const auto find = [&](const auto& rows, const auto& matches) -> std::optional<api::Id> {
        for (const auto& row : rows) {
            if (matches(row)) return row.id;
        }
        if (numeric) {
            for (const auto& row : rows) {
                if (std::to_string(row.id) == ref) return row.id;
            }
        }
        return std::nullopt;
    };
    std::optional<api::Id> found;
    if (kind == "user") {
        found = find(get<std::vector<api::User>>("/api/v1/admin/users"),
                     [&](const api::User& u) { return lower(u.username) == lower(ref); });  // as logins are
    } else if (kind == "group") {
        found = find(get<std::vector<api::Group>>("/api/v1/admin/groups"),
                     [&](const api::Group& g) { return g.name == ref; });
    } else if (kind == "pool") {
        found = find(get<std::vector<api::Pool>>("/api/v1/admin/pools"), [&](const api::Pool& p) { return p.name == ref; });
    } else if (kind == "host") {
        found = find(get<std::vector<api::Host>>("/api/v1/admin/hosts"), [&](const api::Host& h) { return h.name == ref; });
    } else if (kind == "image") {
        // NAME: its newest version; NAME:VERSION
        const auto images = get<std::vector<api::Image>>("/api/v1/admin/images");
        int newest = 0;
        for (const auto& image : images) {
            if (image.name == ref && image.version > newest) {
                newest = image.version;
                found = image.id;
            }
        }
        if (!found) {
            found = find(images, [&](const api::Image& i) { return i.name + ":" + std::to_string(i.version) == ref; });
        }
    } else {
        throw std::logic_error("resolve: unknown kind " + kind);
    }
    if (!found) {
        throw CliExit(Exit::refused, fmt::format("no {} named '{}' (see 'vdictl {} list')", kind, ref, kind));
    }
    return *found;
}

void throw_unreachable(const BrokerUnreachable& e)
{
    std::string hint;
    switch (e.reason()) {
    case BrokerUnreachable::Reason::untrusted_certificate:
        hint = fmt::format("; if it is the broker's certificate, trust it with --ca FILE (the broker's tls.crt, or "
                           "the CA that signed it) or, once you have checked the fingerprint, --pin {}",
                           e.fingerprint_seen());
        break;
    case BrokerUnreachable::Reason::pin_mismatch:
        hint = "; if the broker's certificate was replaced on purpose, check the new fingerprint and log in again with "
               "--pin";
        break;
    default:
        break;
    }
    throw CliExit(Exit::unreachable, e.what() + hint);
}

void throw_refusal(const BrokerResponse& response, bool authenticated)
{
    const auto error = response.error();
    const std::string message = error ? error->message : response.body.substr(0, 200);
    const std::string code = error ? error->code : "";
    const std::string detail = fmt::format("{} ({}{}{})", message, response.status, code.empty() ? "" : " ", code);
    if (response.status == 401 && authenticated) {
        throw CliExit(Exit::not_logged_in,
                      "the broker no longer accepts the login (expired, revoked, or the account disabled): " + detail +
                          "; run 'vdictl login'");
    }
    if (response.status >= 400 && response.status < 500) {
        std::string retry;
        if (const auto after = response.headers.find("retry-after"); after != response.headers.end()) {
            retry = "; retry after " + after->second + " s";
        }
        throw CliExit(Exit::refused, "the broker refused: " + detail + retry);
    }
    std::string retry;
    if (const auto after = response.headers.find("retry-after"); after != response.headers.end()) {
        retry = "; retry after " + after->second + " s";
    }
    throw CliExit(Exit::broker_failed, "the broker failed: " + detail + retry);
}

std::string url_encode(const std::string& value)
{
    std::string out;
    for (const unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

}  // namespace vdi::admin

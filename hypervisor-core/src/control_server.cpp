// JSON-lines control socket of vdi-vmm.
#include "vdi/hv/control_server.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "vdi/hv/devices/ps2_keymap.h"

namespace vdi::hv {
namespace {

std::string base64(const std::vector<std::uint8_t>& data)
{
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    std::string out(sodium_base64_ENCODED_LEN(data.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), variant);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::string random_seed_hex()
{
    std::uint8_t seed[32];
    if (getrandom(seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
        throw HvError("the host could not provide random bytes for the guest's seed");
    }
    std::string hex;
    for (std::uint8_t b : seed) {
        hex += fmt::format("{:02x}", b);
    }
    return hex;
}

void tap(I8042& input, Set2Key key, bool shift)
{
    if (shift) {
        input.key(key_left_shift.code, key_left_shift.extended, true);
    }
    input.key(key.code, key.extended, true);
    input.key(key.code, key.extended, false);
    if (shift) {
        input.key(key_left_shift.code, key_left_shift.extended, false);
    }
}

}  // namespace

ControlServer::ControlServer(Machine& machine, std::filesystem::path socket_path, std::vector<DisplayServer*> displays)
    : handler_(machine, std::move(displays)), path_(std::move(socket_path))
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.string().size() >= sizeof(address.sun_path)) {
        throw HvError(fmt::format("control socket path {} is too long (max {} bytes)", path_.string(),
                                  sizeof(address.sun_path) - 1));
    }
    std::strcpy(address.sun_path, path_.c_str());
    listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ::unlink(path_.c_str());
    const mode_t old_mask = ::umask(0177);
    const int rc = ::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::umask(old_mask);
    if (rc != 0 || ::listen(listen_fd_.get(), 8) != 0) {
        throw HvError(fmt::format("cannot listen on control socket {}: {}", path_.string(), std::strerror(errno)));
    }
    int wake[2];
    if (::pipe2(wake, O_CLOEXEC) != 0) {
        throw HvError(fmt::format("cannot create the control server's wake-up pipe: {}", std::strerror(errno)));
    }
    wake_read_.reset(wake[0]);
    wake_write_.reset(wake[1]);
    thread_ = std::thread([this] { serve(); });
}

ControlServer::~ControlServer()
{
    stopping_ = true;
    [[maybe_unused]] auto n = ::write(wake_write_.get(), "x", 1);
    thread_.join();
    ::unlink(path_.c_str());
}

void ControlServer::serve()
{
    while (!stopping_) {
        pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (fds[1].revents) {
            break;
        }
        if (fds[0].revents & POLLIN) {
            const UniqueFd client(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (client) {
                serve_client(client.get());
            }
        }
    }
}

void ControlServer::serve_client(int fd)
{
    // one client at a time, as Firecracker's API thread does; a client that stalls is dropped
    std::string buffer;
    char chunk[4096];
    while (!stopping_) {
        pollfd fds[2] = {{fd, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
        const int ready = ::poll(fds, 2, 60000);
        if (ready <= 0 || fds[1].revents) {
            return;
        }
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) {
            return;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        std::size_t newline;
        while ((newline = buffer.find('\n')) != std::string::npos) {
            const std::string line = buffer.substr(0, newline);
            buffer.erase(0, newline + 1);
            nlohmann::json response;
            try {
                response = handler_.handle(nlohmann::json::parse(line));
            } catch (const nlohmann::json::exception& e) {
                response = {{"ok", false}, {"error", std::string("malformed request: ") + e.what()}};
            }
            const std::string out = response.dump() + "\n";
            std::size_t sent = 0;
            while (sent < out.size()) {
                const ssize_t w = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
                if (w <= 0) {
                    return;
                }
                sent += static_cast<std::size_t>(w);
            }
        }
        if (buffer.size() > max_request) {
            const std::string out = R"({"ok":false,"error":"request too long"})" "\n";
            [[maybe_unused]] auto w = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
            return;
        }
    }
}

// The closed set of commands: one row each, in the order of the header's comment.
const std::vector<ControlServer::Handler::Command>& ControlServer::Handler::table()
{
    using T = Type;
    static const std::vector<Command> commands = {
        {"status", {}, &Handler::status},
        {"pause", {}, &Handler::pause},
        {"resume", {}, &Handler::resume},
        {"stop", {}, &Handler::stop},
        {"screenshot", {{"path", T::string, false}}, &Handler::screenshot},
        {"key", {{"code", T::integer, true}, {"extended", T::boolean, false}, {"down", T::boolean, false}}, &Handler::key},
        {"type", {{"text", T::string, true}}, &Handler::type},
        {"mouse", {{"dx", T::integer, false}, {"dy", T::integer, false}, {"buttons", T::integer, false}}, &Handler::mouse},
        {"identity",
         {{"host", T::string, false}, {"user", T::string, true}, {"seed", T::string, false}, {"time_ms", T::integer, false}},
         &Handler::identity},
        {"notice", {{"text", T::string, true}}, &Handler::notice},
        {"snapshot", {{"dir", T::string, true}}, &Handler::snapshot},
        {"display_ticket",
         {{"protocol", T::string, true},
          {"ticket", T::string, true},
          {"ttl_s", T::integer, false},
          {"trace", T::integer, false}},
         &Handler::display_ticket},
        {"display_events", {}, &Handler::display_events},
    };
    return commands;
}

namespace {

const char* type_name(ControlServer::Handler::Type type)
{
    switch (type) {
    case ControlServer::Handler::Type::string: return "a string";
    case ControlServer::Handler::Type::integer: return "an integer";
    case ControlServer::Handler::Type::boolean: return "true or false";
    }
    return "?";
}

bool has_type(const nlohmann::json& value, ControlServer::Handler::Type type)
{
    switch (type) {
    case ControlServer::Handler::Type::string: return value.is_string();
    case ControlServer::Handler::Type::integer: return value.is_number_integer();
    case ControlServer::Handler::Type::boolean: return value.is_boolean();
    }
    return false;
}

nlohmann::json refused(const std::string& error)
{
    return {{"ok", false}, {"error", error}};
}

}  // namespace

nlohmann::json ControlServer::Handler::handle(const nlohmann::json& request)
{
    if (!request.is_object() || !request.contains("cmd") || !request["cmd"].is_string()) {
        return refused("a request is an object with a string \"cmd\"");
    }
    const std::string& name = request["cmd"].get_ref<const std::string&>();
    const auto& commands = table();
    const auto command = std::find_if(commands.begin(), commands.end(),
                                      [&](const Command& c) { return name == c.name; });
    if (command == commands.end()) {
        std::string known;
        for (const Command& c : commands) known += (known.empty() ? "" : ", ") + std::string(c.name);
        return refused("unknown cmd '" + name + "' (the commands are " + known + ")");
    }
    for (const Argument& argument : command->arguments) {
        const auto it = request.find(argument.name);
        if (it == request.end()) {
            if (argument.required) {
                return refused(fmt::format("bad arguments: {} needs \"{}\" ({})", command->name, argument.name,
                                           type_name(argument.type)));
            }
        } else if (!has_type(*it, argument.type)) {
            return refused(fmt::format("bad arguments: \"{}\" of {} must be {}", argument.name, command->name,
                                       type_name(argument.type)));
        }
    }
    try {
        return (this->*(command->run))(request);
    } catch (const nlohmann::json::exception& e) {
        return refused(std::string("bad arguments: ") + e.what());
    } catch (const std::exception& e) {
        return refused(e.what());
    }
}

nlohmann::json ControlServer::Handler::status(const nlohmann::json&)
{
    auto& fb = machine_.framebuffer();
    // steady_clock is CLOCK_MONOTONIC, comparable across processes on this host
    auto monotonic_ns = [](std::optional<std::chrono::steady_clock::time_point> t) -> nlohmann::json {
        if (!t) {
            return nullptr;
        }
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count();
    };
    const auto idle = machine_.input().since_last_input();
    nlohmann::json displays = nlohmann::json::object();
    for (const DisplayServer* display : displays_) {
        displays[display->protocol()] = {{"port", display->port()}, {"clients", display->clients()}};
    }
    nlohmann::json regions = nlohmann::json::array();
    for (const auto& r : machine_.memory().regions()) {
        regions.push_back(
            {{"name", r.name}, {"host_address", reinterpret_cast<std::uintptr_t>(r.host)}, {"size", r.size}});
    }
    return {{"ok", true},
            {"timings",
             {{"vcpus_started_monotonic_ns", monotonic_ns(machine_.start_time())},
              {"first_exit_monotonic_ns", monotonic_ns(machine_.first_exit_time())},
              {"first_ready_monotonic_ns", monotonic_ns(machine_.agent().first_ready_time())}}},
            {"memory_regions", regions},
            {"displays", displays},
            {"state", to_string(machine_.state())},
            {"vcpus", machine_.config().vcpus},
            {"memory_mib", machine_.config().memory_mib},
            {"framebuffer", {{"width", fb.width()}, {"height", fb.height()}}},
            {"kernel", machine_.kernel().format},
            {"agent_ready", machine_.agent().ready_count()},
            {"identity_ready", machine_.agent().identity_ready()},
            {"identity", identity_status()},
            {"agent_version", machine_.agent().agent_version()},
            {"input_idle_ms", idle ? nlohmann::json(std::chrono::duration_cast<std::chrono::milliseconds>(*idle).count())
                                   : nlohmann::json(nullptr)}};
}

nlohmann::json ControlServer::Handler::identity_status() const
{
    const auto last = machine_.agent().last_identity();
    if (!last) {
        return nullptr;
    }
    return {{"host", last->hostname}, {"user", last->user}};
}

nlohmann::json ControlServer::Handler::pause(const nlohmann::json&)
{
    machine_.pause();
    return {{"ok", true}, {"state", to_string(machine_.state())}};
}

nlohmann::json ControlServer::Handler::resume(const nlohmann::json&)
{
    machine_.resume();
    return {{"ok", true}, {"state", to_string(machine_.state())}};
}

nlohmann::json ControlServer::Handler::stop(const nlohmann::json&)
{
    machine_.request_stop("stopped through the control socket");
    return {{"ok", true}};
}

nlohmann::json ControlServer::Handler::screenshot(const nlohmann::json& request)
{
    const auto png = machine_.framebuffer().to_png();
    if (request.contains("path")) {
        const std::string path = request["path"];
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
        out.close();  // a failed flush (a full disk) shows only here
        if (!out) {
            return refused("cannot write " + path);
        }
        return {{"ok", true}, {"path", path}, {"bytes", png.size()}};
    }
    return {{"ok", true}, {"png_base64", base64(png)}};
}

nlohmann::json ControlServer::Handler::key(const nlohmann::json& request)
{
    const auto code = request.at("code").get<long long>();
    if (code < 1 || code > 0xff) {
        return refused("key code must be 1..255 (scancode set 2)");
    }
    machine_.input().key(static_cast<std::uint8_t>(code), request.value("extended", false), request.value("down", true));
    return {{"ok", true}};
}

nlohmann::json ControlServer::Handler::type(const nlohmann::json& request)
{
    const std::string text = request.at("text").get<std::string>();
    for (char c : text) {
        if (!key_for_char(c)) {
            return refused(fmt::format("no US key types character code {}", int(c)));
        }
    }
    for (char c : text) {
        const auto key = key_for_char(c);
        tap(machine_.input(), key->key, key->shift);
    }
    return {{"ok", true}, {"keys", text.size()}};
}

nlohmann::json ControlServer::Handler::mouse(const nlohmann::json& request)
{
    machine_.input().mouse_motion(request.value("dx", 0), request.value("dy", 0),
                                  static_cast<std::uint8_t>(request.value("buttons", 0)));
    return {{"ok", true}};
}

namespace {
constexpr std::chrono::milliseconds identity_cleared_timeout{1500};  // under the host agent's 2 s
}

nlohmann::json ControlServer::Handler::identity(const nlohmann::json& request)
{
    GuestIdentity identity;
    if (request.contains("host")) {
        identity.hostname = request["host"].get<std::string>();
    } else if (const auto last = machine_.agent().last_identity()) {
        identity.hostname = last->hostname;  // a new user for the same desktop
    } else {
        return refused("bad arguments: the first identity needs \"host\"");
    }
    identity.user = request.at("user").get<std::string>();
    identity.seed_hex = request.contains("seed") ? request["seed"].get<std::string>() : random_seed_hex();
    identity.time_ms = request.value(
        "time_ms",
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    // Taking a user's name away (a logoff) answers once the guest has drawn "nobody" (its
    // "ready"), at most identity_cleared_timeout: the host agent tells the desktop before it
    // serves the next connect, so the next user's first picture cannot show the previous name.
    // Giving a name (a connect) answers at once: the host agent serves its desktops one at a time
    // and must not wait for a guest on every connect.
    const auto last = machine_.agent().last_identity();
    const bool clearing = identity.user.empty() && last && !last->user.empty();
    const std::uint64_t drawn = machine_.agent().ready_count() + 1;
    machine_.agent().send_identity(identity);
    if (clearing) {
        return {{"ok", true}, {"shown", machine_.agent().wait_ready(drawn, identity_cleared_timeout)}};
    }
    return {{"ok", true}};
}

nlohmann::json ControlServer::Handler::notice(const nlohmann::json& request)
{
    machine_.agent().send_notice(request.at("text").get<std::string>());
    return {{"ok", true}};
}

nlohmann::json ControlServer::Handler::snapshot(const nlohmann::json& request)
{
    const std::string dir = request.at("dir").get<std::string>();
    const auto started = std::chrono::steady_clock::now();
    machine_.snapshot(dir);
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
    return {{"ok", true}, {"dir", dir}, {"ms", ms.count()}};
}

nlohmann::json ControlServer::Handler::display_ticket(const nlohmann::json& request)
{
    const std::string protocol = request.at("protocol").get<std::string>();
    const std::string ticket = request.at("ticket").get<std::string>();
    const int ttl = request.value("ttl_s", 60);
    if (ttl < 1 || ttl > 3600) {
        return refused("ttl_s must be 1..3600");
    }
    const std::int64_t trace = request.value("trace", std::int64_t{0});
    if (trace < 0) {
        return refused("trace must be a trace id (0 or more)");
    }
    for (DisplayServer* display : displays_) {
        if (display->protocol() == protocol) {
            display->set_ticket(ticket, std::chrono::seconds(ttl), trace);
            return {{"ok", true}};
        }
    }
    return refused("this VM serves no " + protocol + " display");
}

nlohmann::json ControlServer::Handler::display_events(const nlohmann::json&)
{
    nlohmann::json traces = nlohmann::json::array();
    for (DisplayServer* display : displays_) {
        for (const auto& trace : display->take_traces()) {
            nlohmann::json stages = nlohmann::json::array();
            for (const auto& s : trace.stages) stages.push_back(nlohmann::json::array({s.name, s.start_us, s.duration_us}));
            traces.push_back({{"trace", trace.trace_id}, {"protocol", trace.protocol}, {"stages", std::move(stages)}});
        }
    }
    return {{"ok", true}, {"traces", std::move(traces)}};
}

}  // namespace vdi::hv

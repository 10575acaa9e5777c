// Broker test harness.
#include "broker_harness.h"

#include <csignal>
#include <fstream>

#include <unistd.h>

#include "vdi/common/crypto.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/listener.h"
#include "vdi/common/db/ticket_repository.h"

namespace vdi::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

BrokerProcess::BrokerProcess(const std::string& dsn, const std::string& name, const std::string& extra_config,
                             const BrokerProcess* same_tls_as, const std::string& broker_keys)
{
    static int counter = 0;
    dir_ = fs::temp_directory_path() / ("vdi-broker-test-" + std::to_string(::getpid()) + "-" + name + "-" +
                                        std::to_string(++counter));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    certificate_ = dir_ / "tls.crt";
    if (same_tls_as != nullptr) {
        fs::copy_file(same_tls_as->dir() / "tls.crt", dir_ / "tls.crt");
        fs::copy_file(same_tls_as->dir() / "tls.key", dir_ / "tls.key");
    }
    const fs::path config = dir_ / "broker.toml";
    {
        std::ofstream out(config);
        out << "[database]\ndsn = \"" << dsn << "\"\n[log]\nlevel = \"warn\"\n"
            << "[broker]\nlisten = \"127.0.0.1:0\"\ncertificate = \"" << certificate_.string() << "\"\n"
            << "private_key = \"" << (dir_ / "tls.key").string() << "\"\ngenerate_certificate = true\n"
            << "ticket_delivery_timeout_ms = 3000\nretry_after_s = 2\n" << broker_keys << "\n"
            << (extra_config.find("[broker.argon2]") == std::string::npos
                    ? "[broker.argon2]\nops_limit = 1\nmem_limit_kib = 8\n"  // cheap, unless the caller sets a cost
                    : "")
            << extra_config << "\n";  // (more [broker.*] tables: throttle, limits)
    }
    const fs::path port_file = dir_ / "port";
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{VDI_BROKER, "--config", config.string(), "--port-file", port_file.string()},
        (dir_ / "broker.log").string());
    if (!wait_until([&] { return fs::exists(port_file); }, 30s)) {
        throw std::runtime_error("vdi-broker did not start: " + read_text_file((dir_ / "broker.log").string()));
    }
    port_ = static_cast<unsigned short>(std::stoi(read_text_file(port_file.string())));
}

BrokerProcess::~BrokerProcess()
{
    process_->signal(SIGTERM);
    process_->wait(15s);
    process_.reset();
    fs::remove_all(dir_);
}

std::unique_ptr<HttpsClient> BrokerProcess::client() const
{
    return std::make_unique<HttpsClient>("127.0.0.1", port_, certificate_);
}

std::string BrokerProcess::log() const
{
    return read_text_file((dir_ / "broker.log").string());
}

TicketAcker::TicketAcker(const std::string& dsn, db::Id host_id) : dsn_(dsn), host_id_(host_id)
{
    thread_ = std::thread([this] { loop(); });
    wait_until([&] { return listening_.load(); }, 10s);
}

TicketAcker::~TicketAcker()
{
    stop_ = true;
    thread_.join();
}

std::vector<std::string> TicketAcker::received()
{
    std::lock_guard lock(mutex_);
    return received_;
}

void TicketAcker::fail_with(const std::string& error)
{
    std::lock_guard lock(mutex_);
    error_ = error;
}

void TicketAcker::loop()
{
    auto connection = db::connect(dsn_, "test-ticket-acker");
    std::vector<std::string> queue;
    db::Listener tickets(*connection, "vdi_tickets_" + std::to_string(host_id_),
                         [&queue](const std::string& payload) { queue.push_back(payload); });
    listening_ = true;
    while (!stop_) {
        connection->await_notification(0, 50'000);
        if (paused_) {
            queue.clear();
            continue;
        }
        std::vector<std::string> batch;
        batch.swap(queue);
        for (const auto& payload : batch) {
            const auto message = nlohmann::json::parse(payload);
            const std::string ticket = message["ticket"];
            std::string error;
            {
                std::lock_guard lock(mutex_);
                received_.push_back(ticket);
                error = error_;
            }
            // (as the host agent does: two statements, each its own transaction)
            db::in_autocommit(*connection, "acknowledge a ticket", [&](pqxx::nontransaction& tx) {
                db::TicketRepository tickets(tx);
                const auto checking = std::chrono::steady_clock::now();
                if (tickets.find_for_delivery(message["ticket_id"].get<db::Id>(), sha256_hex(ticket))) {
                    // a stage of its own, as the host agent reports them
                    const auto checked = std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - checking)
                                             .count();
                    tickets.record_delivery(message["ticket_id"].get<db::Id>(),
                                            error.empty() ? std::nullopt : std::optional<std::string>(error),
                                            nlohmann::json::array({nlohmann::json::array({"ticket_check", 0, checked})})
                                                .dump());
                }
            });
        }
    }
}

db::Host make_host(pqxx::transaction_base& tx, const std::string& name)
{
    return db::HostRepository(tx).register_host({name, "127.0.0.1", 64, 262144, 4, "test"});
}

std::vector<db::Desktop> make_ready_desktops(pqxx::transaction_base& tx, const db::Pool& pool, const db::Host& host,
                                             int count, const std::string& prefix)
{
    db::DesktopRepository desktops(tx);
    std::vector<db::Desktop> out;
    for (int i = 0; i < count; ++i) {
        auto desktop = desktops.create({pool.id, prefix + "-" + std::to_string(i), pool.golden_image_id, host.id});
        db::ActualReport report;
        report.generation = desktop.generation;
        report.state = db::DesktopActualState::running;
        report.vnc_port = 5900 + i % 1000;
        report.rdp_port = 13389 + i % 1000;
        if (!desktops.report_actual(desktop.id, report) || !desktops.mark_guest_ready(desktop.id, desktop.generation)) {
            throw std::logic_error("could not make desktop ready");
        }
        out.push_back(*desktops.find(desktop.id));
    }
    return out;
}

db::User make_user_with_password(pqxx::transaction_base& tx, const std::string& username, const std::string& password,
                                 db::UserRole role)
{
    return db::UserRepository(tx).create(
        {username, "User " + username, hash_password(password, {1, 8192}), role});
}

}  // namespace vdi::test

namespace vdi::test {

void make_storm_users(pqxx::transaction_base& tx, const db::Pool& pool, int users)
{
    db::UserRepository repository(tx);
    const auto group = repository.create_group("storm-" + pool.name);
    db::PoolRepository(tx).entitle_group(pool.id, group.id);
    for (int i = 0; i < users; ++i) {
        const auto user = make_user_with_password(tx, "user-" + std::to_string(i), "pw-" + std::to_string(i));
        repository.add_member(group.id, user.id);
    }
}

StormResult run_logon_storm(const std::vector<unsigned short>& ports, const std::filesystem::path& certificate,
                            const std::string& pool, int users, int threads)
{
    StormResult result;
    std::mutex mutex;
    std::atomic<int> next{0};
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = next++; i < users; i = next++) {
                std::string failure;
                std::string desktop;
                try {
                    HttpsClient client("127.0.0.1", ports[static_cast<std::size_t>(i + t) % ports.size()], certificate);
                    const auto login = client.post("/api/v1/login", {{"user", "user-" + std::to_string(i)},
                                                                     {"password", "pw-" + std::to_string(i)}});
                    if (login.status != 200) {
                        failure = "login " + std::to_string(login.status) + " " + login.body;
                    } else {
                        const std::string token = login.json()["token"];
                        const auto connect =
                            client.post("/api/v1/desktops/" + pool + "/connect", {{"protocol", "vnc"}}, token);
                        if (connect.status != 200) {
                            failure = "connect " + std::to_string(connect.status) + " " + connect.body;
                        } else {
                            desktop = connect.json()["desktop"];
                        }
                    }
                } catch (const std::exception& e) {
                    failure = e.what();
                }
                std::lock_guard lock(mutex);
                if (failure.empty()) {
                    ++result.succeeded;
                    ++result.desktops_given[desktop];
                } else {
                    ++result.failed;
                    if (result.failures.size() < 5) result.failures.push_back(failure);
                }
            }
        });
    }
    for (auto& worker : workers) worker.join();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
}

}  // namespace vdi::test

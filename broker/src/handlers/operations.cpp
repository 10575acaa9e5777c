// The operational endpoints: /healthz, /readyz and /metrics (Prometheus text).
#include <boost/beast/http/field.hpp>
#include <fmt/format.h>

#include "handler_support.h"
#include "vdi/broker/api.h"
#include "vdi/common/db/desktop_repository.h"

namespace vdi::broker {

namespace http = boost::beast::http;

Api::Reply Api::healthz(const Call&)
{
    return {200, api::Status{"ok"}};
}

Api::Reply Api::readyz(const Call&)
{
    if (!database_ready()) {
        throw ApiError(503, "not_ready", "the database is unreachable", settings_.retry_after_s);
    }
    return {200, api::Status{"ready"}};
}

Api::Reply Api::metrics(const Call&)
{
    Reply reply;
    reply.response = HttpResponse{http::status::ok, 11};
    reply.response->set(http::field::content_type, "text/plain; version=0.0.4");
    reply.response->body() = metrics_text();
    return reply;
}

bool Api::database_ready()
{
    try {
        auto lease = pool_.acquire();
        pqxx::nontransaction tx(*lease);
        tx.exec("SELECT 1");
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

std::string Api::metrics_text()
{
    std::string extra;
    try {
        auto lease = pool_.acquire();
        pqxx::nontransaction tx(*lease);
        const auto pools = db::DesktopRepository(tx).gauges_by_pool();
        extra += "# HELP vdi_pool_ready_desktops Desktops ready to hand out, per pool.\n"
                 "# TYPE vdi_pool_ready_desktops gauge\n";
        for (const auto& pool : pools) {
            extra += fmt::format("vdi_pool_ready_desktops{{pool=\"{}\"}} {}\n", pool.pool, pool.ready);
        }
        extra += "# HELP vdi_pool_in_use_desktops Desktops assigned to users, per pool.\n"
                 "# TYPE vdi_pool_in_use_desktops gauge\n";
        for (const auto& pool : pools) {
            extra += fmt::format("vdi_pool_in_use_desktops{{pool=\"{}\"}} {}\n", pool.pool, pool.in_use);
        }
        extra += "# HELP vdi_broker_database_up Whether the database answered this scrape.\n"
                 "# TYPE vdi_broker_database_up gauge\nvdi_broker_database_up 1\n";
    } catch (const std::exception&) {
        extra += "# HELP vdi_broker_database_up Whether the database answered this scrape.\n"
                 "# TYPE vdi_broker_database_up gauge\nvdi_broker_database_up 0\n";
    }
    extra += fmt::format("# HELP vdi_broker_ticket_listener_up Whether ticket acknowledgements are being received.\n"
                         "# TYPE vdi_broker_ticket_listener_up gauge\nvdi_broker_ticket_listener_up {}\n",
                         tickets_.listening() ? 1 : 0);
    return metrics_.render(extra);
}

}  // namespace vdi::broker

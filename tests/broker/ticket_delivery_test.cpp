// TicketDelivery without a database: acks that come before or after their handler, timeouts,
// and acks nobody asks for.
#include <catch2/catch.hpp>

#include "vdi/broker/ticket_delivery.h"

using vdi::broker::TicketAck;
using vdi::broker::TicketDelivery;
using namespace std::chrono_literals;

namespace {

std::string ack(long long id, bool ok, const std::string& error = "")
{
    return "{\"ticket_id\": " + std::to_string(id) + ", \"ok\": " + (ok ? "true" : "false") +
           (error.empty() ? "" : ", \"error\": \"" + error + "\"") + "}";
}

}  // namespace

TEST_CASE("ticket delivery: each handler is called once, with its own ticket's ack", "[broker][unit]")
{
    TicketDelivery tickets("");
    std::vector<std::pair<int, std::optional<TicketAck>>> calls;
    const auto record = [&](int which) { return [&calls, which](std::optional<TicketAck> a) { calls.emplace_back(which, a); }; };

    // registered first, acknowledged later
    tickets.on_ack(1, 5s, record(1));
    tickets.on_ack(2, 5s, record(2));
    CHECK(calls.empty());
    CHECK(tickets.waiting() == 2);
    tickets.deliver(ack(2, false, "the VMM refused the ticket"));
    tickets.deliver(ack(1, true));
    REQUIRE(calls.size() == 2);
    CHECK(calls[0].first == 2);
    CHECK_FALSE(calls[0].second->ok);
    CHECK(calls[0].second->error == "the VMM refused the ticket");
    CHECK(calls[1].first == 1);
    CHECK(calls[1].second->ok);
    CHECK(tickets.waiting() == 0);

    // a second ack for the same ticket reaches nobody
    tickets.deliver(ack(1, true));
    CHECK(calls.size() == 2);
}

TEST_CASE("ticket delivery: an ack that comes before its handler is held for it", "[broker][unit]")
{
    TicketDelivery tickets("");
    tickets.deliver(ack(7, true));
    CHECK(tickets.held() == 1);
    std::optional<TicketAck> got;
    bool called = false;
    tickets.on_ack(7, 5s, [&](std::optional<TicketAck> a) {
        called = true;
        got = a;
    });
    REQUIRE(called);  // at once, on this thread
    CHECK(got->ok);
    CHECK(tickets.held() == 0);
    CHECK(tickets.waiting() == 0);
}

TEST_CASE("ticket delivery: no ack in time gives nullopt, and unclaimed acks are forgotten", "[broker][unit]")
{
    TicketDelivery tickets("", 1s);
    int timeouts = 0;
    tickets.on_ack(3, 100ms, [&](std::optional<TicketAck> a) { timeouts += a ? 0 : 1; });
    tickets.expire(TicketDelivery::Clock::now());
    CHECK(timeouts == 0);
    tickets.expire(TicketDelivery::Clock::now() + 150ms);
    CHECK(timeouts == 1);
    CHECK(tickets.waiting() == 0);
    tickets.deliver(ack(3, true));  // too late: held, then forgotten
    CHECK(timeouts == 1);

    // malformed payloads change nothing
    tickets.deliver("not json");
    tickets.deliver("{\"ticket_id\": \"x\"}");
    CHECK(tickets.held() == 1);
    tickets.expire(TicketDelivery::Clock::now() + 2s);
    CHECK(tickets.held() == 0);

    // stop() drops waiting handlers without calling them
    bool called = false;
    tickets.on_ack(4, 5s, [&](std::optional<TicketAck>) { called = true; });
    tickets.stop();
    CHECK(tickets.waiting() == 0);
    CHECK_FALSE(called);
}

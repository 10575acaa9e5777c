// What every handler file shares: a transaction on a pooled connection, the audit record, and
// the paging of the list endpoints.
#pragma once

#include <string_view>

#include "../audit.h"
#include "vdi/broker/api_request.h"
#include "vdi/broker/connection_pool.h"
#include "vdi/common/api/json.h"
#include "vdi/common/db/database.h"

namespace vdi::broker {

// Runs `fn(tx)` in a transaction on a connection of `pool` (see db::in_transaction).
template <typename Fn>
auto transact(ConnectionPool& pool, std::string_view doing, Fn&& fn)
{
    auto lease = pool.acquire();
    return db::in_transaction(*lease, doing, std::forward<Fn>(fn));
}

// Paging of a list endpoint: ?limit= (1-1000, default 100) and ?before=ID (entries with
// smaller ids); 400 for anything else.
inline db::Page page_of(const ParsedRequest& request)
{
    db::Page page;
    page.limit = static_cast<int>(query_int(request, "limit", 1, 1000).value_or(100));
    page.before = query_int(request, "before", 1, 9'000'000'000'000'000'000LL);
    return page;
}

}  // namespace vdi::broker

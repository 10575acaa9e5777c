// What every handler file shares: a transaction on a pooled connection, and the audit record.
#pragma once

#include <string_view>

#include "../audit.h"
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

}  // namespace vdi::broker

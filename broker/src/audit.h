// Writing the audit log from API handlers (inside the handler's transaction, so an action and
// its record commit together).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "vdi/broker/api.h"
#include "vdi/common/db/audit_repository.h"

namespace vdi::broker {

inline void audit(pqxx::transaction_base& tx, const Api::Caller& caller, const std::string& action,
                  const std::string& target_type, const std::string& target_id,
                  nlohmann::json details = nlohmann::json::object(), bool success = true)
{
    db::AuditEntry entry;
    entry.actor_user_id = caller.user.id;
    entry.actor = caller.user.username;
    entry.action = action;
    entry.target_type = target_type;
    entry.target_id = target_id;
    entry.success = success;
    entry.source_address = caller.address;
    entry.details = std::move(details);
    db::AuditRepository(tx).append(entry);
}

}  // namespace vdi::broker

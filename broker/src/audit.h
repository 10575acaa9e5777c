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
    db::AuditRepository(tx).append(db::AuditEntry::of({caller.user.id, caller.user.username, caller.address}, action,
                                                       target_type, target_id, std::move(details), success));
}

}  // namespace vdi::broker

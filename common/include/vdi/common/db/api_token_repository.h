// Bearer tokens of logged-in API clients (table api_tokens), stored as SHA-256 hashes.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "vdi/common/db/database.h"

namespace vdi::db {

struct ApiToken {
    Id id = 0;
    Id user_id = 0;
    std::optional<std::string> client_address;
    Timestamp created_at;
    Timestamp last_used_at;
    Timestamp expires_at;
    std::optional<Timestamp> revoked_at;
};

class ApiTokenRepository {
public:
    explicit ApiTokenRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    ApiToken create(Id user_id, const std::string& token_hash_hex, std::chrono::seconds ttl,
                    const std::optional<std::string>& client_address);
    // The token if it is unexpired, unrevoked and its user is not disabled; records the use.
    std::optional<ApiToken> authenticate(const std::string& token_hash_hex);
    bool revoke(const std::string& token_hash_hex);
    // Revokes every live token of the user (password change, account disabled); returns how many.
    int revoke_all_for_user(Id user_id);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db

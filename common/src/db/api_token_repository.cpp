// SQL for API bearer tokens.
#include "vdi/common/db/api_token_repository.h"

namespace vdi::db {
namespace {

constexpr const char* token_columns =
    "t.id, t.user_id, t.client_address, t.created_at, t.last_used_at, t.expires_at, t.revoked_at";

ApiToken token_from_row(const pqxx::row& row)
{
    ApiToken t;
    t.id = get<Id>(row, "id");
    t.user_id = get<Id>(row, "user_id");
    t.client_address = get_optional<std::string>(row, "client_address");
    t.created_at = get_time(row, "created_at");
    t.last_used_at = get_time(row, "last_used_at");
    t.expires_at = get_time(row, "expires_at");
    t.revoked_at = get_optional_time(row, "revoked_at");
    return t;
}

}  // namespace

ApiToken ApiTokenRepository::create(Id user_id, const std::string& token_hash_hex, std::chrono::seconds ttl,
                                    const std::optional<std::string>& client_address)
{
    return token_from_row(tx_.exec_params1(
        std::string("INSERT INTO api_tokens AS t (user_id, token_hash, expires_at, client_address) "
                    "VALUES ($1, decode($2, 'hex'), now() + $3 * interval '1 second', $4) RETURNING ") + token_columns,
        user_id, token_hash_hex, static_cast<std::int64_t>(ttl.count()), client_address));
}

std::optional<ApiToken> ApiTokenRepository::authenticate(const std::string& token_hash_hex)
{
    return first_row(tx_.exec_params(std::string("UPDATE api_tokens AS t SET last_used_at = now() FROM users u "
                                                 "WHERE t.token_hash = decode($1, 'hex') AND t.revoked_at IS NULL "
                                                 "AND t.expires_at > now() AND u.id = t.user_id AND NOT u.disabled "
                                                 "RETURNING ") +
                                         token_columns,
                                     token_hash_hex),
                     token_from_row);
}

bool ApiTokenRepository::revoke(const std::string& token_hash_hex)
{
    return tx_.exec_params("UPDATE api_tokens SET revoked_at = now() WHERE token_hash = decode($1, 'hex') "
                           "AND revoked_at IS NULL",
                           token_hash_hex)
               .affected_rows() == 1;
}

int ApiTokenRepository::revoke_all_for_user(Id user_id)
{
    return static_cast<int>(tx_.exec_params("UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 "
                                            "AND revoked_at IS NULL AND expires_at > now()",
                                            user_id)
                                .affected_rows());
}

}  // namespace vdi::db

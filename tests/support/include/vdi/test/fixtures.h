// Small builders of valid rows (an image, a pool, users, ready desktops) for database tests.
#pragma once

#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/user_repository.h"

namespace vdi::test {

db::GoldenImage make_image(pqxx::transaction_base& tx, const std::string& name = "demo");
// A ready image whose files are a real golden image directory (vdi-vmm --golden-out DIR).
db::GoldenImage register_image_dir(pqxx::transaction_base& tx, const std::string& dir, int memory_mib = 64,
                                   const std::string& name = "demo");
db::Pool make_pool(pqxx::transaction_base& tx, db::Id image_id, const std::string& name = "pool",
                   db::PoolAssignment assignment = db::PoolAssignment::floating);
db::User make_user(pqxx::transaction_base& tx, const std::string& username,
                   db::UserRole role = db::UserRole::user);
// A desktop that a host agent reported running at its generation and whose guest is ready.
db::Desktop make_ready_desktop(pqxx::transaction_base& tx, const db::Pool& pool, const std::string& name);

}  // namespace vdi::test

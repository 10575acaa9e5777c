// The schema migrations (sql/NNNN_*.sql) compiled into the binary, in file-name order.
#pragma once

#include <string_view>
#include <vector>

namespace vdi::sql {

struct MigrationSource {
    std::string_view file_name;  // "0001_initial_schema.sql"
    std::string_view sql;        // the file's exact contents
};

// Thread-safe; the vector lives for the whole program.
const std::vector<MigrationSource>& embedded_migrations();

}  // namespace vdi::sql

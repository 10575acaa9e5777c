// Error types of the control-plane layers (common, broker, pool-manager, host agent, vdictl).
//
// Error policy of these layers: exceptions. Every error is a vdi::Error (or a subclass) whose
// message names what failed and what the operator can do about it. Code at a process or request
// boundary catches vdi::Error (and std::exception) and reports it; nothing below swallows one.
// "Not found" is not an error: lookups return std::optional.
#pragma once

#include <stdexcept>
#include <string>

namespace vdi {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A configuration file or option is missing, malformed or inconsistent.
class ConfigError : public Error {
public:
    using Error::Error;
};

// The database could not be reached, or a statement failed for a reason other than a conflict
// the caller is expected to handle.
class DbError : public Error {
public:
    using Error::Error;
};

// A write was refused because of a constraint (duplicate name, bad reference, failed CHECK).
// what() says which constraint, in terms the caller can act on.
class ConflictError : public DbError {
public:
    using DbError::DbError;
};

// The schema migrations cannot be applied (changed file, gap in numbering, failed statement).
class MigrationError : public Error {
public:
    using Error::Error;
};

}  // namespace vdi

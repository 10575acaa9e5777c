// vdictl's human-readable output: aligned tables whose columns are chosen to fit the terminal,
// "label: value" listings, and readable timestamps. Plain functions of their input (the
// terminal width is an argument), so they are tested without a terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vdi::admin {

struct TableColumn {
    std::string header;
    // 1: always shown; higher numbers are dropped first (the highest first) when the table
    // would not fit the width.
    int priority = 1;
    // Free text (names, errors, details): capped at `flexible_cap` characters on a terminal,
    // and cut further (with "…") before any column is dropped for it.
    bool flexible = false;
    bool align_right = false;  // numbers
};

inline constexpr std::size_t flexible_cap = 40;
inline constexpr std::size_t flexible_minimum = 8;

// `rows` hold one cell per column. `width`: the terminal's columns, nullopt for no limit (output
// to a pipe or file: every column, nothing cut). Ends with a newline; header only when empty.
std::string render_table(const std::vector<TableColumn>& columns, const std::vector<std::vector<std::string>>& rows,
                         std::optional<std::size_t> width);

// "label: value" lines, the labels padded to one width.
std::string render_fields(const std::vector<std::pair<std::string, std::string>>& fields);

// The terminal width of stdout, or $COLUMNS; nullopt when stdout is not a terminal.
std::optional<std::size_t> terminal_width();

// A moment as local time, to the second: "2026-11-22 07:14:26".
std::string format_timestamp(std::chrono::system_clock::time_point time);
// The same of an ISO 8601 timestamp of the API ("2026-11-22T06:14:26.123456+00:00"); "-" for
// an empty one; text that is not a timestamp is returned as it is.
std::string format_timestamp(const std::string& iso);

// Characters (UTF-8 code points) of `text`, as a terminal shows them (one column each).
std::size_t display_width(const std::string& text);

}  // namespace vdi::admin

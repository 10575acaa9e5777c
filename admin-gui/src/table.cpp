// Aligned tables, field listings and timestamps for vdictl's output.
#include "table.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <numeric>

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "vdi/common/api/json.h"

namespace vdi::admin {

namespace {

constexpr std::size_t column_gap = 2;

bool is_continuation(char c)
{
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The first `columns` characters of `text`, ending in "…" when it was cut.
std::string cut(const std::string& text, std::size_t columns)
{
    if (display_width(text) <= columns) return text;
    std::size_t kept = 0;
    std::size_t i = 0;
    while (i < text.size() && kept + 1 < columns) {
        ++i;
        while (i < text.size() && is_continuation(text[i])) ++i;
        ++kept;
    }
    return text.substr(0, i) + "…";
}

std::string pad(const std::string& text, std::size_t columns, bool right)
{
    const std::size_t width = display_width(text);
    const std::string fill(columns > width ? columns - width : 0, ' ');
    return right ? fill + text : text + fill;
}

}  // namespace

std::size_t display_width(const std::string& text)
{
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation(c); }));
}

std::string render_table(const std::vector<TableColumn>& columns, const std::vector<std::vector<std::string>>& rows,
                         std::optional<std::size_t> width)
{
    const std::size_t n = columns.size();
    std::vector<std::size_t> widths(n);
    for (std::size_t c = 0; c < n; ++c) {
        widths[c] = display_width(columns[c].header);
        for (const auto& row : rows) {
            if (c < row.size()) widths[c] = std::max(widths[c], display_width(row[c]));
        }
    }
    std::vector<bool> shown(n, true);
    if (width) {
        const auto total = [&] {
            std::size_t sum = 0, visible = 0;
            for (std::size_t c = 0; c < n; ++c) {
                if (!shown[c]) continue;
                sum += widths[c];
                ++visible;
            }
            return sum + (visible > 0 ? (visible - 1) * column_gap : 0);
        };
        const auto floor_of = [&](std::size_t c) { return std::max(display_width(columns[c].header), flexible_minimum); };
        for (std::size_t c = 0; c < n; ++c) {
            if (columns[c].flexible) widths[c] = std::min(widths[c], std::max(flexible_cap, floor_of(c)));
        }
        // first drop optional columns, least important (then rightmost) first ...
        while (total() > *width) {
            std::optional<std::size_t> drop;
            for (std::size_t c = 0; c < n; ++c) {
                if (shown[c] && columns[c].priority > 1 && (!drop || columns[c].priority >= columns[*drop].priority)) {
                    drop = c;
                }
            }
            if (!drop) break;
            shown[*drop] = false;
        }
        // ... then cut free text, widest first, down to its floor
        while (total() > *width) {
            std::optional<std::size_t> widest;
            for (std::size_t c = 0; c < n; ++c) {
                if (shown[c] && columns[c].flexible && widths[c] > floor_of(c) &&
                    (!widest || widths[c] > widths[*widest])) {
                    widest = c;
                }
            }
            if (!widest) break;  // (still too wide: the terminal wraps it)
            widths[*widest] = std::max(floor_of(*widest), widths[*widest] - std::min(widths[*widest], total() - *width));
        }
    }
    std::vector<std::size_t> visible;
    for (std::size_t c = 0; c < n; ++c) {
        if (shown[c]) visible.push_back(c);
    }
    const auto line = [&](const auto& cell_of) {
        std::string out;
        for (std::size_t i = 0; i < visible.size(); ++i) {
            const std::size_t c = visible[i];
            const bool last = i + 1 == visible.size();
            const std::string cell = cut(cell_of(c), widths[c]);
            out += last && !columns[c].align_right ? cell : pad(cell, widths[c], columns[c].align_right);
            if (!last) out += std::string(column_gap, ' ');
        }
        return out + "\n";
    };
    std::string out = line([&](std::size_t c) { return columns[c].header; });
    for (const auto& row : rows) {
        out += line([&](std::size_t c) { return c < row.size() ? row[c] : std::string(); });
    }
    return out;
}

std::string render_fields(const std::vector<std::pair<std::string, std::string>>& fields)
{
    std::size_t label_width = 0;
    for (const auto& [label, value] : fields) label_width = std::max(label_width, display_width(label) + 1);
    std::string out;
    for (const auto& [label, value] : fields) {
        out += pad(label + ":", label_width, false) + " " + value + "\n";
    }
    return out;
}

std::optional<std::size_t> terminal_width()
{
    if (::isatty(STDOUT_FILENO) == 0) return std::nullopt;
    winsize size{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    if (const char* columns = std::getenv("COLUMNS"); columns != nullptr && std::atoi(columns) > 0) {
        return static_cast<std::size_t>(std::atoi(columns));
    }
    return 80;
}

std::string format_timestamp(std::chrono::system_clock::time_point time)
{
    const std::time_t seconds = std::chrono::system_clock::to_time_t(
        std::chrono::floor<std::chrono::seconds>(time));
    std::tm local{};
    ::localtime_r(&seconds, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
    return text;
}

std::string format_timestamp(const std::string& iso)
{
    if (iso.empty()) return "-";
    try {
        return format_timestamp(api::parse_iso8601(iso));
    } catch (const std::exception&) {
        return iso;
    }
}

}  // namespace vdi::admin

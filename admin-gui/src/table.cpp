// Aligned tables, field listings and timestamps for vdictl's output.
#include "table.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <numeric>

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

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

std::string format_timestamp(const std::string& iso)
{
    if (iso.empty()) return "-";
    std::tm parts{};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    int consumed = 0;
    if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
                    &consumed) != 6) {
        return iso;
    }
    std::size_t i = static_cast<std::size_t>(consumed);
    if (i < iso.size() && iso[i] == '.') {
        ++i;
        while (i < iso.size() && std::isdigit(static_cast<unsigned char>(iso[i]))) ++i;
    }
    long offset_s = 0;
    if (i < iso.size() && (iso[i] == '+' || iso[i] == '-')) {
        int offset_h = 0, offset_m = 0;
        if (std::sscanf(iso.c_str() + i + 1, "%2d:%2d", &offset_h, &offset_m) < 1) return iso;
        offset_s = (iso[i] == '+' ? 1 : -1) * (offset_h * 3600L + offset_m * 60L);
    } else if (i >= iso.size() || iso[i] != 'Z') {
        return iso;
    }
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = second;
    const std::time_t utc = ::timegm(&parts) - offset_s;
    std::tm local{};
    ::localtime_r(&utc, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
    return text;
}

}  // namespace vdi::admin

// vdictl's subcommands, registered on the CLI11 application in groups: the account (login,
// logout, whoami, status), users and groups, pools and images, what runs (desktops, sessions,
// hosts, jobs, audit), and the database (migrate, bootstrap-admin).
//
// Grammar: vdictl [GLOBAL OPTIONS] NOUN VERB [ARGUMENTS] [OPTIONS] (docs/vdictl.md). When CLI11
// has parsed a command line, `action` holds what the chosen subcommand does; it runs after
// parsing and returns the exit code, or throws CliExit.
#pragma once

#include <functional>
#include <optional>
#include <vector>
#include <string>

#include <CLI/CLI.hpp>

#include "cli_context.h"
#include "vdi/common/component.h"

namespace vdi::admin {

using Action = std::function<int(CliContext&)>;

void add_account_commands(CLI::App& app, Action& action);
void add_user_commands(CLI::App& app, Action& action);
void add_pool_commands(CLI::App& app, Action& action);
void add_runtime_commands(CLI::App& app, Action& action);
void add_database_commands(CLI::App& app, Action& action, const CommonOptions& common);

// A leaf subcommand of `parent` that runs `run` when chosen.
inline CLI::App* add_leaf(CLI::App* parent, const std::string& name, const std::string& description, Action& action,
                          Action run)
{
    CLI::App* leaf = parent->add_subcommand(name, description);
    leaf->callback([&action, run = std::move(run)] { action = run; });
    return leaf;
}

// A password from the terminal (not echoed), or the first line of stdin with `from_stdin` or
// when stdin is not a terminal. No rules here: the broker enforces them.
std::string read_secret(const std::string& prompt, bool from_stdin);

// Prints `text` (a table, a listing, a line), or with --json the broker's last answer as it came.
void print_done(CliContext& context, const std::string& text);

// "(there may be more: the next page is --before ID)" on stderr.
void note_next_page(long long last_id);

// The same for a list; for a paged one (`limit` given) that came back full, says on stderr
// how to get the next page.
template <typename Row>
void print_list(CliContext& context, const std::vector<Row>& rows, const std::string& text,
                std::optional<int> limit = std::nullopt)
{
    print_done(context, text);
    if (limit && !rows.empty() && rows.size() >= static_cast<std::size_t>(*limit)) {
        note_next_page(rows.back().id);
    }
}
}  // namespace vdi::admin

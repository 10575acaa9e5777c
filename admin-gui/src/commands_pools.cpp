// vdictl pool ... and vdictl image ...: pools, their entitlements and jobs, golden images.
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "vdi/common/api/json.h"
#include "views.h"

namespace vdi::admin {

namespace {

std::string pool_path(CliContext& context, const std::string& ref)
{
    return "/api/v1/admin/pools/" + std::to_string(context.resolve("pool", ref));
}

// The settings a pool is created or updated with; only those given are sent.
struct PoolOptions {
    std::string ref;
    std::optional<std::string> name;
    std::optional<std::string> image;
    std::optional<std::string> display_name;
    std::optional<std::string> assignment;
    std::optional<int> min_ready;
    std::optional<int> max_size;
    std::vector<std::string> protocols;
    std::optional<std::string> refresh_policy;
    std::optional<std::string> refresh_cron;
    std::optional<int> idle_timeout_s;
    std::optional<int> disconnected_timeout_s;
    std::optional<int> max_session_s;
    bool enable = false;
    bool disable = false;
    // entitle / revoke / refresh / push
    std::optional<std::string> user;
    std::optional<std::string> group;
    std::optional<long long> entitlement;
    std::optional<int> force_after_s;

    api::PoolRequest settings(CliContext& context) const
    {
        api::PoolRequest request;
        request.name = name;
        if (image) request.golden_image_id = context.resolve("image", *image);
        request.display_name = display_name;
        request.assignment = assignment;
        request.min_ready = min_ready;
        request.max_size = max_size;
        if (!protocols.empty()) request.protocols = protocols;
        request.refresh_policy = refresh_policy;
        request.refresh_cron = refresh_cron;
        request.idle_timeout_s = idle_timeout_s;
        request.disconnected_timeout_s = disconnected_timeout_s;
        request.max_session_s = max_session_s;
        if (enable) request.enabled = true;
        if (disable) request.enabled = false;
        return request;
    }
};

void add_pool_settings(CLI::App* command, PoolOptions& o)
{
    command->add_option("--display-name", o.display_name, "the name users see");
    command->add_option("--assignment", o.assignment, "floating (any ready desktop) or dedicated (a user's own)");
    command->add_option("--min-ready", o.min_ready, "desktops kept ready for the next user");
    command->add_option("--max-size", o.max_size, "most desktops the pool may have");
    command->add_option("--protocols", o.protocols, "display protocols offered: vnc,rdp")->delimiter(',');
    command->add_option("--refresh-policy", o.refresh_policy, "on_logoff (a fresh clone per user) or never");
    command->add_option("--refresh-cron", o.refresh_cron, "scheduled refresh, a cron expression (\"\": none)");
    command->add_option("--idle-timeout", o.idle_timeout_s, "seconds idle before a session is logged off (0: never)");
    command->add_option("--disconnected-timeout", o.disconnected_timeout_s,
                        "seconds disconnected before a session is logged off (0: never)");
    command->add_option("--max-session", o.max_session_s, "longest session in seconds (0: no limit)");
    auto* enable = command->add_flag("--enable", o.enable, "users may connect");
    command->add_flag("--disable", o.disable, "users may not connect")->excludes(enable);
}

void add_pools(CLI::App& app, Action& action)
{
    auto* pool = app.add_subcommand("pool", "desktop pools, entitlements, refresh and image push (/api/v1/admin/pools)");
    pool->alias("pools");
    pool->require_subcommand(1);
    auto o = std::make_shared<PoolOptions>();
    const auto ref = [&o](CLI::App* command) { command->add_option("pool", o->ref, "pool name (or id)")->required(); };

    add_leaf(pool, "list", "list pools with their desktop counts", action, [](CliContext& c) {
        const auto pools = c.get<std::vector<api::Pool>>("/api/v1/admin/pools");
        print_list(c, pools, pools_table(pools, c.table_width()));
        return 0;
    });
    ref(add_leaf(pool, "show", "one pool and its entitlements", action, [o](CliContext& c) {
        print_done(c, pool_details(c.get<api::PoolDetail>(pool_path(c, o->ref)), c.table_width()));
        return 0;
    }));
    auto* create = add_leaf(pool, "create", "create a pool", action, [o](CliContext& c) {
        const auto created = c.call_as<api::Pool>("POST", "/api/v1/admin/pools", o->settings(c));
        print_done(c, fmt::format("created pool {} (id {}): min ready {}, max size {}", created.name, created.id,
                                  created.min_ready, created.max_size));
        return 0;
    });
    create->add_option("--name", o->name, "pool name (what clients connect to)")->required();
    create->add_option("--image", o->image, "golden image: name (its newest version), NAME:VERSION or id")->required();
    add_pool_settings(create, *o);

    auto* update = add_leaf(pool, "update", "change a pool's settings (those not given keep their values)", action,
                            [o](CliContext& c) {
                                const auto request = o->settings(c);
                                if (nlohmann::json(request).empty()) {
                                    throw CliExit(Exit::usage, "nothing to change: give a setting, see --help");
                                }
                                const auto updated = c.call_as<api::Pool>("PATCH", pool_path(c, o->ref), request);
                                print_done(c, fmt::format("updated pool {} (id {})", updated.name, updated.id));
                                return 0;
                            });
    update->alias("set");
    ref(update);
    update->add_option("--name", o->name, "a new name");
    update->add_option("--image", o->image, "another golden image for new desktops (to roll existing ones: pool push)");
    add_pool_settings(update, *o);

    ref(add_leaf(pool, "delete", "delete a pool without desktops or session history", action, [o](CliContext& c) {
        const auto deleted = c.call_as<api::Deleted>("DELETE", pool_path(c, o->ref));
        print_done(c, fmt::format("deleted pool {} (id {})", o->ref, deleted.id));
        return 0;
    }));

    auto* entitle = add_leaf(pool, "entitle", "let a user or a group use the pool", action, [o](CliContext& c) {
        if (!o->user && !o->group) throw CliExit(Exit::usage, "whom? give --user or --group");
        api::EntitleRequest request;
        if (o->user) request.user_id = c.resolve("user", *o->user);
        if (o->group) request.group_id = c.resolve("group", *o->group);
        const auto created = c.call_as<api::Entitlement>("POST", pool_path(c, o->ref) + "/entitlements", request);
        print_done(c, fmt::format("entitled {} {} to pool {} (entitlement {})", o->user ? "user" : "group",
                                  o->user ? *o->user : *o->group, o->ref, created.id));
        return 0;
    });
    ref(entitle);
    auto* entitle_user = entitle->add_option("--user", o->user, "user name (or id)");
    entitle->add_option("--group", o->group, "group name (or id)")->excludes(entitle_user);

    auto* revoke = add_leaf(pool, "revoke", "take an entitlement away", action, [o](CliContext& c) {
        const std::string path = pool_path(c, o->ref);
        if (!o->user && !o->group && !o->entitlement) {
            throw CliExit(Exit::usage, "which entitlement? give --user, --group or --entitlement");
        }
        std::optional<long long> id = o->entitlement;
        if (!id) {
            // the entitlement of that user or group: by name, or by id
            const auto names = [](const std::optional<std::string>& name, const std::optional<api::Id>& key,
                                  const std::string& ref) {
                return (name && *name == ref) || (key && std::to_string(*key) == ref);
            };
            for (const auto& e : c.get<api::PoolDetail>(path).entitlements) {
                if ((o->user && names(e.username, e.user_id, *o->user)) ||
                    (o->group && names(e.group_name, e.group_id, *o->group))) {
                    id = e.id;
                }
            }
            if (!id) {
                throw CliExit(Exit::refused, fmt::format("pool {} has no entitlement for {} {} (see 'vdictl pool show {}')",
                                                         o->ref, o->user ? "user" : "group", o->user ? *o->user : *o->group,
                                                         o->ref));
            }
        }
        c.call_as<api::Deleted>("DELETE", "/api/v1/admin/entitlements/" + std::to_string(*id));
        print_done(c, fmt::format("revoked entitlement {} of pool {}", *id, o->ref));
        return 0;
    });
    ref(revoke);
    auto* revoke_user = revoke->add_option("--user", o->user, "the user's entitlement");
    auto* revoke_group = revoke->add_option("--group", o->group, "the group's entitlement")->excludes(revoke_user);
    revoke->add_option("--entitlement", o->entitlement, "the entitlement's id")->excludes(revoke_user)->excludes(revoke_group);

    auto* refresh = add_leaf(pool, "refresh", "start a refresh job: every desktop re-cloned from the golden image",
                             action, [o](CliContext& c) {
                                 const auto job = c.call_as<api::Job>("POST", pool_path(c, o->ref) + "/refresh",
                                                                      api::RefreshPoolRequest{o->force_after_s});
                                 print_done(c, fmt::format("started job {} ({}) for pool {}", job.id, job.type, o->ref));
                                 return 0;
                             });
    ref(refresh);
    refresh->add_option("--force-after", o->force_after_s,
                        "seconds until desktops in use are refreshed anyway, after a warning (default 3600)");

    auto* push = add_leaf(pool, "push", "start an image push job: the pool moves to another golden image", action,
                          [o](CliContext& c) {
                              const api::PushImageRequest request{c.resolve("image", *o->image), o->force_after_s};
                              const auto job = c.call_as<api::Job>("POST", pool_path(c, o->ref) + "/push", request);
                              print_done(c, fmt::format("started job {} ({}) for pool {}", job.id, job.type, o->ref));
                              return 0;
                          });
    ref(push);
    push->add_option("--image", o->image, "golden image: name (its newest version), NAME:VERSION or id")->required();
    push->add_option("--force-after", o->force_after_s,
                     "seconds until desktops in use are moved anyway, after a warning (default 3600)");
}

struct ImageOptions {
    std::string ref;
    std::string name;
    std::string state_path;
    std::string memory_path;
    int memory_mib = 0;
    std::optional<int> vcpus;
    std::optional<int> fb_width;
    std::optional<int> fb_height;
    std::optional<std::string> description;
    std::optional<std::string> state;
    std::optional<std::string> error;
};

void add_images(CLI::App& app, Action& action)
{
    auto* image = app.add_subcommand("image", "golden images (/api/v1/admin/images)");
    image->alias("images");
    image->require_subcommand(1);
    auto o = std::make_shared<ImageOptions>();
    const auto ref = [&o](CLI::App* command) {
        command->add_option("image", o->ref, "image name (its newest version), NAME:VERSION or id")->required();
    };
    add_leaf(image, "list", "list golden images", action, [](CliContext& c) {
        const auto images = c.get<std::vector<api::Image>>("/api/v1/admin/images");
        print_list(c, images, images_table(images, c.table_width()));
        return 0;
    });
    ref(add_leaf(image, "show", "one golden image", action, [o](CliContext& c) {
        print_done(c, image_details(c.get<api::Image>("/api/v1/admin/images/" + std::to_string(c.resolve("image", o->ref)))));
        return 0;
    }));
    auto* registered = add_leaf(image, "register", "register a golden image written by vdi-vmm --golden-out", action,
                                [o](CliContext& c) {
                                    const api::CreateImageRequest request{
                                        o->name,  o->state_path, o->memory_path, o->memory_mib, o->vcpus,
                                        o->fb_width, o->fb_height, o->description, o->state};
                                    const auto created = c.call_as<api::Image>("POST", "/api/v1/admin/images", request);
                                    print_done(c, fmt::format("registered image {} v{} (id {}), {}", created.name,
                                                              created.version, created.id, created.state));
                                    return 0;
                                });
    registered->add_option("--name", o->name, "image name (a new version of an existing name)")->required();
    registered->add_option("--state-path", o->state_path, "the snapshot's state file, as the hosts see it")->required();
    registered->add_option("--memory-path", o->memory_path, "the snapshot's memory file, as the hosts see it")->required();
    registered->add_option("--memory-mib", o->memory_mib, "guest memory in MiB")->required();
    registered->add_option("--vcpus", o->vcpus, "virtual CPUs (default 1)");
    registered->add_option("--fb-width", o->fb_width, "framebuffer width (default 1024)");
    registered->add_option("--fb-height", o->fb_height, "framebuffer height (default 768)");
    registered->add_option("--description", o->description, "what the image holds");
    registered->add_option("--state", o->state, "building, ready (default), failed or retired");

    auto* set_state = add_leaf(image, "set-state", "mark an image building, ready, failed or retired", action,
                               [o](CliContext& c) {
                                   const auto changed = c.call_as<api::Image>(
                                       "PATCH", "/api/v1/admin/images/" + std::to_string(c.resolve("image", o->ref)),
                                       api::UpdateImageRequest{*o->state, o->error});
                                   print_done(c, fmt::format("image {} v{} (id {}) is now {}", changed.name,
                                                             changed.version, changed.id, changed.state));
                                   return 0;
                               });
    ref(set_state);
    set_state->add_option("state", o->state, "building, ready, failed or retired")->required();
    set_state->add_option("--error", o->error, "why it failed");
}

}  // namespace

void add_pool_commands(CLI::App& app, Action& action)
{
    add_pools(app, action);
    add_images(app, action);
}

}  // namespace vdi::admin

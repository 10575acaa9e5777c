// Repository rows to the API's structs.
#include "to_api.h"

namespace vdi::broker {

api::Host to_api(const db::HostSummary& h)
{
    return api::Host{h.id,          h.name,
                     h.address,     h.vcpus_total,
                     h.memory_mib_total, h.max_concurrent_ops,
                     db::to_string(h.state), h.drained,
                     h.agent_version,
                     h.registered_at, h.last_heartbeat_at,
                     h.desktops};
}

api::Image to_api(const db::GoldenImage& i)
{
    return api::Image{i.id,         i.name,  i.version,  db::to_string(i.state), i.state_path, i.memory_path,
                      i.memory_mib, i.vcpus, i.fb_width, i.fb_height,            i.description, i.error,
                      i.created_at};
}

api::Job to_api(const db::Job& j)
{
    return api::Job{j.id,
                    db::to_string(j.type),
                    j.pool_id,
                    j.target_image_id,
                    db::to_string(j.state),
                    j.run_at,
                    j.scheduled_for,
                    j.force_after,
                    j.progress_done,
                    j.progress_total,
                    j.cancel_requested,
                    j.error,
                    j.created_by,
                    j.claimed_by,
                    j.created_at,
                    j.started_at,
                    j.finished_at};
}

api::User to_api(const db::User& u)
{
    return api::User{u.id, u.username, u.display_name, db::to_string(u.role), u.disabled, u.created_at,
                     u.last_login_at};
}

api::Group to_api(const db::GroupSummary& g)
{
    return api::Group{g.id, g.name, g.description, g.members};
}

api::Session to_api(const db::SessionSummary& s)
{
    return api::Session{s.id,
                        s.user_id,
                        s.username,
                        s.desktop_id,
                        s.pool_id,
                        s.desktop_generation,
                        db::to_string(s.protocol),
                        db::to_string(s.state),
                        s.client_address,
                        s.started_at,
                        s.last_activity_at,
                        s.disconnected_at,
                        s.ended_at,
                        s.end_reason};
}

api::Desktop to_api(const db::Desktop& d)
{
    return api::Desktop{d.id,
                        d.pool_id,
                        d.name,
                        d.host_id,
                        d.golden_image_id,
                        db::to_string(d.desired_state),
                        db::to_string(d.actual_state),
                        d.generation,
                        d.actual_generation,
                        d.ready_generation,
                        d.vnc_port,
                        d.rdp_port,
                        d.vmm_pid,
                        d.owner_user_id,
                        d.assigned_user_id,
                        d.assigned_at,
                        d.error,
                        d.created_at,
                        d.state_changed_at};
}

api::Pool to_api(const db::PoolSummary& p)
{
    std::vector<std::string> protocols;
    for (const auto protocol : p.protocols) protocols.push_back(db::to_string(protocol));
    return api::Pool{p.id,
                     p.name,
                     p.display_name,
                     db::to_string(p.assignment),
                     p.golden_image_id,
                     p.min_ready,
                     p.max_size,
                     std::move(protocols),
                     db::to_string(p.refresh_policy),
                     p.refresh_cron,
                     p.idle_timeout_s,
                     p.disconnected_timeout_s,
                     p.max_session_s,
                     p.enabled,
                     p.created_at,
                     p.updated_at,
                     p.desktops,
                     p.ready,
                     p.in_use};
}

}  // namespace vdi::broker

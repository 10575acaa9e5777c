// JSON conversion of the job body.
#include "vdi/common/api/job.h"

namespace vdi::api {
namespace {

constexpr auto job_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("type", v.type);
    f("pool_id", v.pool_id);
    f("target_image_id", v.target_image_id);
    f("state", v.state);
    f("run_at", v.run_at);
    f("scheduled_for", v.scheduled_for);
    f("force_after", v.force_after);
    f("progress_done", v.progress_done);
    f("progress_total", v.progress_total);
    f("cancel_requested", v.cancel_requested);
    f("error", v.error);
    f("created_by", v.created_by);
    f("claimed_by", v.claimed_by);
    f("created_at", v.created_at);
    f("started_at", v.started_at);
    f("finished_at", v.finished_at);
};

}  // namespace

void to_json(nlohmann::json& j, const Job& v) { field::write_response(j, v, job_fields); }
void from_json(const nlohmann::json& j, Job& v) { field::read(j, v, job_fields); }

}  // namespace vdi::api

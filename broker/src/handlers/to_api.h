// The API's structs (common/api) built from the repositories' rows: the one place where a
// database row becomes a response body. Internal to the broker's handlers.
#pragma once

#include "vdi/common/api/desktop.h"
#include "vdi/common/api/group.h"
#include "vdi/common/api/host.h"
#include "vdi/common/api/image.h"
#include "vdi/common/api/job.h"
#include "vdi/common/api/pool.h"
#include "vdi/common/api/session.h"
#include "vdi/common/api/user.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/common/db/job_repository.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/common/db/user_repository.h"

namespace vdi::broker {

api::Host to_api(const db::HostSummary& host);
api::Image to_api(const db::GoldenImage& image);
api::Job to_api(const db::Job& job);
// Never the password hash.
api::User to_api(const db::User& user);
api::Group to_api(const db::GroupSummary& group);
api::Session to_api(const db::SessionSummary& session);
api::Desktop to_api(const db::Desktop& desktop);
api::Pool to_api(const db::PoolSummary& pool);

}  // namespace vdi::broker

// JSON conversion of the error body.
#include "vdi/common/api/error.h"

namespace vdi::api {

void to_json(nlohmann::json& j, const Error& v)
{
    j = {{"error", {{"code", v.code}, {"message", v.message}}}};
}

void from_json(const nlohmann::json& j, Error& v)
{
    const auto& error = j.at("error");
    error.at("code").get_to(v.code);
    error.at("message").get_to(v.message);
}

}  // namespace vdi::api

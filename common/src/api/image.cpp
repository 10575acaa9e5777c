// JSON conversion of the golden image bodies.
#include "vdi/common/api/image.h"

namespace vdi::api {
namespace {

constexpr auto image_fields = [](auto& v, auto&& f) {
    f("id", v.id);
    f("name", v.name);
    f("version", v.version);
    f("state", v.state);
    f("state_path", v.state_path);
    f("memory_path", v.memory_path);
    f("memory_mib", v.memory_mib);
    f("vcpus", v.vcpus);
    f("fb_width", v.fb_width);
    f("fb_height", v.fb_height);
    f("description", v.description);
    f("error", v.error);
    f("created_at", v.created_at);
};
constexpr auto create_image_fields = [](auto& v, auto&& f) {
    f("name", v.name);
    f("state_path", v.state_path);
    f("memory_path", v.memory_path);
    f("memory_mib", v.memory_mib);
    f("vcpus", v.vcpus);
    f("fb_width", v.fb_width);
    f("fb_height", v.fb_height);
    f("description", v.description);
    f("state", v.state);
};
constexpr auto update_image_fields = [](auto& v, auto&& f) {
    f("state", v.state);
    f("error", v.error);
};

}  // namespace

void to_json(nlohmann::json& j, const Image& v) { field::write_response(j, v, image_fields); }
void from_json(const nlohmann::json& j, Image& v) { field::read(j, v, image_fields); }
void to_json(nlohmann::json& j, const CreateImageRequest& v) { field::write_request(j, v, create_image_fields); }
void from_json(const nlohmann::json& j, CreateImageRequest& v) { field::read(j, v, create_image_fields); }
void to_json(nlohmann::json& j, const UpdateImageRequest& v) { field::write_request(j, v, update_image_fields); }
void from_json(const nlohmann::json& j, UpdateImageRequest& v) { field::read(j, v, update_image_fields); }

}  // namespace vdi::api

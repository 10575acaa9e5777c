// Golden images: the /api/v1/admin/images routes.
#pragma once

#include <optional>
#include <string>

#include "vdi/common/api/json.h"

namespace vdi::api {

// GET /api/v1/admin/images (a list of these), GET/POST/PATCH's answer.
struct Image {
    Id id = 0;
    std::string name;
    int version = 0;
    std::string state;  // "building" | "ready" | "failed" | "retired"
    std::string state_path;
    std::string memory_path;
    int memory_mib = 0;
    int vcpus = 0;
    int fb_width = 0;
    int fb_height = 0;
    std::string description;
    std::optional<std::string> error;
    Time created_at;
};

// POST /api/v1/admin/images (version: the newest of the name + 1)
struct CreateImageRequest {
    std::string name;
    std::string state_path;
    std::string memory_path;
    int memory_mib = 0;
    std::optional<int> vcpus;      // default 1
    std::optional<int> fb_width;   // default 1024
    std::optional<int> fb_height;  // default 768
    std::optional<std::string> description;
    std::optional<std::string> state;  // default "ready"
};

// PATCH /api/v1/admin/images/{id}
struct UpdateImageRequest {
    std::string state;
    std::optional<std::string> error;
};

void to_json(nlohmann::json& j, const Image& v);
void from_json(const nlohmann::json& j, Image& v);
void to_json(nlohmann::json& j, const CreateImageRequest& v);
void from_json(const nlohmann::json& j, CreateImageRequest& v);
void to_json(nlohmann::json& j, const UpdateImageRequest& v);
void from_json(const nlohmann::json& j, UpdateImageRequest& v);

}  // namespace vdi::api

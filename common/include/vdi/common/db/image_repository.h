// Golden images (table golden_images): the snapshots desktops are cloned from.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vdi/common/db/database.h"
#include "vdi/common/db/enums.h"

namespace vdi::db {

struct GoldenImage {
    Id id = 0;
    std::string name;
    int version = 0;
    ImageState state = ImageState::building;
    std::string state_path;   // snapshot state file
    std::string memory_path;  // snapshot memory file
    int memory_mib = 0;
    int vcpus = 1;
    int fb_width = 1024;
    int fb_height = 768;
    std::string description;
    std::optional<std::string> error;
    Timestamp created_at;
};

struct NewGoldenImage {
    std::string name;
    int version = 0;  // 0: one more than the newest version of `name`
    std::string state_path;
    std::string memory_path;
    int memory_mib = 0;
    int vcpus = 1;
    int fb_width = 1024;
    int fb_height = 768;
    std::string description;
    ImageState state = ImageState::building;
};

class ImageRepository {
public:
    explicit ImageRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    GoldenImage create(const NewGoldenImage& image);
    std::optional<GoldenImage> find(Id id);
    std::optional<GoldenImage> find(const std::string& name, int version);
    // The highest-numbered ready version of `name`.
    std::optional<GoldenImage> latest_ready(const std::string& name);
    std::vector<GoldenImage> list();
    // Every image, newest first (the admin API's order).
    std::vector<GoldenImage> list_newest_first();
    // `error` is stored for failed images and cleared otherwise.
    bool set_state(Id id, ImageState state, const std::optional<std::string>& error = std::nullopt);

private:
    pqxx::transaction_base& tx_;
};

}  // namespace vdi::db

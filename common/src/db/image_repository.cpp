// SQL for golden images.
#include "vdi/common/db/image_repository.h"

namespace vdi::db {
namespace {

constexpr const char* image_columns =
    "id, name, version, state, state_path, memory_path, memory_mib, vcpus, fb_width, fb_height, description, error, "
    "created_at";

GoldenImage image_from_row(const pqxx::row& row)
{
    GoldenImage image;
    image.id = get<Id>(row, "id");
    image.name = get<std::string>(row, "name");
    image.version = get<int>(row, "version");
    image.state = enum_from_string<ImageState>(get<std::string>(row, "state"));
    image.state_path = get<std::string>(row, "state_path");
    image.memory_path = get<std::string>(row, "memory_path");
    image.memory_mib = get<int>(row, "memory_mib");
    image.vcpus = get<int>(row, "vcpus");
    image.fb_width = get<int>(row, "fb_width");
    image.fb_height = get<int>(row, "fb_height");
    image.description = get<std::string>(row, "description");
    image.error = get_optional<std::string>(row, "error");
    image.created_at = get_time(row, "created_at");
    return image;
}

}  // namespace

GoldenImage ImageRepository::create(const NewGoldenImage& image)
{
    // version 0 means "next": computed under a lock on the name so two creators cannot collide
    tx_.exec_params("SELECT pg_advisory_xact_lock(hashtext('golden_images:' || $1))", image.name);
    return image_from_row(tx_.exec_params1(
        std::string("INSERT INTO golden_images (name, version, state, state_path, memory_path, memory_mib, vcpus, "
                    "fb_width, fb_height, description) "
                    "VALUES ($1, CASE WHEN $2 > 0 THEN $2 ELSE (SELECT coalesce(max(version), 0) + 1 "
                    "FROM golden_images WHERE name = $1) END, $3::image_state, $4, $5, $6, $7, $8, $9, $10) "
                    "RETURNING ") + image_columns,
        image.name, image.version, to_string(image.state), image.state_path, image.memory_path, image.memory_mib,
        image.vcpus, image.fb_width, image.fb_height, image.description));
}

std::optional<GoldenImage> ImageRepository::find(Id id)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + image_columns + " FROM golden_images WHERE id = $1", id),
                     image_from_row);
}

std::optional<GoldenImage> ImageRepository::find(const std::string& name, int version)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + image_columns +
                                         " FROM golden_images WHERE name = $1 AND version = $2",
                                     name, version),
                     image_from_row);
}

std::optional<GoldenImage> ImageRepository::latest_ready(const std::string& name)
{
    return first_row(tx_.exec_params(std::string("SELECT ") + image_columns +
                                         " FROM golden_images WHERE name = $1 AND state = 'ready' "
                                         "ORDER BY version DESC LIMIT 1",
                                     name),
                     image_from_row);
}

std::vector<GoldenImage> ImageRepository::list()
{
    return map_rows(tx_.exec(std::string("SELECT ") + image_columns + " FROM golden_images ORDER BY name, version"),
                    image_from_row);
}

std::vector<GoldenImage> ImageRepository::list_newest_first()
{
    return map_rows(tx_.exec(std::string("SELECT ") + image_columns + " FROM golden_images ORDER BY id DESC"),
                    image_from_row);
}

bool ImageRepository::set_state(Id id, ImageState state, const std::optional<std::string>& error)
{
    return tx_.exec_params("UPDATE golden_images SET state = $2::image_state, error = $3, updated_at = now() "
                           "WHERE id = $1",
                           id, to_string(state), state == ImageState::failed ? error : std::nullopt)
               .affected_rows() == 1;
}

}  // namespace vdi::db

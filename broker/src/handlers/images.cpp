// The admin's golden image endpoints: /api/v1/admin/images.
#include "handler_support.h"
#include "to_api.h"
#include "vdi/broker/api.h"

namespace vdi::broker {
namespace {

nlohmann::json shown(pqxx::transaction_base& tx, db::Id id)
{
    const auto image = db::ImageRepository(tx).find(id);
    if (!image) throw ApiError(404, "not_found", "no such image");
    return to_api(*image);
}

}  // namespace

Api::Reply Api::list_images(const Call&)
{
    const auto images =
        transact(pool_, "list images", [&](pqxx::work& tx) { return db::ImageRepository(tx).list_newest_first(); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& image : images) out.push_back(to_api(image));
    return {200, out};
}

Api::Reply Api::create_image(const Call& call)
{
    const nlohmann::json& body = call.request.body;
    return {201, transact(pool_, "register an image", [&](pqxx::work& tx) {
                db::NewGoldenImage image;
                image.name = body["name"];
                image.state_path = body["state_path"];
                image.memory_path = body["memory_path"];
                image.memory_mib = body["memory_mib"];
                image.vcpus = body.value("vcpus", 1);
                image.fb_width = body.value("fb_width", 1024);
                image.fb_height = body.value("fb_height", 768);
                image.description = body.value("description", "");
                image.state = db::enum_from_string<db::ImageState>(body.value("state", "ready"));
                const auto created = db::ImageRepository(tx).create(image);
                audit(tx, call.caller, "image.create", "image", std::to_string(created.id),
                      {{"name", created.name}, {"version", created.version}});
                return nlohmann::json(to_api(created));
            })};
}

Api::Reply Api::show_image(const Call& call)
{
    const auto id = id_param(call.request, 0);
    return {200, transact(pool_, "show an image", [&](pqxx::work& tx) { return shown(tx, id); })};
}

Api::Reply Api::update_image(const Call& call)
{
    const auto id = id_param(call.request, 0);
    const nlohmann::json& body = call.request.body;
    return {200, transact(pool_, "change an image's state", [&](pqxx::work& tx) {
                const auto state = db::enum_from_string<db::ImageState>(body["state"].get<std::string>());
                std::optional<std::string> error;
                if (body.contains("error")) error = body["error"].get<std::string>();
                if (!db::ImageRepository(tx).set_state(id, state, error)) {
                    throw ApiError(404, "not_found", "no such image");
                }
                audit(tx, call.caller, "image.update", "image", std::to_string(id), body);
                return shown(tx, id);
            })};
}

}  // namespace vdi::broker

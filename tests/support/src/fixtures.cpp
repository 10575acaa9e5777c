// Builders of valid rows for database tests.
#include "vdi/test/fixtures.h"

#include <stdexcept>

namespace vdi::test {

db::GoldenImage make_image(pqxx::transaction_base& tx, const std::string& name)
{
    db::NewGoldenImage image;
    image.name = name;
    image.state_path = "/var/lib/vdi/images/" + name + "/state";
    image.memory_path = "/var/lib/vdi/images/" + name + "/memory";
    image.memory_mib = 64;
    image.state = db::ImageState::ready;
    return db::ImageRepository(tx).create(image);
}

db::GoldenImage register_image_dir(pqxx::transaction_base& tx, const std::string& dir, int memory_mib,
                                   const std::string& name)
{
    db::NewGoldenImage image;
    image.name = name;
    image.state_path = dir + "/state";
    image.memory_path = dir + "/memory";
    image.memory_mib = memory_mib;
    image.state = db::ImageState::ready;
    return db::ImageRepository(tx).create(image);
}

db::Pool make_pool(pqxx::transaction_base& tx, db::Id image_id, const std::string& name,
                   db::PoolAssignment assignment)
{
    db::PoolSettings settings;
    settings.name = name;
    settings.display_name = "Pool " + name;
    settings.assignment = assignment;
    settings.golden_image_id = image_id;
    settings.min_ready = 2;
    settings.max_size = 100;
    return db::PoolRepository(tx).create(settings);
}

db::User make_user(pqxx::transaction_base& tx, const std::string& username, db::UserRole role)
{
    // a syntactically valid Argon2id string; these tests never verify it
    return db::UserRepository(tx).create(
        {username, "User " + username, "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", role});
}

db::Desktop make_ready_desktop(pqxx::transaction_base& tx, const db::Pool& pool, const std::string& name)
{
    db::DesktopRepository desktops(tx);
    auto desktop = desktops.create({pool.id, name, pool.golden_image_id, std::nullopt});
    db::ActualReport report;
    report.generation = desktop.generation;
    report.state = db::DesktopActualState::running;
    report.vnc_port = 5900;
    if (!desktops.report_actual(desktop.id, report) || !desktops.mark_guest_ready(desktop.id, desktop.generation)) {
        throw std::logic_error("could not make desktop " + name + " ready");
    }
    return *desktops.find(desktop.id);
}

}  // namespace vdi::test

// Opening display modules with dlopen.
#include "vdi/hv/display/display_module.h"

#include <dlfcn.h>

#include <cstdlib>

#include "vdi/hv/hypervisor.h"

namespace vdi::hv {

DisplayOptions parse_display_endpoint(const std::string& protocol, const std::string& endpoint)
{
    DisplayOptions options;
    options.protocol = protocol;
    const auto colon = endpoint.rfind(':');
    options.address = colon == std::string::npos ? endpoint : endpoint.substr(0, colon);
    if (colon != std::string::npos) {
        const std::string port = endpoint.substr(colon + 1);
        char* end = nullptr;
        const long value = std::strtol(port.c_str(), &end, 10);
        if (port.empty() || *end != '\0' || value < 0 || value > 65535) {
            throw HvError("--" + protocol + ": '" + port + "' is not a TCP port");
        }
        options.port = static_cast<int>(value);
    }
    if (options.address.empty()) {
        throw HvError("--" + protocol + ": no address in '" + endpoint + "'");
    }
    return options;
}

std::filesystem::path default_display_module_dir()
{
    if (const char* dir = std::getenv("VDI_DISPLAY_MODULE_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    std::error_code error;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::filesystem::path(".") : exe.parent_path();
}

std::unique_ptr<DisplayServer> load_display_server(Machine& machine, const DisplayOptions& options,
                                                   const std::filesystem::path& module_dir)
{
    if (options.protocol != "vnc" && options.protocol != "rdp") {
        throw HvError("unknown display protocol '" + options.protocol + "' (vnc or rdp)");
    }
    const auto file = module_dir / ("vdi-display-" + options.protocol + ".so");
    // RTLD_NOW: a module that cannot resolve something fails here, not in the middle of a session
    void* module = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (module == nullptr) {
        throw HvError("cannot load the " + options.protocol + " display module: " + ::dlerror());
    }
    auto create = reinterpret_cast<CreateDisplayServer>(::dlsym(module, create_display_server_symbol));
    if (create == nullptr) {
        throw HvError(file.string() + " is not a display module (no " + create_display_server_symbol + ")");
    }
    return std::unique_ptr<DisplayServer>(create(machine, options));
}

}  // namespace vdi::hv

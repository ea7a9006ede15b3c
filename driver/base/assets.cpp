// assets.cpp: see assets.h.
#include "base/assets.h"

#include <filesystem>
#include <system_error>

#include "base/errors.h"

namespace adalora {

namespace fs = std::filesystem;

std::string find_asset(const std::string &name, const std::string &exe_folder) {
    fs::path folder(exe_folder);
    if (!folder.has_filename()) folder = folder.parent_path();  // "build/float/"
    const fs::path here = folder / "assets" / name, above = folder.parent_path() / "assets" / name;
    std::error_code ec;  // an unreadable folder is a folder not found
    for (const fs::path &p : {here, above})
        if (fs::is_directory(p, ec)) return p.string();
    throw UsageError("asset " + name + " not found in " + here.string() + " or " + above.string() +
                     ": run `make deps` or pass --model/--data DIR");
}

std::string find_asset(const std::string &name) {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw UsageError("asset " + name + ": cannot find the running executable (" + ec.message() + ")");
    return find_asset(name, exe.parent_path().string());
}

}  // namespace adalora

// test_assets.cpp: find_asset (driver/base/assets.h) in a sandbox laid out
// like build/: assets/NAME beside the executable's folder or one above it,
// a link to a folder counted, a file not, and the one-line refusal naming
// both places and what to do.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "base/assets.h"
#include "support/test_files.h"
#include "support/test_sandbox.h"

namespace fs = std::filesystem;

TEST_CASE("find_asset: assets/NAME beside the executable's folder or in its parent") {
    test::Sandbox box;
    const fs::path build = box.work / "build", flt = build / "float";
    fs::create_directories(flt);
    fs::create_directories(build / "assets" / "model");
    // build/adalora and build/float/adalora both find build/assets/model.
    CHECK(adalora::find_asset("model", build.string()) == (build / "assets" / "model").string());
    CHECK(adalora::find_asset("model", flt.string()) == (build / "assets" / "model").string());
    CHECK(adalora::find_asset("model", flt.string() + "/") == (build / "assets" / "model").string());
    // The executable's own folder comes first.
    fs::create_directories(flt / "assets" / "model");
    CHECK(adalora::find_asset("model", flt.string()) == (flt / "assets" / "model").string());
    // A link to a folder is a folder (make deps links the checkpoint).
    fs::create_directories(box.work / "elsewhere");
    fs::create_directory_symlink(box.work / "elsewhere", build / "assets" / "linked");
    CHECK(adalora::find_asset("linked", flt.string()) == (build / "assets" / "linked").string());
}

TEST_CASE("find_asset: a missing asset, or a file of that name, is refused naming both places") {
    test::Sandbox box;
    const fs::path build = box.work / "build", flt = build / "float";
    fs::create_directories(flt / "assets");
    box.write("build/assets/data", "a file, not a folder");
    for (const char *name : {"data", "absent"}) {
        const std::string e = test::usage_error([&] { adalora::find_asset(name, flt.string()); });
        CAPTURE(e);
        CHECK(e == std::string("asset ") + name + " not found in " + (flt / "assets" / name).string() + " or " +
                       (build / "assets" / name).string() + ": run `make deps` or pass --model/--data DIR");
    }
}

TEST_CASE("find_asset: from the running executable, the test binary's build folder") {
    // The test binary is build/PRECISION/test_adalora: the places searched
    // are build/PRECISION/assets and build/assets, found or named.
    const fs::path exe_folder = fs::read_symlink("/proc/self/exe").parent_path();
    const fs::path above = exe_folder.parent_path() / "assets" / "no-such-asset";
    const std::string e = test::usage_error([] { adalora::find_asset("no-such-asset"); });
    CHECK(e.find(" or " + above.string() + ": run `make deps`") != std::string::npos);
}

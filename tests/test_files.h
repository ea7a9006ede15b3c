// test_files.h: what the driver tests share: a temporary directory removed
// at the end of the test, and the message of an expected UsageError.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "options.h"

namespace test {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/adalora-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    // Writes `text` into the file `name` here; returns its path.
    std::string write(const std::string &name, const std::string &text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};

// The message of the UsageError `f` throws ("" when it throws none).
template <class F>
std::string usage_error(F f) {
    try {
        f();
    } catch (const adalora::UsageError &e) {
        return e.what();
    }
    return "";
}

// A file of the repository (e.g. "data/digits.csv.gz"): beside the working
// directory (make test runs in the repository) or above the test binary
// (build/<dir>/test_adalora).
inline std::string repo_file(const std::string &rel) {
    if (std::filesystem::exists(rel)) return rel;
    for (std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe").parent_path(); p.has_relative_path();
         p = p.parent_path())
        if (std::filesystem::exists(p / rel)) return (p / rel).string();
    FAIL(rel << " not found from the working directory or above the test binary");
    return "";
}

inline std::string vendored_file() { return repo_file("data/digits.csv.gz"); }

}  // namespace test

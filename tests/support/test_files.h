// test_files.h: what the driver tests share: a temporary directory removed
// at the end of the test, the message of an expected UsageError, safetensors
// files written by hand, and a tiny run.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "config/run_config.h"

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

// The whole content of a file ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path &p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

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

// metrics.csv without its wall-clock column (the 9th, "seconds"): what two
// runs of the same numbers must both write.
inline std::string metrics_without_seconds(const std::string &metrics_csv) {
    std::stringstream in(metrics_csv), out;
    for (std::string line; std::getline(in, line);) {
        std::stringstream fields(line);
        int column = 0;
        for (std::string f; std::getline(fields, f, ','); column++)
            if (column != 8) out << f << ',';
        out << '\n';
    }
    return out.str();
}

// A safetensors file by hand: the 8-byte length of `header`, the header as
// given (no checks), then `data_bytes` bytes of data (0x3f each).
inline std::string safetensors_bytes(const std::string &header, size_t data_bytes) {
    std::string out(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(&out[0], &n, 8);
    return out + header + std::string(data_bytes, '\x3f');
}

// A run of a few hundred steps on 6 modules of width 8 (planted-linear) or a
// 2-layer width-8 MLP (planted-mlp): a few milliseconds each.
inline adalora::RunConfig tiny(const std::string &method, const std::string &task = "planted-linear") {
    adalora::RunConfig c;
    c.task = task;
    c.method = method;
    c.seed = 1;
    c.out = "unused";
    c.init_r = 4;
    c.target_r = 2;
    c.tinit = 50;
    c.tfinal = 100;
    c.deltaT = 10;
    c.total_step = 300;
    c.batch = 16;
    c.log_every = 50;
    c.task_opt.width = 8;
    c.task_opt.layers = task == "planted-mlp" ? 2 : 1;
    c.task_opt.train_rows = 128;
    c.task_opt.test_rows = 128;
    return c;
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

// test_files.h: what the driver tests share: a temporary directory removed
// at the end of the test, the message of an expected UsageError, and
// safetensors files written by hand.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// A safetensors file by hand: the 8-byte length of `header`, the header as
// given (no checks), then `data_bytes` bytes of data (0x3f each).
inline std::string safetensors_bytes(const std::string &header, size_t data_bytes) {
    std::string out(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(&out[0], &n, 8);
    return out + header + std::string(data_bytes, '\x3f');
}

}  // namespace test

// test_trace_npy.cpp: the .npy writer and reader of the step traces
// (driver/npy.h): bitwise round trips for every dtype, numpy's own header
// spelling and format 2.0, and hostile bytes, each refused with a UsageError
// naming the file, never a crash (including every truncation and byte flips
// of a valid file).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "formats/npy.h"
#include "support/test_files.h"

extern "C" {
#include "ada_common.h"
}

using adalora::NpyArray;
using adalora::NpyType;
using test::usage_error;

namespace {

// A file numpy would write: magic, version 1.0, the header padded with spaces
// to a multiple of 64 bytes and ended by '\n', then the data.
std::string npy_file(const std::string &dict, const std::string &data) {
    std::string header = dict;
    const size_t fixed = 10;
    while ((fixed + header.size() + 1) % 64) header += ' ';
    header += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += (char)(header.size() & 0xff);
    out += (char)(header.size() >> 8);
    return out + header + data;
}

template <class T>
std::string bytes_of(const std::vector<T> &v) {
    return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
}

// The message parse_npy throws for `bytes` ("" when it accepts them).
std::string refusal(const std::string &bytes) {
    return usage_error([&] { adalora::parse_npy(bytes, "bad.npy"); });
}

}  // namespace

TEST_CASE("npy: every dtype round-trips bitwise, through bytes and through a file") {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> f8 = {0.1, -0.0, 1e-310, inf, -inf, std::nan("7"), 1.0 / 3.0, -2.5e300};
    std::vector<float> f4 = {0.1f, -0.0f, 1e-40f, (float)inf, std::nanf("3"), 1.0f / 3.0f};
    std::vector<int32_t> i4 = {0, -1, 2147483647, -2147483647 - 1, 42, 7};
    std::vector<uint8_t> u1 = {0, 1, 255, 128, 7, 9};
    std::vector<NpyArray> arrays = {adalora::npy_array(f8.data(), {2, 4}), adalora::npy_array(f4.data(), {6}),
                                    adalora::npy_array(i4.data(), {3, 2}), adalora::npy_array(u1.data(), {1, 2, 3})};
    NpyArray b1 = adalora::npy_array(u1.data(), {2});
    b1.type = NpyType::b1;
    b1.data = std::string("\x01\x00", 2);
    arrays.push_back(b1);
    NpyArray scalar = adalora::npy_array(f8.data(), {});
    arrays.push_back(scalar);
    NpyArray empty = adalora::npy_array(f8.data(), {0, 5});
    arrays.push_back(empty);
    test::TempDir dir;
    for (const NpyArray &a : arrays) {
        CAPTURE(adalora::npy_descr(a.type));
        CAPTURE(adalora::npy_shape_text(a.shape));
        const std::string bytes = adalora::npy_bytes(a);
        const uint16_t header_len = (uint8_t)bytes[8] | (uint8_t)bytes[9] << 8;
        CHECK((10 + header_len) % 64 == 0);  // numpy's alignment
        CHECK(bytes[9 + header_len] == '\n');
        NpyArray back = adalora::parse_npy(bytes, "mem");
        CHECK(back.type == a.type);
        CHECK(back.shape == a.shape);
        CHECK(back.data == a.data);  // bitwise, NaN payloads and -0 included
        const std::string path = (dir.path / "a.npy").string();
        adalora::write_npy(path, a);
        NpyArray from_file = adalora::read_npy(path);
        CHECK(from_file.data == a.data);
        CHECK(from_file.shape == a.shape);
    }
    std::vector<double> as_double = arrays[2].to_double();
    CHECK(as_double[2] == 2147483647.0);
    CHECK(as_double[3] == -2147483648.0);
}

TEST_CASE("npy: numpy's header spellings and format 2.0 are read") {
    std::vector<double> v = {1, 2, 3, 4, 5, 6};
    NpyArray a = adalora::parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", bytes_of(v)), "x");
    CHECK(a.shape == std::vector<uint64_t>{2, 3});
    CHECK(a.to_double() == v);
    a = adalora::parse_npy(npy_file("{\"shape\":(6,),\"fortran_order\":False,\"descr\":\"<f8\"}", bytes_of(v)), "x");
    CHECK(a.shape == std::vector<uint64_t>{6});
    // Format 2.0: a 4-byte header length.
    std::string v1 = npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", bytes_of(v));
    const uint16_t len = (uint8_t)v1[8] | (uint8_t)v1[9] << 8;
    std::string v2 = std::string("\x93NUMPY\x02\x00", 8) + (char)(len & 0xff) + (char)(len >> 8) + std::string(2, '\0') +
                     v1.substr(10);
    CHECK(adalora::parse_npy(v2, "v2").to_double() == v);
}

TEST_CASE("npy: hostile bytes are refused with one line naming the file and the problem") {
    std::vector<double> v = {1, 2, 3, 4, 5, 6};
    const std::string data = bytes_of(v);
    const std::string good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    REQUIRE(refusal(npy_file(good, data)).empty());
    struct Case {
        std::string bytes, expect;
    };
    std::string wrong_version = npy_file(good, data);
    wrong_version[6] = 3;
    std::string long_header = npy_file(good, data);
    long_header[8] = (char)0xff;
    long_header[9] = (char)0xff;
    std::string non_ascii = npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), '\xc3\xa9': 1}", data);
    const std::vector<Case> cases = {
        {"", "bad magic"},
        {"\x93NUMPY", "bad magic"},
        {std::string("\x93NUMPX\x01\x00\x00\x00", 10), "bad magic"},
        {wrong_version, "format version 3.0"},
        {long_header, "runs past the end"},
        {non_ascii, "non-ASCII"},
        {npy_file("{'descr': '<f8', 'shape': (2, 3), }", data), "lacks a key"},
        {npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", data), "'extra' is unknown"},
        {npy_file("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}", data), "repeated"},
        {npy_file("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", data), "dtype '>f8'"},
        {npy_file("{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }", data), "dtype '<c16'"},
        {npy_file("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", data), "fortran_order True"},
        {npy_file("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 3), }", data), "True or False"},
        {npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data), "overflows"},
        {npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }", data), "overflows"},
        {npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (-2, 3), }", data), "integers >= 0"},
        {npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4), }", data), "needs 64 data bytes, the file holds 48"},
        {npy_file(good, data + "x"), "the file holds 49"},
        {npy_file(good, data.substr(0, 47)), "the file holds 47"},
        {npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), ", data), "expected a quoted string"},
        {npy_file("{'descr': '<f8, 'fortran_order': False, 'shape': (2, 3)}", data), "expected ',' or '}' at byte 17"},
        {npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} junk", data), "trailing text"},
        {npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", "\x01\x02"), "neither 0 nor 1"},
    };
    for (const Case &c : cases) {
        std::string message = refusal(c.bytes);
        CAPTURE(c.expect);
        CAPTURE(message);
        CHECK(message.find("bad.npy: not a valid .npy file: ") == 0);
        CHECK(message.find(c.expect) != std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
    }
    CHECK(usage_error([] { adalora::read_npy("/nonexistent/x.npy"); }) ==
          "/nonexistent/x.npy: cannot read the file (No such file or directory)");
    test::TempDir dir;
    CHECK(usage_error([&] { adalora::read_npy(dir.path.string()); }) ==
          dir.path.string() + ": not a regular file (a directory)");
}

TEST_CASE("npy: every truncation and byte flips of a valid file give the array or a UsageError, nothing else") {
    std::vector<float> v = {1, 2, 3, 4, 5, 6, 7, 8};
    const std::string good = adalora::npy_bytes(adalora::npy_array(v.data(), {2, 4}));
    size_t accepted = 0, refused = 0;
    auto probe = [&](const std::string &bytes) {
        try {
            adalora::parse_npy(bytes, "fuzz.npy");
            accepted++;
        } catch (const adalora::UsageError &) {
            refused++;
        }  // anything else escapes and fails the test
    };
    for (size_t n = 0; n < good.size(); n++) probe(good.substr(0, n));
    CHECK(accepted == 0);  // every shorter file lacks data
    uint64_t state = 12345;
    for (int i = 0; i < 20000; i++) {
        std::string bytes = good;
        for (int flips = 0; flips < 1 + i % 3; flips++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            bytes[(state >> 33) % (bytes.size() - v.size() * 4)] = (char)(state >> 17);  // the header only
        }
        probe(bytes);
    }
    CHECK(refused > 0);
    CHECK(accepted > 0);  // a flipped padding space is harmless
}

TEST_CASE("npy: npy_copy_reals checks the dtype and the shape") {
    std::vector<double> v = {1, 2, 3, 4};
    std::vector<real> out(4);
    NpyArray a = adalora::npy_array(v.data(), {2, 2});
    adalora::npy_copy_reals(a, {2, 2}, "a.npy", out.data());
    CHECK(out[3] == 4);
    CHECK(usage_error([&] { adalora::npy_copy_reals(a, {4}, "a.npy", out.data()); }) ==
          "a.npy: shape (2, 2), expected (4,)");
    std::vector<int32_t> k = {1, 2, 3, 4};
    CHECK(usage_error([&] { adalora::npy_copy_reals(adalora::npy_array(k.data(), {2, 2}), {2, 2}, "k.npy", out.data()); })
              .find("k.npy: dtype <i4") == 0);
}

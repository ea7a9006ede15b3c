// test_safetensors.cpp: the safetensors writer and reader (driver/safetensors.h):
// round trips in both dtypes, each class of hostile file refused with a
// one-line UsageError naming the file and the problem, and every truncation
// and single-byte corruption of a valid file either parsed or refused.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "formats/safetensors.h"
#include "support/test_files.h"

using adalora::Dtype;
using adalora::Safetensors;
using adalora::Tensor;

namespace {

Tensor raw_tensor(const std::string &name, Dtype dtype, std::vector<int64_t> shape, size_t count, int seed) {
    Tensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    for (size_t i = 0; i < count; i++) {
        if (dtype == Dtype::F32) {
            float x = (float)(seed + 0.1 * (double)i) * (i % 2 ? -1.0f : 1.0f);
            t.bytes.append(reinterpret_cast<const char *>(&x), 4);
        } else {
            double x = (seed + 0.1 * (double)i) * (i % 2 ? -1.0 : 1.0);
            t.bytes.append(reinterpret_cast<const char *>(&x), 8);
        }
    }
    return t;
}

Safetensors sample() {
    Safetensors f;
    f.metadata = {{"format", "pt"}, {"note", "a \"quoted\" value"}};
    f.tensors.push_back(raw_tensor("a.weight", Dtype::F32, {2, 3}, 6, 1));
    f.tensors.push_back(raw_tensor("empty", Dtype::F32, {0, 5}, 0, 0));
    f.tensors.push_back(raw_tensor("b", Dtype::F64, {4}, 4, 2));
    f.tensors.push_back(raw_tensor("scalar", Dtype::F64, {}, 1, 3));
    return f;
}

// The parse error of `bytes` ("" when it parses).
std::string parse_error(const std::string &bytes) {
    return test::usage_error([&] { adalora::parse_safetensors(bytes, "f.safetensors"); });
}

void check_refused(const std::string &bytes, const std::string &culprit) {
    const std::string e = parse_error(bytes);
    CAPTURE(e);
    CHECK(e.rfind("f.safetensors: ", 0) == 0);
    CHECK(e.find(culprit) != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("safetensors: a file round-trips bit for bit, metadata included, in F32 and F64") {
    const Safetensors f = sample();
    const std::string bytes = adalora::serialize_safetensors(f);
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    CHECK(n % 8 == 0);  // the header is padded like the safetensors library pads it
    CHECK(bytes.size() == 8 + n + 6 * 4 + 4 * 8 + 8);
    const Safetensors g = adalora::parse_safetensors(bytes, "f");
    CHECK(g.metadata == f.metadata);
    REQUIRE(g.tensors.size() == f.tensors.size());
    for (size_t i = 0; i < f.tensors.size(); i++) {
        CAPTURE(f.tensors[i].name);
        CHECK(g.tensors[i].name == f.tensors[i].name);
        CHECK(g.tensors[i].dtype == f.tensors[i].dtype);
        CHECK(g.tensors[i].shape == f.tensors[i].shape);
        CHECK(g.tensors[i].bytes == f.tensors[i].bytes);
    }
    CHECK(adalora::serialize_safetensors(g) == bytes);
    REQUIRE(g.find("b") != nullptr);
    CHECK(g.find("missing") == nullptr);
    CHECK(adalora::tensor_values(*g.find("b"))[1] == (real)-2.1);
}

TEST_CASE("safetensors: make_tensor and tensor_values keep real values exactly") {
    const real v[6] = {1, -2.5, (real)0.1, (real)1e-30, 0, 7};
    const Tensor t = adalora::make_tensor("x", {2, 3}, v);
    CHECK(t.dtype == adalora::real_dtype());
    CHECK(t.elements() == 6);
    const std::vector<real> back = adalora::tensor_values(t);
    CHECK(std::memcmp(back.data(), v, sizeof v) == 0);
}

TEST_CASE("safetensors: the writer refuses a duplicate name and a shape that does not match its bytes") {
    Safetensors f = sample();
    f.tensors.push_back(f.tensors[0]);
    CHECK_THROWS_AS(adalora::serialize_safetensors(f), std::invalid_argument);
    Safetensors g = sample();
    g.tensors[0].shape = {3, 3};
    CHECK_THROWS_AS(adalora::serialize_safetensors(g), std::invalid_argument);
}

TEST_CASE("safetensors: hostile files are refused with one line naming the file and the problem") {
    using test::safetensors_bytes;
    const std::string good = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    CHECK(parse_error(safetensors_bytes(good, 8)).empty());

    SUBCASE("truncated") {
        check_refused("", "truncated");
        check_refused(std::string("\x10\0\0", 3), "truncated");
        const std::string whole = safetensors_bytes(good, 8);
        check_refused(whole.substr(0, 20), "runs past the end of the file");
        check_refused(whole.substr(0, whole.size() - 1), "runs past the end of the data");
    }
    SUBCASE("header length absurd") {
        std::string b = safetensors_bytes(good, 8);
        const uint64_t huge = ~uint64_t(0);
        std::memcpy(&b[0], &huge, 8);
        check_refused(b, "absurd");
    }
    SUBCASE("not JSON, or not an object") {
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32",)", 0), "not valid JSON");
        check_refused(safetensors_bytes(R"([1, 2])", 0), "does not start with '{'");
        check_refused(safetensors_bytes(R"({"t":[1]})", 0), "unexpected array");
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}})", 8), "unexpected array");
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8), "unknown field 'x'");
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","shape":[2]}})", 0), "lacks data_offsets");
        check_refused(safetensors_bytes(R"({"__metadata__":{"k":1}})", 0), "allowed: a string");
    }
    SUBCASE("unknown dtype") {
        check_refused(safetensors_bytes(R"({"t":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}})", 8),
                      "dtype 'BF16', which is not supported (allowed: F32, F64)");
    }
    SUBCASE("offsets overlapping, leaving gaps, backwards or past the end") {
        check_refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
                      "overlaps");
        check_refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "gap");
        check_refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8), "backwards");
        check_refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8),
                      "runs past the end of the data");
        check_refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 8),
                      "more than 2 values");
        check_refused(safetensors_bytes(good, 12), "after the last tensor");
    }
    SUBCASE("shape that does not match the byte range, negative or overflowing") {
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "does not match");
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", 8), "does not match");
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,4],)"
                                        R"("data_offsets":[0,8]}})", 8),
                      "does not match");
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "negative");
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","shape":[0,1099511627777],"data_offsets":[0,0]}})", 0),
                      "dimension 1099511627777 is absurd");
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8), "not an integer");
    }
    SUBCASE("duplicate names") {
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                        R"("t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                      "'t' appears twice");
        check_refused(safetensors_bytes(R"({"t":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8),
                      "twice");
    }
}

TEST_CASE("safetensors: every truncation and every single-byte change of a valid file parses or is refused") {
    const std::string bytes = adalora::serialize_safetensors(sample());
    long refused = 0, parsed = 0;
    auto attempt = [&](const std::string &b) {
        try {
            adalora::parse_safetensors(b, "f");
            parsed++;
        } catch (const adalora::UsageError &) {
            refused++;
        }
    };
    for (size_t len = 0; len < bytes.size(); len++) attempt(bytes.substr(0, len));
    CHECK(refused == (long)bytes.size());  // no proper prefix is a valid file
    for (size_t i = 0; i < bytes.size(); i++)
        for (int x : {0x01, 0x20, 0x80, 0xff}) {
            std::string b = bytes;
            b[i] = (char)(b[i] ^ x);
            attempt(b);
        }
    CHECK(parsed > 0);  // flips inside the data stay valid files
    CHECK(refused > (long)bytes.size());
}

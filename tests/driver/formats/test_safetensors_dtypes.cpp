// test_safetensors_dtypes.cpp: the half-precision dtypes of the safetensors
// reader (formats/safetensors.h): F16 and BF16 against an arithmetic
// reference over all 65536 bit patterns and against hand-decoded values,
// and what each DtypeSet takes, skips and refuses.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "formats/safetensors.h"
#include "support/test_files.h"

namespace {

// IEEE binary16 by its definition, in double arithmetic (no bit moves):
// (-1)^s · f · 2^-24 when e = 0, (-1)^s · (1024 + f) · 2^(e-25) otherwise.
double f16_reference(unsigned h) {
    const unsigned s = h >> 15, e = (h >> 10) & 31, f = h & 1023;
    const double sign = s ? -1.0 : 1.0;
    if (e == 31) return f ? NAN : sign * INFINITY;
    return sign * (e == 0 ? std::ldexp((double)f, -24) : std::ldexp(1024.0 + f, (int)e - 25));
}

// bfloat16 by its definition: 8 exponent bits biased by 127, 7 fraction bits.
double bf16_reference(unsigned h) {
    const unsigned s = h >> 15, e = (h >> 7) & 255, f = h & 127;
    const double sign = s ? -1.0 : 1.0;
    if (e == 255) return f ? NAN : sign * INFINITY;
    return sign * (e == 0 ? std::ldexp((double)f, -133) : std::ldexp(128.0 + f, (int)e - 134));
}

// A one-tensor file of `dtype` holding the 16-bit patterns `h`.
std::string half_file(const char *dtype, const std::vector<uint16_t> &h) {
    const std::string header = std::string(R"({"t":{"dtype":")") + dtype + R"(","shape":[)" + std::to_string(h.size()) +
                               R"(],"data_offsets":[0,)" + std::to_string(2 * h.size()) + "]}}";
    std::string bytes = test::safetensors_bytes(header, 0);
    bytes.append(reinterpret_cast<const char *>(h.data()), 2 * h.size());
    return bytes;
}

}  // namespace

TEST_CASE("safetensors: F16 and BF16 widen to float exactly, all 65536 patterns each") {
    long checked = 0;
    for (unsigned h = 0; h < 65536; h++) {
        CAPTURE(h);
        const double want16 = f16_reference(h), want_b = bf16_reference(h);
        const float got16 = adalora::f16_to_float((uint16_t)h), got_b = adalora::bf16_to_float((uint16_t)h);
        if (std::isnan(want16)) CHECK(std::isnan(got16));
        else CHECK(((double)got16 == want16 && std::signbit(got16) == std::signbit(want16)));
        if (std::isnan(want_b)) CHECK(std::isnan(got_b));
        else CHECK(((double)got_b == want_b && std::signbit(got_b) == std::signbit(want_b)));
        checked++;
    }
    CHECK(checked == 65536);
}

TEST_CASE("safetensors: hand-decoded F16 and BF16 values, subnormals, zeros, inf and NaN") {
    using adalora::bf16_to_float;
    using adalora::f16_to_float;
    CHECK(f16_to_float(0x3C00) == 1.0f);                             // 0 01111 0000000000
    CHECK(f16_to_float(0x3C01) == 1.0f + 1.0f / 1024);               // the next half after 1
    CHECK(f16_to_float(0xC000) == -2.0f);                            // 1 10000 0000000000
    CHECK(f16_to_float(0x3555) == 0.333251953125f);                  // 1365 / 4096
    CHECK(f16_to_float(0x7BFF) == 65504.0f);                         // the largest half
    CHECK(f16_to_float(0x0400) == 1.0f / 16384);                     // the smallest normal, 2^-14
    CHECK(f16_to_float(0x0001) == 1.0f / 16777216);                  // the smallest subnormal, 2^-24
    CHECK(f16_to_float(0x03FF) == 1023.0f / 16777216);               // the largest subnormal
    CHECK(f16_to_float(0x8001) == -1.0f / 16777216);
    CHECK((f16_to_float(0x8000) == 0.0f && std::signbit(f16_to_float(0x8000))));
    CHECK((f16_to_float(0x0000) == 0.0f && !std::signbit(f16_to_float(0x0000))));
    CHECK(f16_to_float(0x7C00) == INFINITY);
    CHECK(f16_to_float(0xFC00) == -INFINITY);
    CHECK(std::isnan(f16_to_float(0x7E00)));
    CHECK(std::isnan(f16_to_float(0x7C01)));  // a signalling NaN stays a NaN
    CHECK(bf16_to_float(0x3F80) == 1.0f);
    CHECK(bf16_to_float(0xC040) == -3.0f);
    CHECK(bf16_to_float(0x4049) == 3.140625f);
    CHECK(bf16_to_float(0x3E20) == 0.15625f);
    CHECK(bf16_to_float(0x7F80) == INFINITY);
    CHECK(std::isnan(bf16_to_float(0xFFC0)));
}

TEST_CASE("safetensors: F16 and BF16 files read under DtypeSet::floats, into real") {
    using adalora::DtypeSet;
    const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x0001, 0x7BFF};
    const adalora::Safetensors a = adalora::parse_safetensors(half_file("F16", f16), "a", DtypeSet::floats);
    REQUIRE(a.tensors.size() == 1);
    CHECK(a.tensors[0].dtype == adalora::Dtype::F16);
    CHECK(a.tensors[0].elements() == 4);
    CHECK(adalora::dtype_size(adalora::Dtype::F16) == 2);
    CHECK(std::string(adalora::dtype_name(adalora::Dtype::BF16)) == "BF16");
    CHECK(adalora::tensor_values(a.tensors[0]) == std::vector<real>{1, -2, (real)std::ldexp(1.0, -24), 65504});
    const adalora::Safetensors b = adalora::parse_safetensors(half_file("BF16", {0x3F80, 0x4049}), "b", DtypeSet::floats);
    CHECK(adalora::tensor_values(b.tensors.at(0)) == std::vector<real>{1, (real)3.140625});
    // The round trip keeps the bytes and the dtype.
    CHECK(adalora::serialize_safetensors(b) ==
          adalora::serialize_safetensors(adalora::parse_safetensors(adalora::serialize_safetensors(b), "b", DtypeSet::floats)));
}

TEST_CASE("safetensors: F16 is refused by default; floats skips the integer dtypes and refuses unknown ones") {
    using adalora::DtypeSet;
    const std::string e = test::usage_error([] { adalora::parse_safetensors(half_file("F16", {0x3C00}), "f.st"); });
    CHECK(e == "f.st: tensor 't' has dtype 'F16', which is not supported (allowed: F32, F64)");

    // position_ids, as BERT checkpoints carry it: I64, checked and left out.
    const std::string two = test::safetensors_bytes(R"({"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
                                                    R"("w":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}})",
                                                    20);
    const adalora::Safetensors s = adalora::parse_safetensors(two, "f.st", DtypeSet::floats);
    REQUIRE(s.tensors.size() == 1);
    CHECK(s.tensors[0].name == "w");
    CHECK(s.skipped == std::map<std::string, std::string>{{"ids", "I64"}});
    // A skipped tensor's shape is still checked against its bytes.
    const std::string bad = test::safetensors_bytes(R"({"ids":{"dtype":"I64","shape":[3],"data_offsets":[0,16]}})", 16);
    CHECK(test::usage_error([&] { adalora::parse_safetensors(bad, "f.st", DtypeSet::floats); }).find("does not match") !=
          std::string::npos);

    const std::string c64 = test::safetensors_bytes(R"({"z":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", 8);
    const std::string m = test::usage_error([&] { adalora::parse_safetensors(c64, "f.st", DtypeSet::floats); });
    CAPTURE(m);
    CHECK(m.rfind("f.st: tensor 'z' has dtype 'C64', which is not supported (allowed: F32, F64, F16, BF16; tensors of BOOL,",
                  0) == 0);
    CHECK(m.find('\n') == std::string::npos);
}

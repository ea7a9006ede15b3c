// fuzz_npy.cpp: libFuzzer target of the .npy reader (driver/npy.h); the
// Makefile builds it once that header exists.
#include "fuzz_target.h"
#include "formats/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace adalora;
    return fuzz::expect_value_or_usage_error(data, size, [](const std::string &bytes) { (void)parse_npy(bytes, "fuzz.npy"); });
}

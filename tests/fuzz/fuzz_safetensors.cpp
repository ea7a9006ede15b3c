// fuzz_safetensors.cpp: libFuzzer target of the safetensors reader
// (driver/safetensors.h); the Makefile builds it once that header exists.
// Each input is parsed as adalora's own files are (F32, F64 only) and as
// pretrained checkpoints are (DtypeSet::floats: F16, BF16 too, other dtypes
// skipped), and every tensor read the second way is converted to real.
#include "fuzz_target.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace adalora;
    fuzz::expect_value_or_usage_error(data, size,
                                      [](const std::string &bytes) { (void)parse_safetensors(bytes, "fuzz.safetensors"); });
    return fuzz::expect_value_or_usage_error(data, size, [](const std::string &bytes) {
        for (const Tensor &t : parse_safetensors(bytes, "fuzz.safetensors", DtypeSet::floats).tensors)
            (void)tensor_values(t);
    });
}

// fuzz_checkpoint.cpp: libFuzzer target of the checkpoint parser
// (driver/checkpoint.h); the Makefile builds it once that header exists.
// Random bytes almost never pass the CRC-32 check, so each input is parsed
// twice: as it is (the header checks) and resealed with a valid size and
// checksum (reseal_checkpoint), which lets mutations reach the record parser.
#include "fuzz_target.h"
#include "train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace adalora;
    fuzz::expect_value_or_usage_error(data, size, [](const std::string &bytes) { (void)parse_checkpoint(bytes, "fuzz.ckpt"); });
    return fuzz::expect_value_or_usage_error(data, size, [](std::string bytes) {
        reseal_checkpoint(bytes);
        (void)parse_checkpoint(bytes, "fuzz.ckpt");
    });
}

// fuzz_target.h: what every libFuzzer target of tests/fuzz/ does with its
// input: hand the bytes to one parser and accept only two outcomes, a parsed
// value or adalora::UsageError (the refusal the driver turns into exit code 2).
// Anything else (another exception, a sanitizer report, a hang, a leak) is a
// crash libFuzzer records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/run_config.h"  // adalora::UsageError

namespace fuzz {

template <class Parse>
int expect_value_or_usage_error(const uint8_t *data, size_t size, Parse parse) {
    const std::string bytes(reinterpret_cast<const char *>(data), size);
    try {
        parse(bytes);
    } catch (const adalora::UsageError &) {
        // refused with a message: the expected answer to bad bytes
    }
    return 0;
}

}  // namespace fuzz

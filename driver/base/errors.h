// errors.h: the two failures every layer of the driver reports by throwing,
// and that main turns into its exit codes (README, exit codes).
#pragma once

#include <stdexcept>

namespace adalora {

// A bad argument, option, value or file: main prints the one-line message and
// exits with code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A non-finite loss, gradient or parameter stopped training (--on-nonfinite
// stop): main prints the message (step, module, tensor) and exits with code 3.
struct NonFiniteError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace adalora

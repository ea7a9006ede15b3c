// lib_status.h: a C library call's ada_status turned into an exception, for
// the driver's calls into lib/ and reference_svd/ whose failure is a bug or
// a resource problem rather than bad input (bad input is refused earlier,
// with a UsageError).
#pragma once

#include "ada_common.h"

namespace adalora {

// Throws std::runtime_error("<what>: <ada_last_error()>") unless st is ADA_OK.
void check(ada_status st, const char *what);

}  // namespace adalora

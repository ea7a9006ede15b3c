// registry.h: every suite the report knows, one SuiteDef each (registry.cpp).
// A suite is experiments/suites/NAME.toml (its grid, for `adalora sweep`)
// beside NAME.cpp (its metrics, claims and plots, for `adalora report`);
// adding one is its TOML, its .cpp and one row in registry.cpp.
#pragma once

#include "harness/report.h"

namespace adalora::suites {

// In report order (REPORT.md's sections and its plots follow it).
const report::Registry &registry();

}  // namespace adalora::suites

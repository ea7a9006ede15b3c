// trace_diff.h: `adalora trace-diff A B [--rtol R] [--atol A]`: compares two
// --trace directories step by step (README "Step traces").
//
// Budgets, mask actions, kept counts, phases, step numbers and keep masks
// must match exactly. Every other tensor and scalar x is compared by
//   rel = max|a − b| / max(max|a|, max|b|, 1e-300)
// and passes when rel <= rtol or max|a − b| <= atol (NaN only where the other
// side has NaN). Prints the first difference (step, module, tensor) and a
// summary line; returns 0 when equal within tolerance, 1 when not. Missing
// directories, malformed indexes, different step sets, modules, tensor kinds
// or shapes are bad input (UsageError, exit 2).
//
// --ignore K1,K2 names scalars or tensor kinds that one implementation does
// not expose (PEFT keeps no triplet scores S between mask steps, no raw
// regulariser, no phase label): they are left out of the comparison and may
// be missing from either trace; the summary lists them as not compared.
#pragma once

#include <string>

namespace adalora {

struct TraceDiffArgs {
    std::string a, b;
    double rtol = 1e-9, atol = 0.0;
    std::string ignore;  // comma-separated scalar names and tensor kinds
};

int cmd_trace_diff(const TraceDiffArgs &args);

}  // namespace adalora

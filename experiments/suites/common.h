// common.h: what several suites ask of a cell: is it AdaLoRA with masking,
// the paper's AdaLoRA, which budget did it have.
#pragma once

#include <string>

#include "harness/claims.h"

namespace adalora::suites {

using report::Cell;
using report::Pred;

// AdaLoRA whose pruned triplets stay masked (may come back): neither
// --no-prune nor --hard-delete.
bool adalora_masking(const Cell &c);
// The paper's AdaLoRA: s = Ī·Ū, γ > 0, masking (pruned triplets may come back).
bool adalora_paper(const Cell &c);
Pred method_is(const std::string &m);
// The budget a cell was asked for: "b(T)=N" when given, else "target_r=N".
std::string budget_of(const Cell &c);

}  // namespace adalora::suites

// common.cpp: cell predicates shared by the suites (common.h).
#include "suites/common.h"

#include <cmath>

namespace adalora::suites {

using namespace report;

bool adalora_masking(const Cell &c) {
    return c.method() == "adalora" && !cfg_flag(c, "no_prune") && !cfg_flag(c, "hard_delete");
}

bool adalora_paper(const Cell &c) {
    return adalora_masking(c) && cfg_str(c, "importance", "sens-unc") == "sens-unc" && cfg_num(c, "orth_reg_weight") > 0;
}

Pred method_is(const std::string &m) {
    return [m](const Cell &c) { return c.method() == m; };
}

std::string budget_of(const Cell &c) {
    double b = cfg_num(c, "target_budget");
    if (std::isfinite(b) && b > 0) return "b(T)=" + format_number(b, 8);
    double r = cfg_num(c, "target_r");
    return std::isfinite(r) ? "target_r=" + format_number(r, 8) : "budget ?";
}

}  // namespace adalora::suites

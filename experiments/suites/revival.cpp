// revival.cpp: the revival suite (revival.toml): do masked triplets come
// back, and does masking beat hard delete (a pruned triplet stays zero)?
#include <cmath>

#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

double revived_total(const Cell &c) { return column_sum(c, "revived"); }
double pruned_total(const Cell &c) { return column_sum(c, "pruned"); }

std::vector<std::string> revival_claims(const Suite &s) {
    std::vector<std::string> out;
    Pred masking = adalora_masking;
    Pred hard = [](const Cell &c) { return c.method() == "adalora" && cfg_flag(c, "hard_delete"); };
    std::vector<double> revived, pruned;
    for (const Cell *c : ordered_cells(s))
        if (masking(*c)) {
            revived.push_back(revived_total(*c));
            pruned.push_back(pruned_total(*c));
        }
    Stats r = summarize(revived), p = summarize(pruned);
    if (r.n == 0)
        out.push_back(std::string("- masked triplets do come back: ") + kNotMeasured +
                      " (needs adalora cells with masking and a revived column in metrics.csv)");
    else
        out.push_back("- masked triplets do come back: " + yes_no(r.mean > 0) + " (" + num(r.mean) +
                      " revivals per run on average, against " + num(p.mean) + " prunings, over " + std::to_string(r.n) +
                      " adalora runs with masking)");
    std::vector<double> hard_rev;
    for (const Cell *c : ordered_cells(s))
        if (hard(*c)) hard_rev.push_back(revived_total(*c));
    Stats hr = summarize(hard_rev);
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        auto on = [task](Pred q) { return in_task(task, q); };
        Verdict v = compare(s, on(masking), "masking", on(hard), "hard delete", budget_of, loss.value, true);
        out.push_back(verdict_sentence("masking beats hard delete (a pruned triplet stays zero) by " + loss.name +
                                           " at every budget" + on_task(task),
                                       v, "needs adalora cells with and without config.hard_delete" + on_task(task)));
    }
    if (hr.n > 0)
        out.push_back("- check: hard-delete runs revive " + num(hr.mean) + " triplets per run on average (should be 0)");
    return out;
}

}  // namespace

SuiteDef revival() {
    SuiteDef d;
    d.name = "revival";
    d.metrics = {cell_metric("revived_total", "revived (total)", revived_total),
                 cell_metric("pruned_total", "pruned (total)", pruned_total)};
    for (const Metric &m : standard_metrics({"final_test_loss", "gap_to_oracle"})) d.metrics.push_back(m);
    d.claims = revival_claims;
    d.part = kSyntheticPart;
    return d;
}

}  // namespace adalora::suites

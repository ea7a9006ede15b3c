// conventions.cpp: the conventions suite (conventions.toml): each preset and
// each deviating row against the paper preset, per task and budget.
#include <algorithm>
#include <cmath>
#include <map>

#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

// The deviation a cell tests: its settings other than the suite's axes and
// the seed, e.g. "convention=peft" or "ties=kthvalue".
std::string deviation_of(const Suite &s, const Cell &c) {
    // The grid's product axes (suite.json "axes"); the variants' keys are the deviation.
    const nlohmann::json axes = s.meta.value("axes", nlohmann::json::object());
    std::string d;
    for (auto &[k, v] : c.cell().items()) {
        if (k == "seed" || axes.contains(k)) continue;
        d += (d.empty() ? "" : ", ") + k + "=" + json_text(v);
    }
    return d;
}

// Each preset and each deviating row against the paper preset, per task and
// budget: does it change the final loss (and, with an oracle, the allocation)?
std::vector<std::string> conventions_claims(const Suite &s) {
    std::vector<std::string> out;
    const std::string paper = "convention=paper";
    std::vector<std::string> deviations;
    for (const Cell *c : ordered_cells(s)) {
        std::string d = deviation_of(s, *c);
        if (d != paper && std::find(deviations.begin(), deviations.end(), d) == deviations.end()) deviations.push_back(d);
    }
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        bool oracle = loss.name == "gap to the oracle";
        auto in = [&](const std::string &d) {
            return [&s, d, task](const Cell &c) { return c.task() == task && deviation_of(s, c) == d; };
        };
        for (const auto &d : deviations) {
            Verdict v = compare(s, in(d), d, in(paper), "paper", budget_of, loss.value, true);
            if (!v.measured()) {
                out.push_back("- `" + d + "`" + on_task(task) + ": " + kNotMeasured + " (no paper-preset cells to compare)");
                continue;
            }
            bool changes = v.ci_known > 0 && v.ci_disjoint == v.ci_known;
            std::string line = "- `" + d + "` against the paper preset" + on_task(task) + ", " + loss.name + ": " +
                               (changes ? "**changes it** (95% CIs disjoint at every budget)"
                                        : "**no clear change** (95% CIs disjoint at " + std::to_string(v.ci_disjoint) +
                                              " of " + std::to_string(v.ci_known) + " budgets)") +
                               "; lower at " + std::to_string(v.wins) + " of " + std::to_string(v.groups) + " (" +
                               v.details + ")";
            if (oracle) {
                Verdict a = compare(s, in(d), d, in(paper), "paper", budget_of,
                                    [](const Cell &x) { return json_number(x.summary, "allocation_error"); }, true);
                line += "; allocation error: " + a.details;
            }
            out.push_back(line);
        }
    }
    return out;
}

}  // namespace

SuiteDef conventions() {
    SuiteDef d;
    d.name = "conventions";
    d.metrics = standard_metrics({"gap_to_oracle", "final_test_loss", "allocation_error", "modules_matching_oracle"});
    d.claims = conventions_claims;
    return d;
}

}  // namespace adalora::suites

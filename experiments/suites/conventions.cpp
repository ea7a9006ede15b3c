// conventions.cpp: the conventions suite (conventions.toml): each preset and
// each deviating row against the paper preset, per task and budget.
#include <algorithm>
#include <cmath>
#include <map>

#include "harness/report_stats.h"

#include "harness/paired.h"
#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

const char kPaper[] = "convention=paper";

// A sentence task: its cells report accuracy.
bool has_accuracy(const Suite &s, const std::string &task) {
    for (const Cell *c : ordered_cells(s))
        if (c->task() == task && std::isfinite(json_number(c->summary, "final_test_accuracy"))) return true;
    return false;
}

// Each preset and each deviating row against the paper preset, per task and
// budget: does it change the final loss (and, with an oracle, the allocation)?
// On a sentence task: does it move the accuracy?
std::vector<std::string> conventions_claims(const Suite &s) {
    std::vector<std::string> out;
    const std::string paper = kPaper;
    std::vector<std::string> deviations;
    for (const Cell *c : ordered_cells(s)) {
        std::string d = variant_text(s, *c);
        if (d != paper && std::find(deviations.begin(), deviations.end(), d) == deviations.end()) deviations.push_back(d);
    }
    for (const auto &task : tasks_of(s)) {
        if (has_accuracy(s, task)) {
            for (auto &line : against_reference(s, task, kPaper, "the paper preset", deviations)) out.push_back(std::move(line));
            continue;
        }
        Loss loss = primary_loss(s, task);
        bool oracle = loss.name == "gap to the oracle";
        auto in = [&](const std::string &d) {
            return [&s, d, task](const Cell &c) { return c.task() == task && variant_text(s, c) == d; };
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
    d.part = kSyntheticPart;
    return d;
}

SuiteDef conventions_encoder() {
    SuiteDef d;
    d.name = "conventions-encoder";
    d.metrics = standard_metrics({"final_test_accuracy", "final_dev_accuracy", "final_test_loss"});
    d.claims = conventions_claims;
    d.part = kEncoderPart;
    return d;
}

}  // namespace adalora::suites

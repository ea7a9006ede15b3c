// conventions.cpp: the conventions suite (conventions.toml): each preset and
// each deviating row against the paper preset, per task and budget.
#include <algorithm>
#include <cmath>
#include <map>

#include "harness/report_stats.h"

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

const char kPaper[] = "convention=paper";

// A sentence task: its cells report accuracy.
bool has_accuracy(const Suite &s, const std::string &task) {
    for (const Cell *c : ordered_cells(s))
        if (c->task() == task && std::isfinite(json_number(c->summary, "final_test_accuracy"))) return true;
    return false;
}

// Deviation minus the paper preset, seed by seed (same seed: same data order
// and initial adapters, so the difference is the convention's alone).
Stats paired_difference(const std::vector<const Cell *> &dev, const std::vector<const Cell *> &paper, const Value &f) {
    std::map<long, double> base;
    for (const Cell *c : paper) base[c->seed] = f(*c);
    std::vector<double> diffs;
    for (const Cell *c : dev)
        if (base.count(c->seed)) diffs.push_back(f(*c) - base[c->seed]);
    return summarize(diffs);
}

std::string points(double v) { return (v >= 0 ? "+" : "") + num(100 * v, 3) + " points"; }

// A sentence task: how far each deviation moves test accuracy from the paper
// preset at equal budget, as the mean of the per-seed differences with its
// 95% t-interval; it moves accuracy when that interval excludes 0.
std::vector<std::string> accuracy_claims(const Suite &s, const std::string &task,
                                         const std::vector<std::string> &deviations) {
    std::vector<std::string> out;
    const Value acc = [](const Cell &c) { return json_number(c.summary, "final_test_accuracy"); };
    auto cells_of = [&](const std::string &d) {
        std::vector<const Cell *> v;
        for (const Cell *c : ordered_cells(s))
            if (c->task() == task && deviation_of(s, *c) == d) v.push_back(c);
        return v;
    };
    const std::vector<const Cell *> paper = cells_of(kPaper);
    for (const auto &d : deviations) {
        const Stats diff = paired_difference(cells_of(d), paper, acc);
        std::string line = "- `" + d + "` against the paper preset" + on_task(task) + ", test accuracy: ";
        if (diff.n == 0) {
            out.push_back(line + kNotMeasured + " (no cells of both with the same seed)");
            continue;
        }
        line += points(diff.mean) + " (paired over " + std::to_string(diff.n) + (diff.n == 1 ? " seed" : " seeds");
        if (!diff.spread()) {
            out.push_back(line + "; one seed: no interval)");
            continue;
        }
        const bool moves = diff.ci_lo > 0 || diff.ci_hi < 0;
        const bool identical = diff.ci_lo == 0 && diff.ci_hi == 0;
        line += ", 95% CI [" + points(diff.ci_lo) + ", " + points(diff.ci_hi) + "]): ";
        out.push_back(line + (identical ? "**identical** at every seed"
                              : moves  ? "**moves it**"
                                       : "**no clear change** (the interval contains 0)"));
    }
    return out;
}

// Each preset and each deviating row against the paper preset, per task and
// budget: does it change the final loss (and, with an oracle, the allocation)?
// On a sentence task: does it move the accuracy?
std::vector<std::string> conventions_claims(const Suite &s) {
    std::vector<std::string> out;
    const std::string paper = kPaper;
    std::vector<std::string> deviations;
    for (const Cell *c : ordered_cells(s)) {
        std::string d = deviation_of(s, *c);
        if (d != paper && std::find(deviations.begin(), deviations.end(), d) == deviations.end()) deviations.push_back(d);
    }
    for (const auto &task : tasks_of(s)) {
        if (has_accuracy(s, task)) {
            for (auto &line : accuracy_claims(s, task, deviations)) out.push_back(std::move(line));
            continue;
        }
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

SuiteDef conventions_encoder() {
    SuiteDef d;
    d.name = "conventions-encoder";
    d.metrics = standard_metrics({"final_test_accuracy", "final_dev_accuracy", "final_test_loss"});
    d.claims = conventions_claims;
    return d;
}

}  // namespace adalora::suites

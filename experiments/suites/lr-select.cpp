// lr-select.cpp: the lr-select suite (lr-select.toml): every method's
// learning rate, chosen on the dev split (never the test split) before the
// encoder suites run, and a check that every encoder cell of the report ran
// its method at the chosen rate.
#include <algorithm>
#include <cmath>

#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

double dev_accuracy(const Cell &c) { return json_number(c.summary, "final_dev_accuracy"); }

// The methods of the suite's cells, in grid order.
std::vector<std::string> methods_of(const Suite &s) {
    std::vector<std::string> out;
    for (const Cell *c : ordered_cells(s))
        if (std::find(out.begin(), out.end(), c->method()) == out.end()) out.push_back(c->method());
    return out;
}

// Each rate a method ran at, with its dev accuracy over the seeds.
struct RateStats {
    double lr;
    Stats dev;
};

std::vector<RateStats> rates_of(const Suite &s, const std::string &method) {
    std::vector<RateStats> out;
    for (const Cell *c : ordered_cells(s)) {
        if (c->method() != method) continue;
        const double lr = cfg_num(*c, "lr");
        if (std::none_of(out.begin(), out.end(), [&](const RateStats &r) { return r.lr == lr; }))
            out.push_back({lr, {}});
    }
    for (RateStats &r : out) {
        std::vector<double> acc;
        for (const Cell *c : ordered_cells(s))
            if (c->method() == method && cfg_num(*c, "lr") == r.lr) acc.push_back(dev_accuracy(*c));
        r.dev = summarize(acc);
    }
    return out;
}

// The rule of lr-select.toml: the highest mean dev accuracy; ties, the larger rate.
double chosen_rate(const std::vector<RateStats> &rates) {
    const RateStats *best = nullptr;
    for (const RateStats &r : rates) {
        if (r.dev.n == 0) continue;
        if (!best || r.dev.mean > best->dev.mean || (r.dev.mean == best->dev.mean && r.lr > best->lr)) best = &r;
    }
    return best ? best->lr : NAN;
}

std::vector<std::string> choice_lines(const Suite &s) {
    std::vector<std::string> out;
    for (const std::string &m : methods_of(s)) {
        const std::vector<RateStats> rates = rates_of(s, m);
        std::string each;
        for (const RateStats &r : rates)
            each += (each.empty() ? "" : ", ") + format_number(r.lr, 3) + ": " + format_number(r.dev.mean, 3);
        const double lr = chosen_rate(rates);
        const auto [lo, hi] = std::minmax_element(rates.begin(), rates.end(),
                                                  [](const RateStats &a, const RateStats &b) { return a.lr < b.lr; });
        const bool at_end = rates.size() > 1 && (lr == lo->lr || lr == hi->lr);
        out.push_back("- " + m + ": lr **" + format_number(lr, 3) + "** (mean dev accuracy at each rate, " + each + ")" +
                      (at_end ? "; at an end of the grid: a rate beyond it may be better" : ""));
    }
    return out;
}

// Every cell on the encoder (its summary has provenance) of the other
// suites: does it run its method at the chosen rate? AdaLoRA's variants
// (importance, γ, schedule, conventions) take AdaLoRA's.
std::vector<std::string> check_lines(const Suite &s, const Dataset &data) {
    std::vector<std::string> out;
    for (const std::string &m : methods_of(s)) {
        const double lr = chosen_rate(rates_of(s, m));
        if (!std::isfinite(lr)) continue;
        std::string at, off;
        for (const Suite &other : data.suites) {
            if (other.name == s.name) continue;
            long same = 0, differ = 0;
            double other_lr = NAN;
            for (const Cell &c : other.cells) {
                if (c.method() != m || !c.summary.contains("provenance")) continue;
                const double x = cfg_num(c, "lr");
                if (std::fabs(x - lr) <= 1e-9 * lr) same++;
                else differ++, other_lr = x;
            }
            if (same) at += (at.empty() ? "" : ", ") + other.name + " " + std::to_string(same);
            if (differ)
                off += (off.empty() ? "" : "; ") + other.name + ": " + std::to_string(differ) + " cells at " +
                       format_number(other_lr, 3);
        }
        if (at.empty() && off.empty()) continue;
        out.push_back("- the encoder suites run " + m + " at " + format_number(lr, 3) + ": " + yes_no(off.empty()) +
                      (at.empty() ? "" : " (cells: " + at + ")") + (off.empty() ? "" : "; **not**: " + off));
    }
    return out;
}

}  // namespace

SuiteDef lr_select() {
    SuiteDef d;
    d.name = "lr-select";
    d.metrics = standard_metrics({"final_dev_accuracy", "final_test_accuracy"});
    d.claims = choice_lines;
    d.dataset_claims = check_lines;
    d.part = kEncoderPart;
    return d;
}

}  // namespace adalora::suites

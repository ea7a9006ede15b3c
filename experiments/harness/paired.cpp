// paired.cpp: comparisons across seeds (paired.h).
#include "harness/paired.h"

#include <cmath>
#include <map>

namespace adalora::report {

std::string variant_text(const Suite &s, const Cell &c) {
    const nlohmann::json axes = s.meta.value("axes", nlohmann::json::object());
    std::string d;
    for (auto &[k, v] : c.cell().items()) {
        if (k == "seed" || axes.contains(k)) continue;
        d += (d.empty() ? "" : ", ") + k + "=" + json_text(v);
    }
    return d;
}

Cells cells_where(const Suite &s, const Pred &p) {
    Cells out;
    for (const Cell *c : ordered_cells(s))
        if (p(*c)) out.push_back(c);
    return out;
}

namespace {

// Per seed, the mean of the finite values of f over the side's cells of that seed.
std::map<long, double> per_seed(const Cells &cells, const Value &f) {
    std::map<long, std::pair<double, int>> sums;
    for (const Cell *c : cells) {
        const double v = f(*c);
        if (!std::isfinite(v)) continue;
        sums[c->seed].first += v;
        sums[c->seed].second++;
    }
    std::map<long, double> out;
    for (const auto &[seed, s] : sums) out[seed] = s.first / s.second;
    return out;
}

std::vector<double> values_of(const std::map<long, double> &m) {
    std::vector<double> v;
    for (const auto &[seed, x] : m) v.push_back(x);
    return v;
}

}  // namespace

Stats paired_difference(const Cells &a, const Cells &b, const Value &f) { return paired_difference(a, f, b, f); }

Stats paired_difference(const Cells &a, const Value &fa, const Cells &b, const Value &fb) {
    const std::map<long, double> va = per_seed(a, fa), vb = per_seed(b, fb);
    std::vector<double> diffs;
    for (const auto &[seed, x] : va) {
        auto it = vb.find(seed);
        if (it != vb.end()) diffs.push_back(x - it->second);
    }
    return summarize(diffs);
}

long seeds_needed(const Stats &d) {
    if (d.n < 2 || !(d.std > 0) || d.mean == 0 || !std::isfinite(d.mean)) return 0;
    for (long n = 2; n <= 100000; n++)
        if (t_quantile_975((int)std::min<long>(n - 1, 1000)) * d.std / std::sqrt((double)n) < std::fabs(d.mean)) return n;
    return 100000;
}

const char *outcome_word(Outcome o) {
    switch (o) {
    case Outcome::reproduced: return "reproduced";
    case Outcome::undecided: return "undecided";
    case Outcome::not_reproduced: return "not reproduced";
    default: return "not measured";
    }
}

Outcome combine(const std::vector<Outcome> &groups) {
    bool any = false, all = true;
    for (Outcome o : groups) {
        if (o == Outcome::not_reproduced) return o;
        if (o == Outcome::not_measured) continue;
        any = true;
        all = all && o == Outcome::reproduced;
    }
    return !any ? Outcome::not_measured : all ? Outcome::reproduced : Outcome::undecided;
}

Comparison compare_paired(const Cells &a, const Cells &b, const Value &f, bool higher_better) {
    return compare_paired(a, f, b, f, higher_better);
}

Comparison compare_paired(const Cells &a, const Value &fa, const Cells &b, const Value &fb, bool higher_better) {
    Comparison c;
    c.a = summarize(values_of(per_seed(a, fa)));
    c.b = summarize(values_of(per_seed(b, fb)));
    c.diff = paired_difference(a, fa, b, fb);
    c.ci_disjoint = disjoint(c.a, c.b);
    if (c.diff.n == 0) return c;
    const double sign = higher_better ? 1 : -1;
    if (!c.diff.spread()) c.outcome = Outcome::undecided;
    else if (sign * c.diff.ci_lo > 0 && sign * c.diff.ci_hi > 0) c.outcome = Outcome::reproduced;
    else if (sign * c.diff.ci_lo < 0 && sign * c.diff.ci_hi < 0) c.outcome = Outcome::not_reproduced;
    else c.outcome = Outcome::undecided;
    return c;
}

std::string points(double v) { return (v >= 0 ? "+" : "") + num(100 * v, 3) + " points"; }

std::string comparison_text(const Comparison &c, const Format &fmt) {
    if (c.diff.n == 0) return std::string(kNotMeasured) + " (no seed on both sides)";
    std::string t = fmt(c.diff.mean);
    const std::string seeds = std::to_string(c.diff.n) + (c.diff.n == 1 ? " seed" : " seeds");
    if (!c.diff.spread()) return t + " (one seed: no interval)";
    t += ", 95% CI [" + fmt(c.diff.ci_lo) + ", " + fmt(c.diff.ci_hi) + "] paired over " + seeds;
    t += std::string("; the two sides' own 95% CIs ") + (c.ci_disjoint ? "are disjoint" : "overlap");
    if (c.diff.ci_lo == 0 && c.diff.ci_hi == 0) return t + "; identical at every seed";
    if (c.outcome == Outcome::undecided) {
        const long n = seeds_needed(c.diff);
        t += n > 0 ? "; about " + std::to_string(n) + " seeds would decide it at this mean and spread"
                   : "; no direction to extrapolate";
    }
    return t;
}

double test_accuracy(const Cell &c) { return json_number(c.summary, "final_test_accuracy"); }

std::vector<std::string> against_reference(const Suite &s, const std::string &task, const std::string &reference,
                                           const std::string &reference_name, const std::vector<std::string> &settings) {
    std::vector<std::string> out;
    auto cells_of = [&](const std::string &d) {
        return cells_where(s, [&](const Cell &c) { return c.task() == task && variant_text(s, c) == d; });
    };
    const Cells base = cells_of(reference);
    for (const auto &d : settings) {
        if (d == reference) continue;
        const Comparison c = compare_paired(cells_of(d), base, test_accuracy, true);
        std::string line = "- `" + d + "` against " + reference_name + on_task(task) + ", test accuracy: ";
        if (c.diff.n == 0 || !c.diff.spread()) {
            out.push_back(line + comparison_text(c, points));
            continue;
        }
        if (c.diff.ci_lo == 0 && c.diff.ci_hi == 0) {
            out.push_back(line + "**identical** at every seed (" + std::to_string(c.diff.n) + " seeds)");
            continue;
        }
        const bool moves = c.outcome != Outcome::undecided;
        out.push_back(line + (moves ? "**moves it**: " : "**no clear change**, the interval contains 0: ") +
                      comparison_text(c, points));
    }
    return out;
}

}  // namespace adalora::report

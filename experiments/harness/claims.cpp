// claims.cpp: the claim vocabulary (claims.h).
#include "harness/claims.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace adalora::report {

const char *const kNotMeasured = "not measured in this report";

std::string cfg_str(const Cell &c, const std::string &key, const std::string &fallback) {
    const auto &cell = c.cell();
    if (cell.contains(key) && cell[key].is_string()) return cell[key];
    const auto &cfg = c.config();
    if (cfg.contains(key) && cfg[key].is_string()) return cfg[key];
    return fallback;
}

double cfg_num(const Cell &c, const std::string &key) {
    double v = json_number(c.cell(), key);
    return std::isnan(v) ? json_number(c.config(), key) : v;
}

bool cfg_flag(const Cell &c, const std::string &key) {
    double v = cfg_num(c, key);
    return std::isfinite(v) && v != 0;
}

// Cells in the suite's (grid) order.
std::vector<const Cell *> ordered_cells(const Suite &s) {
    std::vector<const Cell *> out;
    for (const auto &v : s.variants)
        for (const Cell *c : v.cells) out.push_back(c);
    return out;
}

std::vector<std::string> tasks_of(const Suite &s) {
    std::vector<std::string> out;
    for (const Cell *c : ordered_cells(s))
        if (std::find(out.begin(), out.end(), c->task()) == out.end()) out.push_back(c->task());
    return out;
}

Loss primary_loss(const Suite &s, const std::string &task) {
    for (const Cell *c : ordered_cells(s))
        if (c->task() == task && std::isfinite(json_number(c->summary, "gap_to_oracle")))
            return {"gap to the oracle", [](const Cell &x) { return json_number(x.summary, "gap_to_oracle"); }};
    return {"test loss", [](const Cell &x) { return json_number(x.summary, "final_test_loss"); }};
}

// Stats of `f` over the cells `p` selects, by group key, in grid order.
Groups grouped(const Suite &s, const Pred &p, const Key &key, const Value &f) {
    std::vector<std::string> order;
    std::map<std::string, std::vector<double>> values;
    for (const Cell *c : ordered_cells(s)) {
        if (!p(*c)) continue;
        double v = f(*c);
        if (!std::isfinite(v)) continue;
        std::string k = key(*c);
        if (!values.count(k)) order.push_back(k);
        values[k].push_back(v);
    }
    Groups out;
    for (const auto &k : order) out.emplace_back(k, summarize(values[k]));
    return out;
}

const Stats *find_group(const Groups &g, const std::string &k) {
    for (const auto &e : g)
        if (e.first == k) return &e.second;
    return nullptr;
}

std::string num(double v, int digits) { return format_number(v, digits); }

// (worst − best)/|best| in percent ("difference X" when best is 0).
std::string pct(double worst, double best) {
    if (best == 0) return "difference " + num(worst - best, 3);
    double r = (worst - best) / std::fabs(best) * 100;
    char b[48];
    std::snprintf(b, sizeof b, r >= 1000 ? "%.0f%%" : "%.3g%%", r);
    return b;
}

bool disjoint(const Stats &a, const Stats &b) {
    return a.spread() && b.spread() && (a.ci_hi < b.ci_lo || b.ci_hi < a.ci_lo);
}

// "73% lower" / "12% higher" of a against b.
std::string relative(double a, double b) {
    if (b == 0 || !std::isfinite(a) || !std::isfinite(b)) return "difference " + num(a - b, 3);
    double r = (a - b) / std::fabs(b) * 100;
    if (r == 0) return "equal";
    return num(std::fabs(r), 3) + "% " + (r < 0 ? "lower" : "higher");
}

// A beats B (lower or higher is better) in every group both have.
Verdict compare(const Suite &s, const Pred &a, const std::string &a_name, const Pred &b, const std::string &b_name,
                const Key &key, const Value &f, bool lower_better) {
    auto ga = grouped(s, a, key, f), gb = grouped(s, b, key, f);
    Verdict v;
    for (const auto &[k, sa] : ga) {
        const Stats *sb = find_group(gb, k);
        if (!sb) continue;
        v.groups++;
        bool win = lower_better ? sa.mean < sb->mean : sa.mean > sb->mean;
        v.wins += win;
        if (sa.spread() && sb->spread()) {
            v.ci_known++;
            v.ci_disjoint += disjoint(sa, *sb);
        }
        v.details += (v.details.empty() ? "" : "; ") + k + ": " + a_name + " " + num(sa.mean) + " vs " + b_name + " " +
                     num(sb->mean) + ", " + relative(sa.mean, sb->mean);
    }
    return v;
}

std::string yes_no(bool y) { return y ? "**yes**" : "**no**"; }

std::string verdict_sentence(const std::string &claim, const Verdict &v, const std::string &missing) {
    if (!v.measured()) return "- " + claim + ": " + kNotMeasured + " (" + missing + ")";
    std::string s = "- " + claim + ": " + yes_no(v.all());
    if (!v.all()) s += ", holds at " + std::to_string(v.wins) + " of " + std::to_string(v.groups);
    s += " (" + v.details;
    if (v.ci_known > 0)
        s += "; 95% CIs disjoint at " + std::to_string(v.ci_disjoint) + " of " + std::to_string(v.ci_known);
    else
        s += "; one seed, no CI";
    return s + ")";
}

std::string on_task(const std::string &task) { return task.empty() ? "" : " on " + task; }

Pred in_task(const std::string &task, Pred p) {
    return [task, p](const Cell &c) { return c.task() == task && p(c); };
}

}  // namespace adalora::report

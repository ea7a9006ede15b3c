// report_claims.cpp: one sentence per claim of each suite, computed from the
// loaded cells (never written ahead of the run). Variants are recognised by
// their fields (summary.method, config.importance, config.orth_reg_weight,
// config.svd, config.hard_delete, ...), never by their position in the grid.
// A claim whose cells are absent says "not measured in this report".
#include <algorithm>
#include <cstdio>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "harness/report.h"

namespace adalora::report {

namespace {

using Pred = std::function<bool(const Cell &)>;
using Key = std::function<std::string(const Cell &)>;
using Value = std::function<double(const Cell &)>;

const char *kNotMeasured = "not measured in this report";

std::string cfg_str(const Cell &c, const std::string &key, const std::string &fallback = "") {
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

bool adalora_masking(const Cell &c) {
    return c.method() == "adalora" && !cfg_flag(c, "no_prune") && !cfg_flag(c, "hard_delete");
}

// The paper's AdaLoRA: s = Ī·Ū, γ > 0, masking (pruned triplets may come back).
bool adalora_paper(const Cell &c) {
    return adalora_masking(c) && cfg_str(c, "importance", "sens-unc") == "sens-unc" && cfg_num(c, "orth_reg_weight") > 0;
}

Pred method_is(const std::string &m) {
    return [m](const Cell &c) { return c.method() == m; };
}

// The budget a cell was asked for: b(T) when given, else the target average rank.
std::string budget_of(const Cell &c) {
    double b = cfg_num(c, "target_budget");
    if (std::isfinite(b) && b > 0) return "b(T)=" + format_number(b, 8);
    double r = cfg_num(c, "target_r");
    return std::isfinite(r) ? "target_r=" + format_number(r, 8) : "budget ?";
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

// The loss a suite compares on a task: the gap to the oracle where the task has
// one (planted-linear), else the final test loss.
struct Loss {
    std::string name;
    Value value;
};

Loss primary_loss(const Suite &s, const std::string &task) {
    for (const Cell *c : ordered_cells(s))
        if (c->task() == task && std::isfinite(json_number(c->summary, "gap_to_oracle")))
            return {"gap to the oracle", [](const Cell &x) { return json_number(x.summary, "gap_to_oracle"); }};
    return {"test loss", [](const Cell &x) { return json_number(x.summary, "final_test_loss"); }};
}

// Stats of `f` over the cells `p` selects, by group key, in grid order.
std::vector<std::pair<std::string, Stats>> grouped(const Suite &s, const Pred &p, const Key &key, const Value &f) {
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
    std::vector<std::pair<std::string, Stats>> out;
    for (const auto &k : order) out.emplace_back(k, summarize(values[k]));
    return out;
}

const Stats *find_group(const std::vector<std::pair<std::string, Stats>> &g, const std::string &k) {
    for (const auto &e : g)
        if (e.first == k) return &e.second;
    return nullptr;
}

std::string num(double v, int digits = 4) { return format_number(v, digits); }

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

struct Verdict {
    int groups = 0, wins = 0, ci_disjoint = 0, ci_known = 0;
    std::string details;
    bool measured() const { return groups > 0; }
    bool all() const { return groups > 0 && wins == groups; }
};

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

// ------------------------------------------------------------------ allocation

std::vector<std::string> allocation_claims(const Suite &s) {
    std::vector<std::string> out;
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        auto on = [task](Pred p) { return Pred([task, p](const Cell &c) { return c.task() == task && p(c); }); };
        for (const std::string base : {"lora", "svd-lora", "svd-proj"}) {
            Verdict v = compare(s, on(adalora_paper), "adalora", on(method_is(base)), base, budget_of, loss.value, true);
            out.push_back(verdict_sentence("adalora's " + loss.name + " is smaller than " + base +
                                               "'s at every budget" + on_task(task),
                                           v, "needs adalora and " + base + " cells" + on_task(task)));
        }
        bool has_alloc = false;
        for (const Cell *c : ordered_cells(s))
            has_alloc = has_alloc || (c->task() == task && std::isfinite(json_number(c->summary, "allocation_error")));
        if (!has_alloc) continue;
        Value err = [](const Cell &c) { return json_number(c.summary, "allocation_error"); };
        for (const std::string base : {"lora", "svd-proj"}) {
            Verdict v = compare(s, on(adalora_paper), "adalora", on(method_is(base)), base, budget_of, err, true);
            out.push_back(verdict_sentence("adalora's allocation error (Σ_k |kept − oracle|) is smaller than " + base +
                                               "'s at every budget" + on_task(task),
                                           v, "needs adalora and " + base + " cells" + on_task(task)));
        }
    }
    return out;
}

// ------------------------------------------------------------------ table4

std::vector<std::string> table4_claims(const Suite &s) {
    std::vector<std::string> out;
    auto importance = [](const std::string &imp) {
        return Pred([imp](const Cell &c) { return adalora_masking(c) && cfg_str(c, "importance", "sens-unc") == imp; });
    };
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        auto on = [task](Pred p) { return Pred([task, p](const Cell &c) { return c.task() == task && p(c); }); };
        Verdict vs = compare(s, on(importance("sens-unc")), "sens-unc", on(importance("sens")), "sens", budget_of,
                             loss.value, true);
        Verdict vm = compare(s, on(importance("sens-unc")), "sens-unc", on(importance("magnitude")), "magnitude",
                             budget_of, loss.value, true);
        const std::string claim = "sens-unc (the paper's s = Ī·Ū) has a smaller " + loss.name +
                                  " than sens and than magnitude at every budget" + on_task(task);
        if (!vs.measured() && !vm.measured()) {
            out.push_back("- " + claim + ": " + kNotMeasured + " (needs adalora cells with importance sens-unc and sens or magnitude)");
        } else {
            bool all = vs.all() && vm.all() && vs.measured() && vm.measured();
            std::string line = "- " + claim + ": " + yes_no(all) + " (";
            line += vs.measured() ? "vs sens: " + std::to_string(vs.wins) + " of " + std::to_string(vs.groups) + " budgets, " + vs.details
                                  : std::string("vs sens: ") + kNotMeasured;
            line += "; ";
            line += vm.measured() ? "vs magnitude: " + std::to_string(vm.wins) + " of " + std::to_string(vm.groups) + " budgets, " + vm.details
                                  : std::string("vs magnitude: ") + kNotMeasured;
            out.push_back(line + ")");
        }
        Verdict vp = compare(s, on(importance("sens-unc")), "adalora", on(method_is("prune-lora")), "prune-lora",
                             budget_of, loss.value, true);
        out.push_back(verdict_sentence("adalora (SVD triplets, masking) beats prune-lora (doublets, hard delete) at every budget" +
                                           on_task(task) + ", by " + loss.name,
                                       vp, "needs adalora and prune-lora cells" + on_task(task)));
    }
    return out;
}

// ------------------------------------------------------------------ table5

std::vector<std::string> table5_claims(const Suite &s) {
    std::vector<std::string> out;
    Pred gamma0 = [](const Cell &c) {
        return adalora_masking(c) && cfg_str(c, "importance", "sens-unc") == "sens-unc" && cfg_num(c, "orth_reg_weight") == 0;
    };
    struct Pair {
        Pred a;
        std::string an;
        Pred b;
        std::string bn;
        std::string note;
    };
    const std::vector<Pair> pairs = {
        {adalora_paper, "adalora", gamma0, "adalora γ=0", "paper: adalora better at 7 of 8 columns"},
        {adalora_paper, "adalora", method_is("svd-lora"), "svd-lora", "paper: adalora better everywhere"},
        {method_is("svd-lora"), "svd-lora", method_is("lora"), "lora", "paper: svd-lora better everywhere"},
        {adalora_paper, "adalora", method_is("lora-orth"), "lora-orth", "paper: adalora better everywhere"},
        {method_is("lora-orth"), "lora-orth", method_is("lora"), "lora", "paper: about equal"},
    };
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        auto on = [task](Pred p) { return Pred([task, p](const Cell &c) { return c.task() == task && p(c); }); };
        for (const auto &p : pairs) {
            Verdict v = compare(s, on(p.a), p.an, on(p.b), p.bn, budget_of, loss.value, true);
            out.push_back(verdict_sentence(p.an + " < " + p.bn + " in " + loss.name + " at every budget" + on_task(task) +
                                               " (" + p.note + ")",
                                           v, "needs " + p.an + " and " + p.bn + " cells" + on_task(task)));
        }
    }
    return out;
}

// ------------------------------------------------------------------ svd-cost

struct Series {
    std::string name;
    Pred pred;
};

std::vector<std::string> svd_cost_claims(const Suite &s) {
    std::vector<std::string> out;
    const std::vector<Series> series = {
        {"full", [](const Cell &c) { return c.method() == "svd-proj" && cfg_str(c, "svd") == "full"; }},
        {"qr", [](const Cell &c) { return c.method() == "svd-proj" && cfg_str(c, "svd", "qr") == "qr"; }},
        {"adalora", [](const Cell &c) { return c.method() == "adalora"; }},
    };
    Key width = [](const Cell &c) { return format_number(cfg_num(c, "width"), 8); };
    const Value alloc = [](const Cell &c) { return metric("alloc_ms").value(c); };
    const Value step = [](const Cell &c) { return json_number(c.summary, "ms_per_step"); };
    auto curve = [&](const Series &se, const Value &f, std::vector<double> &x, std::vector<double> &y) {
        x.clear();
        y.clear();
        for (const auto &[k, st] : grouped(s, se.pred, width, f)) {
            x.push_back(std::stod(k));
            y.push_back(st.mean);
        }
    };
    std::map<std::string, double> alloc_slope, step_slope;
    std::string dmin, dmax;
    double lo = INFINITY, hi = 0;
    for (const auto &se : series) {
        std::vector<double> x, y;
        curve(se, alloc, x, y);
        alloc_slope[se.name] = loglog_slope(x, y);
        for (double d : x) lo = std::min(lo, d), hi = std::max(hi, d);
        curve(se, step, x, y);
        step_slope[se.name] = loglog_slope(x, y);
    }
    auto slope_text = [](const std::map<std::string, double> &m) {
        std::string t;
        for (const std::string n : {"full", "qr", "adalora"})
            t += (t.empty() ? "" : ", ") + n + " ≈ " + (std::isnan(m.at(n)) ? std::string("n/a") : num(m.at(n), 3));
        return t;
    };
    const std::string range = hi > 0 ? " (d = " + num(lo, 6) + ".." + num(hi, 6) + ")" : "";
    if (std::isnan(alloc_slope["full"]) || std::isnan(alloc_slope["qr"]))
        out.push_back(std::string("- full SVD allocation cost grows faster with d than qr's: ") + kNotMeasured +
                      " (needs svd-proj full and qr cells at two or more widths)");
    else
        out.push_back("- full SVD allocation cost grows faster with d than qr's: " +
                      yes_no(alloc_slope["full"] > alloc_slope["qr"]) +
                      " (fitted log-log slope of allocation ms per mask step against d: " + slope_text(alloc_slope) +
                      range + "; the paper's O(d1·d2·min(d1, d2)) is slope 3 for square matrices)");
    if (!std::isnan(step_slope["full"]) || !std::isnan(step_slope["adalora"]))
        out.push_back("- time per training step against d, fitted log-log slope: " + slope_text(step_slope) + range);
    // At the largest d: a step of each against adalora's.
    if (hi > 0) {
        const std::string dk = format_number(hi, 8);
        auto at = [&](const Series &se, const Value &f) {
            const auto g = grouped(s, se.pred, width, f);
            const Stats *st = find_group(g, dk);
            return st ? st->mean : NAN;
        };
        double a = at(series[2], step), f = at(series[0], step), q = at(series[1], step);
        if (std::isfinite(a) && (std::isfinite(f) || std::isfinite(q))) {
            std::string line = "- at d = " + num(hi, 6) + " a training step costs";
            if (std::isfinite(f)) line += " " + num(f / a, 3) + "× adalora's with full SVD (" + num(f) + " vs " + num(a) + " ms)";
            if (std::isfinite(f) && std::isfinite(q)) line += " and";
            if (std::isfinite(q)) line += " " + num(q / a, 3) + "× with the QR-reduced SVD (" + num(q) + " ms)";
            out.push_back(line);
        } else {
            out.push_back("- at d = " + num(hi, 6) + ", step cost of svd-proj against adalora: " + kNotMeasured +
                          " (needs adalora and svd-proj cells at that width)");
        }
        double aa = at(series[2], alloc), fa = at(series[0], alloc), qa = at(series[1], alloc);
        if (std::isfinite(fa) && std::isfinite(qa))
            out.push_back("- exact SVD made cheap by QR at d = " + num(hi, 6) + ": " + yes_no(qa < fa) +
                          " (allocation ms per mask step: full " + num(fa) + ", qr " + num(qa) +
                          (std::isfinite(aa) ? ", adalora " + num(aa) : std::string()) + "; full/qr = " +
                          num(fa / qa, 3) + "×)");
    }
    return out;
}

// ------------------------------------------------------------------ revival

std::vector<std::string> revival_claims(const Suite &s) {
    std::vector<std::string> out;
    Pred masking = adalora_masking;
    Pred hard = [](const Cell &c) { return c.method() == "adalora" && cfg_flag(c, "hard_delete"); };
    std::vector<double> revived, pruned;
    for (const Cell *c : ordered_cells(s))
        if (masking(*c)) {
            revived.push_back(metric("revived_total").value(*c));
            pruned.push_back(metric("pruned_total").value(*c));
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
        if (hard(*c)) hard_rev.push_back(metric("revived_total").value(*c));
    Stats hr = summarize(hard_rev);
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        auto on = [task](Pred q) { return Pred([task, q](const Cell &c) { return c.task() == task && q(c); }); };
        Verdict v = compare(s, on(masking), "masking", on(hard), "hard delete", budget_of, loss.value, true);
        out.push_back(verdict_sentence("masking beats hard delete (a pruned triplet stays zero) by " + loss.name +
                                           " at every budget" + on_task(task),
                                       v, "needs adalora cells with and without config.hard_delete" + on_task(task)));
    }
    if (hr.n > 0)
        out.push_back("- check: hard-delete runs revive " + num(hr.mean) + " triplets per run on average (should be 0)");
    return out;
}

// ------------------------------------------------------------------ orthogonality

std::vector<std::string> orthogonality_claims(const Suite &s) {
    std::vector<std::string> out;
    Pred svd_form = [](const Cell &c) { return c.method() == "adalora" || c.method() == "svd-lora"; };
    Key gamma = [](const Cell &c) { return format_number(cfg_num(c, "orth_reg_weight"), 6); };
    auto by_gamma = [&](const Value &f) {
        auto g = grouped(s, svd_form, gamma, f);
        std::sort(g.begin(), g.end(), [](const auto &a, const auto &b) { return std::stod(a.first) < std::stod(b.first); });
        return g;
    };
    auto list = [](const std::vector<std::pair<std::string, Stats>> &g, int digits = 3) {
        std::string t;
        for (const auto &[k, st] : g) t += (t.empty() ? "" : ", ") + std::string("γ = ") + k + ": " + num(st.mean, digits);
        return t;
    };
    auto decreasing = [](const std::vector<std::pair<std::string, Stats>> &g) {
        for (size_t i = 1; i < g.size(); i++)
            if (!(g[i].second.mean < g[i - 1].second.mean)) return false;
        return g.size() >= 2;
    };
    const auto P = by_gamma(metric("final_orth_P").value), Q = by_gamma(metric("final_orth_Q").value);
    if (P.size() < 2)
        out.push_back(std::string("- the final orthogonality error falls as γ grows: ") + kNotMeasured +
                      " (needs orth_P in metrics.csv at two or more γ)");
    else
        out.push_back("- the final orthogonality error falls as γ grows: " + yes_no(decreasing(P) && (Q.size() < 2 || decreasing(Q))) +
                      " (final ‖PᵀP − I‖_F, mean over modules: " + list(P) + "; ‖QQᵀ − I‖_F: " + list(Q) + ")");
    // Appendix G: with γ = 0.1 the squared errors fall to about 1e-3 early in warm-up.
    Value warmup = [](const Cell &c) {
        double ti = cfg_num(c, "tinit");
        auto steps = c.metrics.values("step"), p = c.metrics.values("orth_P");
        double v = NAN;
        for (size_t i = 0; i < steps.size() && i < p.size(); i++)
            if (steps[i] <= ti && std::isfinite(p[i])) v = p[i];
        return v * v;
    };
    const auto W = by_gamma(warmup);
    const Stats *w01 = find_group(W, "0.1");
    if (!w01)
        out.push_back(std::string("- with γ = 0.1, ‖PᵀP − I‖²_F at the end of warm-up is about 1e-3 (paper, Appendix G): ") +
                      kNotMeasured + " (needs γ = 0.1 cells with orth_P in metrics.csv)");
    else {
        const Stats *w0 = find_group(W, "0");
        out.push_back("- with γ = 0.1, ‖PᵀP − I‖²_F has fallen to about 1e-3 by the end of warm-up (paper, Appendix G: "
                      "early in warm-up): " + yes_no(w01->mean <= 3e-3) + " (" + num(w01->mean, 3) +
                      ": the square of the mean over modules of ‖PᵀP − I‖_F at the last metrics row with step ≤ t_i; "
                      "\"about 1e-3\" read as ≤ 3e-3" + (w0 ? "; γ = 0: " + num(w0->mean, 3) : std::string()) + ")");
    }
    const auto L = by_gamma(metric("lambda_sigma_dev").value);
    if (L.empty())
        out.push_back(std::string("- λ approximates the true singular values of ΔW: ") + kNotMeasured +
                      " (needs adapters.lambda and adapters.sigma in summary.json)");
    else {
        double pos = NAN, zero = NAN;
        for (const auto &[k, st] : L) {
            if (std::stod(k) == 0) zero = st.mean;
            else if (std::isnan(pos) || st.mean > pos) pos = st.mean;  // the worst γ > 0
        }
        std::string line = "- λ approximates the true singular values (mean relative deviation of α/r0·|λ| from σ over the "
                           "kept triplets): " + list(L, 3) + " (%)";
        if (std::isfinite(pos) && std::isfinite(zero))
            line += "; within " + num(pos, 3) + "% for every γ > 0 vs " + num(zero, 3) + "% at γ = 0, closer with γ > 0: " +
                    yes_no(pos < zero);
        out.push_back(line);
    }
    const auto J = by_gamma(metric("mean_mask_jump").value);
    if (J.empty())
        out.push_back(std::string("- loss jump at a mask step: ") + kNotMeasured +
                      " (needs mask_jump in metrics.csv: train with --mask-jump)");
    else
        out.push_back("- mean change of the batch task loss caused by a mask step (over the steps that change the mask): " + list(J, 3) +
                      (J.size() >= 2 ? "; smaller with the largest γ than with the smallest: " +
                                           yes_no(std::fabs(J.back().second.mean) < std::fabs(J.front().second.mean))
                                     : std::string()));
    return out;
}

// ------------------------------------------------------------------ schedule

std::vector<std::string> schedule_claims(const Suite &s) {
    std::vector<std::string> out;
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        const Variant *best = nullptr, *worst = nullptr;
        double bm = INFINITY, wm = -INFINITY;
        std::vector<std::pair<const Variant *, double>> means;
        for (const auto &v : s.variants) {
            if (v.cells.empty() || v.cells.front()->task() != task) continue;
            std::vector<double> xs;
            for (const Cell *c : v.cells) xs.push_back(loss.value(*c));
            Stats st = summarize(xs);
            if (st.n == 0) continue;
            means.emplace_back(&v, st.mean);
            if (st.mean < bm) bm = st.mean, best = &v;
            if (st.mean > wm) wm = st.mean, worst = &v;
        }
        if (!best) {
            out.push_back("- best schedule setting" + on_task(task) + ": " + kNotMeasured);
            continue;
        }
        out.push_back("- best schedule setting" + on_task(task) + " by " + loss.name + ": " + best->label() + " (" +
                      num(bm) + "); worst: " + worst->label() + " (" + num(wm) + "); spread (worst − best)/best = " +
                      pct(wm, bm) + " over " +
                      std::to_string(means.size()) + " settings");
        // Per axis: its settings with every other axis at the suite's fixed
        // value (one change at a time), or averaged over the axes not fixed.
        const nlohmann::json fixed = s.meta.value("fixed", nlohmann::json::object());
        auto effective = [](const Variant &v, const std::string &axis) {
            if (v.key.contains(axis)) return v.key[axis];
            const auto &cfg = v.cells.front()->config();
            return cfg.contains(axis) ? cfg[axis] : nlohmann::json();
        };
        for (const auto &axis : s.axes) {
            if (axis == "task") continue;
            std::vector<std::string> order;
            std::map<std::string, std::vector<double>> vals;
            for (const auto &[v, m] : means) {
                nlohmann::json value = effective(*v, axis);
                if (value.is_null()) continue;
                bool others_fixed = true;
                for (const auto &other : s.axes)
                    if (other != axis && other != "task" && fixed.contains(other) && effective(*v, other) != fixed[other])
                        others_fixed = false;
                if (!others_fixed) continue;
                std::string k = json_text(value);
                if (!vals.count(k)) order.push_back(k);
                vals[k].push_back(m);
            }
            if (order.size() < 2) continue;
            std::string t, bk;
            double b = INFINITY, w = -INFINITY;
            for (const auto &k : order) {
                double m = summarize(vals[k]).mean;
                t += (t.empty() ? "" : ", ") + k + ": " + num(m);
                if (m < b) b = m, bk = k;
                w = std::max(w, m);
            }
            out.push_back("- `" + axis + "`" + on_task(task) + ", the others at their fixed value (" + loss.name +
                          "): " + t + "; best " + bk + ", range (worst − best)/best " + pct(w, b));
        }
    }
    return out;
}

// ------------------------------------------------------------------ digits

std::vector<std::string> digits_claims(const Suite &s) {
    std::vector<std::string> out;
    const Value acc = [](const Cell &c) { return json_number(c.summary, "final_test_accuracy"); };
    // What a variant is apart from its budget: its fields other than the budget keys.
    Key label = [](const Cell &c) {
        nlohmann::json k = c.cell();
        for (const char *drop : {"seed", "target_r", "target_budget", "task"}) k.erase(drop);
        std::string t;
        for (auto &kv : k.items()) t += (t.empty() ? "" : ", ") + (kv.key() == "method" ? "" : kv.key() + "=") + json_text(kv.value());
        return t.empty() ? c.method() : t;
    };
    bool any = false;
    for (const Cell *c : ordered_cells(s)) any = any || std::isfinite(acc(*c));
    if (!any) {
        out.push_back(std::string("- the method with the best test accuracy at equal budget: ") + kNotMeasured +
                      " (no final_test_accuracy in the summaries)");
        return out;
    }
    std::vector<std::string> budgets;
    for (const Cell *c : ordered_cells(s))
        if (std::find(budgets.begin(), budgets.end(), budget_of(*c)) == budgets.end()) budgets.push_back(budget_of(*c));
    int adalora_best = 0, counted = 0;
    for (const auto &b : budgets) {
        auto g = grouped(s, [&](const Cell &c) { return budget_of(c) == b; }, label, acc);
        if (g.empty()) continue;
        std::stable_sort(g.begin(), g.end(), [](const auto &x, const auto &y) { return x.second.mean > y.second.mean; });
        std::string line = "- best test accuracy at " + b + ": " + g[0].first + " (" + num(g[0].second.mean) + ")";
        if (g.size() > 1) {
            line += ", then " + g[1].first + " (" + num(g[1].second.mean) + ")";
            if (disjoint(g[0].second, g[1].second)) line += ", 95% CIs disjoint";
            else if (g[0].second.spread() && g[1].second.spread()) line += ", 95% CIs overlap";
        }
        std::string rest;
        for (size_t i = 2; i < g.size(); i++) rest += (rest.empty() ? "" : ", ") + g[i].first + " " + num(g[i].second.mean);
        if (!rest.empty()) line += "; others: " + rest;
        out.push_back(line);
        counted++;
        adalora_best += g[0].first == "adalora";
    }
    if (counted > 0)
        out.push_back("- adalora has the best accuracy at every budget: " + yes_no(adalora_best == counted) + " (" +
                      std::to_string(adalora_best) + " of " + std::to_string(counted) + ")");
    return out;
}

// ------------------------------------------------------------------ conventions

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

std::vector<std::string> suite_claims(const Suite &s) {
    static const std::map<std::string, std::function<std::vector<std::string>(const Suite &)>> claims = {
        {"allocation", allocation_claims}, {"table4", table4_claims},   {"table5", table5_claims},
        {"svd-cost", svd_cost_claims},     {"revival", revival_claims}, {"orthogonality", orthogonality_claims},
        {"schedule", schedule_claims},     {"digits", digits_claims},   {"conventions", conventions_claims},
    };
    auto it = claims.find(s.name);
    if (it == claims.end()) return {"- no claims are defined for suite " + s.name + "; the table above has its numbers."};
    auto out = it->second(s);
    if (out.empty()) out.push_back(std::string("- ") + kNotMeasured + ": no cells of the kinds these claims compare");
    return out;
}

}  // namespace adalora::report

// orthogonality.cpp: the orthogonality suite (orthogonality.toml): the
// regulariser weight γ against how orthonormal P and Q stay, how well λ
// tracks the true singular values, and the loss jump at a mask step.
#include <algorithm>
#include <cmath>
#include <map>

#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

// The mean of the mask_jump column over the rows whose mask steps changed the
// mask (revived + pruned > 0; every finite row when those columns are absent):
// a warm-up mask step that keeps everything moves nothing and would dilute it.
double mean_mask_jump(const Cell &c) {
    auto jump = c.metrics.values("mask_jump"), rev = c.metrics.values("revived"), pr = c.metrics.values("pruned");
    const bool counts = !rev.empty() && !pr.empty();
    double s = 0;
    int n = 0;
    for (size_t i = 0; i < jump.size(); i++) {
        if (!std::isfinite(jump[i])) continue;
        if (counts && !(rev[i] + pr[i] > 0)) continue;
        s += jump[i];
        n++;
    }
    return n ? s / n : NAN;
}


// λ against the true singular values, per module with a kept triplet:
//   Σ_i |s·|λ|_(i) − σ_i| / Σ_i σ_i over its kept triplets (|λ| sorted
// descending, s = the run's recorded scale, else lora_alpha / r0), averaged over the
// modules, in percent. 0 when P and Q are exactly orthonormal.
double lambda_sigma_deviation(const Cell &c) {
    const auto &s = c.summary;
    if (!s.contains("adapters") || !s["adapters"].is_object()) return NAN;
    // The run's own scale s of Eq. 3; older summaries lack it: alpha / r0.
    double scale_recorded = s.contains("scale") && s["scale"].is_number() ? s["scale"].get<double>() : NAN;
    double alpha = json_number(c.config(), "lora_alpha");
    if (!std::isfinite(alpha) && !std::isfinite(scale_recorded)) return NAN;
    double total = 0;
    int modules = 0;
    for (auto &kv : s["adapters"].items()) {
        const auto &a = kv.value();
        if (!a.contains("lambda") || !a.contains("sigma") || !a["lambda"].is_array() || !a["sigma"].is_array()) continue;
        std::vector<double> lam, sig;
        for (auto &x : a["lambda"])
            if (x.is_number()) lam.push_back(x.get<double>());
        for (auto &x : a["sigma"])
            if (x.is_number()) sig.push_back(x.get<double>());
        if (lam.empty()) continue;
        const double scale = std::fabs(std::isfinite(scale_recorded) ? scale_recorded : alpha / (double)lam.size());
        std::vector<double> kept;
        for (double l : lam)
            if (l != 0) kept.push_back(scale * std::fabs(l));
        std::sort(kept.rbegin(), kept.rend());
        std::sort(sig.rbegin(), sig.rend());
        double num = 0, den = 0;
        for (size_t i = 0; i < kept.size() && i < sig.size(); i++) {
            num += std::fabs(kept[i] - sig[i]);
            den += sig[i];
        }
        if (kept.empty() || den <= 0) continue;
        total += num / den;
        modules++;
    }
    return modules ? 100.0 * total / modules : NAN;
}

double final_orth_P(const Cell &c) { return final_value(c, "orth_P"); }
double final_orth_Q(const Cell &c) { return final_value(c, "orth_Q"); }

// The squared ‖PᵀP − I‖_F at the last metrics row with step ≤ t_i (end of warm-up).
double warmup_orth_P_squared(const Cell &c) {
    double ti = cfg_num(c, "tinit");
    auto steps = c.metrics.values("step"), p = c.metrics.values("orth_P");
    double v = NAN;
    for (size_t i = 0; i < steps.size() && i < p.size(); i++)
        if (steps[i] <= ti && std::isfinite(p[i])) v = p[i];
    return v * v;
}

// Stats of f over the SVD-form cells (adalora, svd-lora) by γ, ascending.
Groups by_gamma(const Suite &s, const Value &f) {
    Pred svd_form = [](const Cell &c) { return c.method() == "adalora" || c.method() == "svd-lora"; };
    Key gamma = [](const Cell &c) { return format_number(cfg_num(c, "orth_reg_weight"), 6); };
    auto g = grouped(s, svd_form, gamma, f);
    std::sort(g.begin(), g.end(), [](const auto &a, const auto &b) { return std::stod(a.first) < std::stod(b.first); });
    return g;
}

// "γ = 0: m, γ = 0.1: m, ..."
std::string gamma_list(const Groups &g, int digits = 3) {
    std::string t;
    for (const auto &[k, st] : g) t += (t.empty() ? "" : ", ") + std::string("γ = ") + k + ": " + num(st.mean, digits);
    return t;
}

bool decreasing(const Groups &g) {
    for (size_t i = 1; i < g.size(); i++)
        if (!(g[i].second.mean < g[i - 1].second.mean)) return false;
    return g.size() >= 2;
}

std::string final_error_claim(const Suite &s) {
    const auto P = by_gamma(s, final_orth_P), Q = by_gamma(s, final_orth_Q);
    if (P.size() < 2)
        return std::string("- the final orthogonality error falls as γ grows: ") + kNotMeasured +
               " (needs orth_P in metrics.csv at two or more γ)";
    return "- the final orthogonality error falls as γ grows: " + yes_no(decreasing(P) && (Q.size() < 2 || decreasing(Q))) +
           " (final ‖PᵀP − I‖_F, mean over modules: " + gamma_list(P) + "; ‖QQᵀ − I‖_F: " + gamma_list(Q) + ")";
}

// Appendix G: with γ = 0.1 the squared errors fall to about 1e-3 early in warm-up.
std::string warmup_claim(const Suite &s) {
    const auto W = by_gamma(s, warmup_orth_P_squared);
    const Stats *w01 = find_group(W, "0.1");
    if (!w01)
        return std::string("- with γ = 0.1, ‖PᵀP − I‖²_F at the end of warm-up is about 1e-3 (paper, Appendix G): ") +
               kNotMeasured + " (needs γ = 0.1 cells with orth_P in metrics.csv)";
    const Stats *w0 = find_group(W, "0");
    return "- with γ = 0.1, ‖PᵀP − I‖²_F has fallen to about 1e-3 by the end of warm-up (paper, Appendix G: "
           "early in warm-up): " + yes_no(w01->mean <= 3e-3) + " (" + num(w01->mean, 3) +
           ": the square of the mean over modules of ‖PᵀP − I‖_F at the last metrics row with step ≤ t_i; "
           "\"about 1e-3\" read as ≤ 3e-3" + (w0 ? "; γ = 0: " + num(w0->mean, 3) : std::string()) + ")";
}

std::string lambda_claim(const Suite &s) {
    const auto L = by_gamma(s, lambda_sigma_deviation);
    if (L.empty())
        return std::string("- λ approximates the true singular values of ΔW: ") + kNotMeasured +
               " (needs adapters.lambda and adapters.sigma in summary.json)";
    double pos = NAN, zero = NAN;
    for (const auto &[k, st] : L) {
        if (std::stod(k) == 0) zero = st.mean;
        else if (std::isnan(pos) || st.mean > pos) pos = st.mean;  // the worst γ > 0
    }
    std::string line = "- λ approximates the true singular values (mean relative deviation of α/r0·|λ| from σ over the "
                       "kept triplets): " + gamma_list(L, 3) + " (%)";
    if (std::isfinite(pos) && std::isfinite(zero))
        line += "; within " + num(pos, 3) + "% for every γ > 0 vs " + num(zero, 3) + "% at γ = 0, closer with γ > 0: " +
                yes_no(pos < zero);
    return line;
}

std::string mask_jump_claim(const Suite &s) {
    const auto J = by_gamma(s, mean_mask_jump);
    if (J.empty())
        return std::string("- loss jump at a mask step: ") + kNotMeasured +
               " (needs mask_jump in metrics.csv: train with --mask-jump)";
    return "- mean change of the batch task loss caused by a mask step (over the steps that change the mask): " +
           gamma_list(J, 3) +
           (J.size() >= 2 ? "; smaller with the largest γ than with the smallest: " +
                                yes_no(std::fabs(J.back().second.mean) < std::fabs(J.front().second.mean))
                          : std::string());
}

std::vector<std::string> orthogonality_claims(const Suite &s) {
    return {final_error_claim(s), warmup_claim(s), lambda_claim(s), mask_jump_claim(s)};
}

// Mean ‖PᵀP − I‖_F and ‖QQᵀ − I‖_F against step, one line per γ.
void orthogonality_plot(const Dataset &d, std::vector<PlotJob> &jobs) {
    const Suite *s = d.find("orthogonality");
    if (!s) return;
    PlotJob j;
    j.plot = {"orthogonality", "orthogonality", "Orthogonality error against step (mean over modules and seeds)", "", "", ""};
    std::ostringstream dat, p1, p2;
    int block = 0;
    for (const auto &v : s->variants) {
        auto P = mean_curve(v.cells, "orth_P"), Q = mean_curve(v.cells, "orth_Q");
        if (P.empty() && Q.empty()) continue;
        std::map<double, std::pair<double, double>> rows;
        for (auto &[x, y] : P) rows[x] = {y, NAN};
        for (auto &[x, y] : Q) {
            if (!rows.count(x)) rows[x] = {NAN, NAN};
            rows[x].second = y;
        }
        std::string label = v.label();
        if (v.key.size() == 1 && v.key.contains("orth_reg_weight")) label = "γ = " + json_text(v.key["orth_reg_weight"]);
        dat << "# " << label << ": step orth_P orth_Q\n";
        for (auto &[x, pq] : rows) dat << gp_num(x) << " " << gp_num(pq.first) << " " << gp_num(pq.second) << "\n";
        dat << "\n\n";
        p1 << plot_series("orthogonality.dat", block, 2, "lines lw 2", gp_quote(label));
        p2 << plot_series("orthogonality.dat", block, 3, "lines lw 2", gp_quote(label));
        block++;
    }
    if (block == 0) {
        jobs.push_back({{"orthogonality", "orthogonality", j.plot.title, "", "", "no orth_P / orth_Q columns in metrics.csv"}, "", "", 0, 0});
        return;
    }
    std::ostringstream b;
    b << "set multiplot layout 1,2 title " << gp_quote(j.plot.title) << "\n";
    b << "set logscale y\nset format y '%.0e'\nset xlabel 'step'\nset grid\nset key bottom left font ',9'\n";
    for (const auto &v : s->variants)
        if (!v.cells.empty()) {
            b << phase_marks(*v.cells[0]);
            break;
        }
    b << "set title '‖PᵀP − I‖_F'\nplot " << p1.str() << "\n";
    b << "set title '‖QQᵀ − I‖_F'\nplot " << p2.str() << "\n";
    b << "unset multiplot\n";
    push_job(jobs, j, dat, b, 1400, 600);
}

}  // namespace

SuiteDef orthogonality() {
    SuiteDef d;
    d.name = "orthogonality";
    d.metrics = {cell_metric("final_orth_P", "final ‖PᵀP − I‖_F", final_orth_P),
                 cell_metric("final_orth_Q", "final ‖QQᵀ − I‖_F", final_orth_Q),
                 cell_metric("mean_mask_jump", "mean mask jump (mask-changing steps)", mean_mask_jump),
                 cell_metric("lambda_sigma_dev", "λ vs σ deviation (%)", lambda_sigma_deviation, 3)};
    for (const Metric &m : standard_metrics({"final_test_loss", "gap_to_oracle"})) d.metrics.push_back(m);
    d.claims = orthogonality_claims;
    d.plots = orthogonality_plot;
    d.part = kSyntheticPart;
    return d;
}

}  // namespace adalora::suites

// digits.cpp: the digits suite (digits.toml): the methods on the digits
// classification task at equal budgets, by test accuracy, and the kept rank
// of each module.
#include <algorithm>
#include <cmath>

#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

// Mean kept rank per module over the seeds: "name r, name r, ...".
std::string kept_ranks_text(const Variant &v) {
    if (v.cells.empty()) return "—";
    std::vector<std::string> mods = v.cells.front()->modules();
    std::string out;
    for (const auto &m : mods) {
        std::vector<double> r;
        for (const Cell *c : v.cells) r.push_back(json_key_number(c->summary["kept_rank"], m));
        Stats st = summarize(r);
        if (st.n == 0) continue;
        out += (out.empty() ? "" : ", ") + m + " " + format_number(st.mean, 3);
    }
    return out.empty() ? "—" : out;
}

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

}  // namespace

SuiteDef digits() {
    SuiteDef d;
    d.name = "digits";
    d.metrics = standard_metrics({"final_test_accuracy", "final_test_loss", "trainable_params_final"});
    d.metrics.push_back(text_metric("kept_ranks", "kept rank per module (mean)", kept_ranks_text));
    d.claims = digits_claims;
    d.part = kSyntheticPart;
    return d;
}

}  // namespace adalora::suites

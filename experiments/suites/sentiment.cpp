// sentiment.cpp: the sentiment suite (sentiment.toml): AdaLoRA against
// full-budget LoRA on the pretrained encoder, by dev and test accuracy per
// task, and the kept rank of every matrix type summed over the layers.
#include <algorithm>
#include <cmath>

#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

// Mean over the seeds of the kept rank of each matrix type, summed over the
// layers ("query 9.3, key 7, ...").
std::string kept_by_type_text(const Variant &v) {
    if (v.cells.empty() || !v.cells.front()->summary.contains("kept_rank_by_layer")) return "—";
    std::string out;
    for (const auto &[type, ranks] : v.cells.front()->summary["kept_rank_by_layer"].items()) {
        std::vector<double> sums;
        for (const Cell *c : v.cells) {
            double sum = 0;
            for (const auto &r : c->summary["kept_rank_by_layer"][type]) sum += r.get<double>();
            sums.push_back(sum);
        }
        out += (out.empty() ? "" : ", ") + type + " " + format_number(summarize(sums).mean, 3);
    }
    return out;
}

// Per task: the methods by mean test accuracy, with whether the 95% CIs part.
std::vector<std::string> sentiment_claims(const Suite &s) {
    std::vector<std::string> out;
    const Value acc = [](const Cell &c) { return json_number(c.summary, "final_test_accuracy"); };
    std::vector<std::string> tasks;
    for (const Cell *c : ordered_cells(s))
        if (std::find(tasks.begin(), tasks.end(), c->task()) == tasks.end()) tasks.push_back(c->task());
    for (const std::string &task : tasks) {
        auto g = grouped(s, [&](const Cell &c) { return c.task() == task; }, [](const Cell &c) { return c.method(); }, acc);
        if (g.empty()) continue;
        std::stable_sort(g.begin(), g.end(), [](const auto &x, const auto &y) { return x.second.mean > y.second.mean; });
        std::string line = "- " + task + ", best test accuracy: " + g[0].first + " (" + num(g[0].second.mean) + ")";
        for (size_t i = 1; i < g.size(); i++) line += ", then " + g[i].first + " (" + num(g[i].second.mean) + ")";
        if (g.size() > 1 && disjoint(g[0].second, g[1].second)) line += ", 95% CIs disjoint";
        else if (g.size() > 1 && g[0].second.spread() && g[1].second.spread()) line += ", 95% CIs overlap";
        out.push_back(line);
    }
    if (out.empty())
        out.push_back(std::string("- the better method on each task: ") + kNotMeasured + " (no final_test_accuracy)");
    return out;
}

}  // namespace

SuiteDef sentiment() {
    SuiteDef d;
    d.name = "sentiment";
    d.metrics = standard_metrics({"final_dev_accuracy", "final_test_accuracy", "trainable_params_final"});
    d.metrics.push_back(text_metric("kept_by_type", "kept rank per matrix type, summed over layers (mean)", kept_by_type_text));
    d.claims = sentiment_claims;
    d.part = kEncoderPart;
    return d;
}

}  // namespace adalora::suites

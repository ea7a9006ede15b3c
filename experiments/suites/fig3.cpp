// fig3.cpp: the fig3 suite (fig3.toml), the paper's Figure 3 on the
// pretrained encoder: where AdaLoRA puts the rank. The final kept rank of
// every (layer, matrix type), from summary.json's kept_rank_by_layer; the
// question in numbers: do W_f1/W_f2 and the top layers receive more rank
// than the rest?
#include <cmath>
#include <set>

#include "harness/report.h"
#include "suites/common.h"
#include "suites/encoder_plots.h"

namespace adalora::suites {

using namespace report;

namespace {

const std::set<std::string> kFfn = {"intermediate.dense", "output.dense"};

// The mean final kept rank per matrix over the (layer, type) pairs `keep`
// selects; NaN without kept_rank_by_layer.
double mean_rank(const Cell &c, const std::function<bool(int layer, int layers, const std::string &type)> &keep) {
    const nlohmann::json &by = c.summary.contains("kept_rank_by_layer") ? c.summary["kept_rank_by_layer"] : nlohmann::json();
    if (!by.is_object() || by.empty()) return NAN;
    double sum = 0;
    int n = 0;
    for (const auto &[type, ranks] : by.items())
        for (size_t l = 0; l < ranks.size(); l++)
            if (keep((int)l, (int)ranks.size(), type)) {
                sum += ranks[l].get<double>();
                n++;
            }
    return n ? sum / n : NAN;
}

double ffn_rank(const Cell &c) {
    return mean_rank(c, [](int, int, const std::string &t) { return kFfn.count(t) > 0; });
}
double attention_rank(const Cell &c) {
    return mean_rank(c, [](int, int, const std::string &t) { return kFfn.count(t) == 0; });
}
// The top and the bottom third of the layers (rounded up: 2 of 6).
int third(int layers) { return (layers + 2) / 3; }
double top_rank(const Cell &c) {
    return mean_rank(c, [](int l, int n, const std::string &) { return l >= n - third(n); });
}
double bottom_rank(const Cell &c) {
    return mean_rank(c, [](int l, int n, const std::string &) { return l < third(n); });
}

struct RankQuestion {
    std::string claim;
    Value more, less;
};

const std::vector<RankQuestion> &questions() {
    static const std::vector<RankQuestion> q = {
        {"the FFN matrices (W_f1, W_f2) keep more rank per matrix than the attention matrices (W_q, W_k, W_v, W_o)",
         ffn_rank, attention_rank},
        {"the top third of the layers keeps more rank per matrix than the bottom third", top_rank, bottom_rank}};
    return q;
}

// Per task and over all tasks (each seed's mean over the tasks).
std::vector<std::string> fig3_claims(const Suite &s) {
    std::vector<std::string> out;
    auto fmt = [](double v) { return (v >= 0 ? "+" : "") + num(v, 3); };
    for (const RankQuestion &q : questions()) {
        std::vector<std::string> scopes = tasks_of(s);
        if (scopes.size() > 1) scopes.push_back("");
        for (const std::string &task : scopes) {
            const Cells cells = cells_where(s, [&](const Cell &c) { return task.empty() || c.task() == task; });
            const Comparison c = compare_paired(cells, q.more, cells, q.less, true);
            out.push_back("- " + q.claim + (task.empty() ? " over all tasks" : on_task(task)) + ": **" +
                          outcome_word(c.outcome) + "** (" + num(c.a.mean, 3) + " against " + num(c.b.mean, 3) +
                          " triplets; difference " + comparison_text(c, fmt) + ")");
        }
    }
    return out;
}

std::vector<ReproRow> fig3_reproduction(const Suite &s) {
    std::vector<ReproRow> rows;
    const Cells all = ordered_cells(s);
    const char *paper[] = {"MNLI, DeBERTaV3-base: W_f1 and W_f2 receive more rank than the attention matrices",
                           "MNLI, DeBERTaV3-base: the top layers receive more rank"};
    const char *claim[] = {"Figure 3: more rank goes to W_f1 and W_f2", "Figure 3: more rank goes to the top layers"};
    for (size_t i = 0; i < questions().size(); i++) {
        const RankQuestion &q = questions()[i];
        const Comparison c = compare_paired(all, q.more, all, q.less, true);
        const std::string ours = c.diff.n ? "mean kept rank per matrix " + num(c.a.mean, 3) + " against " + num(c.b.mean, 3) +
                                                " over all tasks, difference " + comparison_text(c, [](double v) { return num(v, 3); })
                                          : kNotMeasured;
        rows.push_back({claim[i], paper[i], ours, c.outcome, setting_differs(s)});
    }
    return rows;
}

// The mean final rank of every type, layer by layer, over the suite's seeds and tasks.
std::string rank_map_text(const Variant &v) {
    if (v.cells.empty() || !v.cells.front()->summary.contains("kept_rank_by_layer")) return "—";
    std::string out;
    for (const auto &[type, ranks] : v.cells.front()->summary["kept_rank_by_layer"].items()) {
        std::string row;
        for (size_t l = 0; l < ranks.size(); l++) {
            std::vector<double> xs;
            for (const Cell *c : v.cells) xs.push_back(c->summary["kept_rank_by_layer"][type][l].get<double>());
            row += (row.empty() ? "" : " ") + format_number(summarize(xs).mean, 2);
        }
        out += (out.empty() ? "" : "; ") + type + " " + row;
    }
    return out;
}

}  // namespace

SuiteDef fig3() {
    SuiteDef d;
    d.name = "fig3";
    d.metrics = standard_metrics({"final_test_accuracy", "trainable_params_final"});
    d.metrics.push_back(text_metric("rank_map", "mean final rank, layers 0.. per matrix type", rank_map_text));
    d.claims = fig3_claims;
    d.reproduction = fig3_reproduction;
    d.part = kEncoderPart;
    d.plots = fig3_plots;
    return d;
}

}  // namespace adalora::suites

// fig1.cpp: the fig1 suite (fig1.toml), the paper's Figure 1 on the
// pretrained encoder: LoRA on one matrix type of every layer, or on every
// matrix of one group of layers, at one equal number of adapter parameters.
// Which matrices, and which layers, matter most?
#include <algorithm>
#include <cmath>
#include <set>

#include "harness/report.h"
#include "suites/common.h"
#include "suites/encoder_plots.h"

namespace adalora::suites {

using namespace report;

namespace {

bool type_alone(const Cell &c, const std::set<std::string> &types) {
    return c.cell().contains("target_modules") && types.count(cfg_str(c, "target_modules"));
}

const std::set<std::string> kFfn = {"intermediate.dense", "output.dense"};
const std::set<std::string> kAttention = {"query", "key", "value", "attention.output.dense"};

// The layer groups of the suite ("0,1", "2,3", ...), lowest first.
std::vector<std::string> layer_groups(const Suite &s) {
    std::vector<std::pair<int, std::string>> groups;
    for (const Cell *c : ordered_cells(s)) {
        if (!c->cell().contains("layers_to_transform")) continue;
        const std::string g = cfg_str(*c, "layers_to_transform");
        const int first = std::atoi(g.c_str());
        if (std::find(groups.begin(), groups.end(), std::make_pair(first, g)) == groups.end()) groups.emplace_back(first, g);
    }
    std::sort(groups.begin(), groups.end());
    std::vector<std::string> out;
    for (auto &[first, g] : groups) out.push_back(g);
    return out;
}

Pred layers_are(const std::string &g) {
    return [g](const Cell &c) { return c.cell().contains("layers_to_transform") && cfg_str(c, "layers_to_transform") == g; };
}

Comparison ffn_vs_attention(const Suite &s) {
    return compare_paired(cells_where(s, [](const Cell &c) { return type_alone(c, kFfn); }),
                          cells_where(s, [](const Cell &c) { return type_alone(c, kAttention); }), test_accuracy, true);
}

Comparison top_vs_bottom(const Suite &s) {
    const std::vector<std::string> g = layer_groups(s);
    if (g.size() < 2) return {};
    return compare_paired(cells_where(s, layers_are(g.back())), cells_where(s, layers_are(g.front())), test_accuracy, true);
}

std::vector<std::string> fig1_claims(const Suite &s) {
    std::vector<std::string> out;
    // The premise: every variant trains the same number of adapter parameters.
    std::set<long> sizes;
    for (const Cell *c : ordered_cells(s)) sizes.insert((long)json_number(c->summary, "trainable_params_initial"));
    std::string counts;
    for (long n : sizes) counts += (counts.empty() ? "" : ", ") + std::to_string(n);
    if (!sizes.empty())
        out.push_back("- equal budget: " + std::string(sizes.size() == 1 ? "**yes**, every variant trains " : "**no**, the variants train ") +
                      counts + " adapter parameters");
    const Comparison f = ffn_vs_attention(s);
    out.push_back("- the FFN matrices (W_f1, W_f2) alone beat the attention matrices (W_q, W_k, W_v, W_o) alone, each side "
                  "averaged per seed: **" + std::string(outcome_word(f.outcome)) + "** (" + comparison_text(f, points) + ")");
    for (const std::string &type : kFfn)
        for (const std::string &other : kAttention) {
            const Comparison c = compare_paired(cells_where(s, [&](const Cell &x) { return type_alone(x, {type}); }),
                                                cells_where(s, [&](const Cell &x) { return type_alone(x, {other}); }),
                                                test_accuracy, true);
            if (c.diff.n) out.push_back("- " + type + " alone beats " + other + " alone: **" + outcome_word(c.outcome) + "** (" +
                                        comparison_text(c, points) + ")");
        }
    const std::vector<std::string> g = layer_groups(s);
    for (size_t i = 0; i + 1 < g.size(); i++)
        for (size_t j = i + 1; j < g.size(); j++) {
            const Comparison c = compare_paired(cells_where(s, layers_are(g[j])), cells_where(s, layers_are(g[i])), test_accuracy, true);
            if (c.diff.n) out.push_back("- layers " + g[j] + " beat layers " + g[i] + ": **" + outcome_word(c.outcome) + "** (" +
                                        comparison_text(c, points) + ")");
        }
    return out;
}

std::vector<ReproRow> fig1_reproduction(const Suite &s) {
    const Comparison f = ffn_vs_attention(s), t = top_vs_bottom(s);
    const std::string what = "MNLI-m, DeBERTaV3-base, 0.28M parameters, LoRA on ";
    ReproRow a{"Figure 1(a): the FFN matrices matter more than the attention matrices",
               what + "one matrix type: W_f1 and W_f2 ahead of W_q, W_k, W_v and W_o",
               f.diff.n ? "W_f1/W_f2 minus W_q/W_k/W_v/W_o " + comparison_text(f, points) : kNotMeasured, f.outcome,
               setting_differs(s)};
    const std::vector<std::string> g = layer_groups(s);
    ReproRow b{"Figure 1(b): the top layers matter more than the bottom layers",
               what + "the layers of one group: the top layers ahead of the bottom ones",
               t.diff.n ? "layers " + g.back() + " minus layers " + g.front() + " " + comparison_text(t, points) : kNotMeasured,
               t.outcome, setting_differs(s)};
    return {a, b};
}

}  // namespace

SuiteDef fig1() {
    SuiteDef d;
    d.name = "fig1";
    d.metrics = standard_metrics({"final_test_accuracy", "final_dev_accuracy", "trainable_params_final"});
    d.claims = fig1_claims;
    d.reproduction = fig1_reproduction;
    d.part = kEncoderPart;
    d.plots = fig1_plots;
    return d;
}

}  // namespace adalora::suites

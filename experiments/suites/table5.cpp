// table5.cpp: the table5 suite (table5.toml), the paper's Table 5 ablation:
// the orthogonal regulariser, the SVD form and masking, pair by pair.
#include <algorithm>
#include <cmath>
#include <map>

#include "harness/report.h"
#include "suites/common.h"
#include "suites/encoder_plots.h"

namespace adalora::suites {

using namespace report;

namespace {

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
        auto on = [task](Pred p) { return in_task(task, p); };
        for (const auto &p : pairs) {
            Verdict v = compare(s, on(p.a), p.an, on(p.b), p.bn, budget_of, loss.value, true);
            out.push_back(verdict_sentence(p.an + " < " + p.bn + " in " + loss.name + " at every budget" + on_task(task) +
                                               " (" + p.note + ")",
                                           v, "needs " + p.an + " and " + p.bn + " cells" + on_task(task)));
        }
    }
    return out;
}

}  // namespace

SuiteDef table5() {
    SuiteDef d;
    d.name = "table5";
    d.metrics = standard_metrics({"final_test_loss", "gap_to_oracle", "trainable_params_final"});
    d.claims = table5_claims;
    d.part = kSyntheticPart;
    return d;
}

namespace {

bool adalora_no_orth(const Cell &c) { return adalora_masking(c) && !(cfg_num(c, "orth_reg_weight") > 0); }

struct Table5Claims {
    GroupedClaim svd_form, pruning, regulariser, lora_regu;
};

Table5Claims table5_encoder_groups(const Suite &s) {
    return {claim_by_budget(s, "the SVD form helps: svd-lora beats lora", method_is("svd-lora"), method_is("lora")),
            claim_by_budget(s, "allocation helps: adalora beats svd-lora", adalora_paper, method_is("svd-lora")),
            claim_by_budget(s, "the regulariser helps: adalora beats adalora with γ = 0", adalora_paper, adalora_no_orth),
            claim_by_budget(s, "the regulariser on LoRA: lora-orth beats lora", method_is("lora-orth"), method_is("lora"))};
}

std::vector<std::string> table5_encoder_claims(const Suite &s) {
    const Table5Claims g = table5_encoder_groups(s);
    std::vector<std::string> out;
    for (const GroupedClaim *c : {&g.svd_form, &g.pruning, &g.regulariser, &g.lora_regu})
        out.insert(out.end(), c->lines.begin(), c->lines.end());
    return out;
}

std::vector<ReproRow> table5_encoder_reproduction(const Suite &s) {
    const Table5Claims g = table5_encoder_groups(s);
    const std::string at = "SST-2 at 0.08 / 0.16 / 0.32 / 0.65%: ";
    return {repro_row(s, "Table 5: SVD-LoRA beats LoRA", at + "95.33 / 95.18 / 95.07 / 95.53 against 94.38 / 94.95 / – / 94.95", g.svd_form),
            repro_row(s, "Table 5: AdaLoRA beats SVD-LoRA", at + "95.64 / 95.80 / 96.10 / 96.10 against 95.33 / 95.18 / 95.07 / 95.53", g.pruning),
            repro_row(s, "Table 5: AdaLoRA beats AdaLoRA with γ = 0", at + "95.64 / 95.80 / 96.10 / 96.10 against 95.41 / 95.10 / 95.30 / 95.10", g.regulariser)};
}

}  // namespace

SuiteDef table5_encoder() {
    SuiteDef d;
    d.name = "table5-encoder";
    d.metrics = standard_metrics({"final_test_accuracy", "final_dev_accuracy", "trainable_params_final"});
    d.claims = table5_encoder_claims;
    d.reproduction = table5_encoder_reproduction;
    d.part = kEncoderPart;
    d.plots = [](const Dataset &data, std::vector<PlotJob> &jobs) { accuracy_budget_plots("table5-encoder", data, jobs); };
    return d;
}

}  // namespace adalora::suites

// table4.cpp: the table4 suite (table4.toml), the paper's Table 4 on planted
// tasks: the importance score (sens-unc against sens and magnitude) and SVD
// triplets with masking against doublets with hard delete (prune-lora).
#include <algorithm>
#include <cmath>
#include <map>

#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

std::vector<std::string> table4_claims(const Suite &s) {
    std::vector<std::string> out;
    auto importance = [](const std::string &imp) {
        return Pred([imp](const Cell &c) { return adalora_masking(c) && cfg_str(c, "importance", "sens-unc") == imp; });
    };
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        auto on = [task](Pred p) { return in_task(task, p); };
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

}  // namespace

SuiteDef table4() {
    SuiteDef d;
    d.name = "table4";
    d.metrics = standard_metrics({"final_test_loss", "gap_to_oracle", "trainable_params_final"});
    d.claims = table4_claims;
    d.part = kSyntheticPart;
    return d;
}

namespace {

Pred importance_is(const std::string &imp) {
    return [imp](const Cell &c) { return adalora_masking(c) && cfg_str(c, "importance", "sens-unc") == imp; };
}

}  // namespace

SuiteDef table4_encoder() {
    const std::string at = "SST-2 at 0.08 / 0.16 / 0.65%: 95.52 / 95.80 / 96.10 against ";
    return budget_suite("table4-encoder",
                        {{"s = Ī·Ū beats sensitivity alone (s = I)", importance_is("sens-unc"), importance_is("sens"),
                          "Table 4: s = Ī·Ū beats sensitivity alone", at + "94.61 / 95.30 / 95.64"},
                         {"s = Ī·Ū beats |λ|", importance_is("sens-unc"), importance_is("magnitude"),
                          "Table 4: s = Ī·Ū beats |λ|", at + "95.41 / 95.41 / 95.87"},
                         {"adalora (SVD triplets, masking) beats prune-lora (doublets, hard delete)", importance_is("sens-unc"),
                          method_is("prune-lora"), "Table 4: AdaLoRA beats Prune LoRA", at + "94.84 / 94.50 / 94.95"}});
}

}  // namespace adalora::suites

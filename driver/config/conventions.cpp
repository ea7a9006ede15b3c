// conventions.cpp: presets and rows of the conventions table.
#include "config/conventions.h"
#include "base/util.h"

#include <cmath>
#include <cstdlib>

namespace adalora {

const std::vector<std::string> kConventions = {"paper", "peft", "original"};

const std::vector<ConventionRow> &convention_rows() {
    static const std::vector<ConventionRow> rows = {
        {"orth-norm", "1", "orthogonal regulariser norm", "squared", "plain", "plain", {"squared", "plain"}},
        {"orth-reduce", "2", "reduction over the 2n factors", "sum", "mean", "mean", {"sum", "mean"}},
        {"sensitivity-weights", "3", "weights w in the sensitivity I of Eq. 10", "pre-step", "post-step", "post-step",
         {"pre-step", "post-step"}},
        {"step-base", "4", "number of the first step (1: t = 1..T; 0: global_step 0..T-1)", "1", "0", "0",
         {"1", "0"}},
        {"warmup-end", "5, 8", "warm-up test: t < t_i with (no-op) masks, or step <= tinit without", "before-tinit",
         "through-tinit", "through-tinit", {"before-tinit", "through-tinit"}},
        {"budget-rounding", "6", "rounding of the cubic budget", "nearest", "floor", "floor", {"nearest", "floor"}},
        {"ties", "7", "ties at the threshold", "exact", "kthvalue", "kthvalue", {"exact", "kthvalue"}},
        {"final-phase", "8-9", "after the forced mask at T - t_f", "freeze-pattern", "freeze-pattern", "recompute",
         {"freeze-pattern", "recompute"}},
        {"final-emas", "9", "importance EMAs after the forced mask at T - t_f (PEFT: reset_ipt)", "keep", "reset",
         "keep", {"keep", "reset"}},
        {"scale-eps", "10", "s = alpha / (r0 + eps)", "0", "1e-5", "1e-5", {}},
        {"init-std", "11", "std of the Gaussian P, Q (B: 0, A for LoRA)", "0.02", "0.02", "0.02", {}},
        {"clip", "3 (original)", "global gradient-norm clipping before the sensitivity (0: off)", "0", "0", "1.0", {}},
    };
    return rows;
}

namespace {

const std::string &explicit_value(const RunConfig &c, const std::string &option) {
    static const std::string none;
    auto it = c.convention_rows.find(option);
    return it == c.convention_rows.end() ? none : it->second;
}

const std::string &preset_value(const std::string &preset, const ConventionRow &row) {
    return preset == "peft" ? row.peft : preset == "original" ? row.original : row.paper;
}

}  // namespace

std::string convention_value(const RunConfig &cfg, const ConventionRow &row) {
    if (row.option == "clip" && cfg.clip >= 0) return number_text(cfg.clip);  // its own option; -1 = unset
    const std::string &v = explicit_value(cfg, row.option);
    return v.empty() ? preset_value(cfg.convention, row) : v;
}

void validate_conventions(const RunConfig &cfg) {
    bool known = false;
    for (const auto &p : kConventions) known = known || p == cfg.convention;
    if (!known) throw UsageError("--convention = '" + cfg.convention + "': allowed values are paper, peft, original");
    for (const auto &row : convention_rows()) {
        std::string v = convention_value(cfg, row);
        if (row.allowed.empty()) {
            char *end = nullptr;
            double x = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !std::isfinite(x) || x < 0)
                throw UsageError("--" + row.option + " = '" + v + "': must be a finite number >= 0");
            continue;
        }
        bool ok = false;
        std::string list;
        for (const auto &a : row.allowed) {
            ok = ok || a == v;
            list += (list.empty() ? "" : ", ") + a;
        }
        if (!ok) throw UsageError("--" + row.option + " = '" + v + "': allowed values are " + list);
    }
    const auto value_of = [&cfg](const char *option) {
        for (const auto &row : convention_rows())
            if (row.option == option) return convention_value(cfg, row);
        return std::string();
    };
    if (value_of("final-emas") == "reset" && value_of("final-phase") == "recompute")
        throw UsageError("--final-emas = 'reset' with --final-phase = 'recompute': the final masks would be "
                         "chosen from emptied EMAs; allowed: --final-emas keep");
}

void apply_conventions(const RunConfig &cfg, ada_model_config &model, ada_train_config &train) {
    for (const auto &row : convention_rows()) {
        const std::string v = convention_value(cfg, row);
        const std::string &o = row.option;
        if (o == "orth-norm") train.orth_norm = v == "plain" ? ADA_ORTH_PLAIN : ADA_ORTH_SQUARED;
        else if (o == "orth-reduce") train.orth_reduce = v == "mean" ? ADA_ORTH_MEAN : ADA_ORTH_SUM;
        else if (o == "sensitivity-weights")
            train.sens_weights = v == "post-step" ? ADA_SENS_POST_STEP : ADA_SENS_PRE_STEP;
        else if (o == "step-base") train.schedule.step_base = v == "0" ? 0 : 1;
        else if (o == "warmup-end")
            train.schedule.warmup_end = v == "through-tinit" ? ADA_WARMUP_THROUGH_TINIT : ADA_WARMUP_BEFORE_TINIT;
        else if (o == "budget-rounding")
            train.schedule.rounding = v == "floor" ? ADA_ROUND_FLOOR : ADA_ROUND_NEAREST;
        else if (o == "ties") train.ties = v == "kthvalue" ? ADA_TIES_KTHVALUE : ADA_TIES_EXACT;
        else if (o == "final-phase")
            train.schedule.final_phase = v == "recompute" ? ADA_FINAL_RECOMPUTE : ADA_FINAL_FREEZE;
        else if (o == "final-emas") train.final_emas = v == "reset" ? ADA_FINAL_EMAS_RESET : ADA_FINAL_EMAS_KEEP;
        else if (o == "scale-eps") model.scale_eps = std::strtod(v.c_str(), nullptr);
        else if (o == "init-std") model.init_std = std::strtod(v.c_str(), nullptr);
        else if (o == "clip") train.clip = std::strtod(v.c_str(), nullptr);
    }
}

std::string conventions_table() {
    std::string t = "| option | row (docs/SPEC.md §4) | what | paper | peft | original |\n|---|---|---|---|---|---|\n";
    for (const auto &r : convention_rows())
        t += "| --" + r.option + " | " + r.rows + " | " + r.what + " | " + r.paper + " | " + r.peft + " | " +
             r.original + " |\n";
    return t;
}

}  // namespace adalora

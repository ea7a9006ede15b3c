// methods.cpp: --method to model and trainer configs.
#include "train/methods.h"

#include "config/conventions.h"

#include <algorithm>
#include <cmath>

namespace adalora {

long requested_budget(const RunConfig &cfg, int n_modules) {
    return cfg.target_budget > 0 ? cfg.target_budget : (long)cfg.target_r * n_modules;
}

MethodSetup setup_method(const RunConfig &cfg, Task &task) {
    const int n = (int)task.specs.size();
    const long target = requested_budget(cfg, n);
    if (target > (long)n * cfg.init_r)
        throw UsageError("--target-budget = " + std::to_string(target) + ": allowed 0..n * init_r = " +
                         std::to_string((long)n * cfg.init_r));
    const std::string &m = cfg.method;
    const bool fixed = m == "lora" || m == "lora-orth" || m == "svd-lora";
    const bool lora_form = m == "lora" || m == "lora-orth" || m == "prune-lora" || m == "svd-proj";
    // n = 0 (head-only: no adapted matrix) has no average rank to take.
    const int lora_r = cfg.lora_r > 0 ? cfg.lora_r : n > 0 ? std::max(1, (int)std::lround((double)target / n)) : 1;

    MethodSetup s;
    task.bind_names();
    s.model = ada_model_defaults();
    s.model.n_modules = n;
    s.model.modules = task.specs.data();
    s.model.form = lora_form ? ADA_FORM_LORA : ADA_FORM_SVD;
    s.model.r0 = fixed ? lora_r : cfg.init_r;
    s.model.alpha = cfg.lora_alpha;
    s.model.loss = task.loss;
    // Evaluation runs 256 rows at a time; an encoder's activations grow with
    // its rows times tokens, so it evaluates a training batch at a time.
    s.model.max_batch = task.has_encoder() ? cfg.batch : std::max(cfg.batch, 256);
    s.model.seed = cfg.seed;

    ada_train_config &t = s.train;
    t = ada_train_defaults();
    t.opt.lr = cfg.lr;
    t.opt.weight_decay = cfg.weight_decay;
    t.beta1 = cfg.beta1;
    t.beta2 = cfg.beta2;
    t.gamma = (m == "adalora" || m == "lora-orth" || m == "svd-lora") ? cfg.orth_reg_weight : 0.0;
    t.prune = (m == "adalora" && !cfg.no_prune) || m == "prune-lora";
    t.hard_delete = m == "prune-lora" || (m == "adalora" && cfg.hard_delete);
    t.importance = cfg.importance == "sens" ? ADA_IMPORTANCE_SENS
                   : cfg.importance == "magnitude" ? ADA_IMPORTANCE_MAGNITUDE
                                                   : ADA_IMPORTANCE_SENS_UNC;
    s.svd_proj = m == "svd-proj";
    const long all = (long)n * s.model.r0;
    const bool allocates = t.prune || s.svd_proj;
    s.target_budget = allocates ? target : all;
    t.schedule.b0 = all;
    t.schedule.bT = s.target_budget;
    // head-only has no budget (b0 = bT = 0) and so no schedule: --tinit and
    // --tfinal are not read (validate() does not hold them to --total_step).
    const bool scheduled = m != "head-only";
    t.schedule.t_init = scheduled ? cfg.tinit : 0;
    t.schedule.t_final = scheduled ? cfg.tfinal : 0;
    t.schedule.total = cfg.total_step;
    t.schedule.delta_t = cfg.deltaT;
    apply_conventions(cfg, s.model, t);  // docs/SPEC.md §4: the preset, then each row set explicitly
    return s;
}

}  // namespace adalora

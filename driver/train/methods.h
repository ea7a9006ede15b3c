// methods.h: what each --method means, as a model config and a train config
// for the one trainer every method shares.
//
//   adalora     SVD form (Eq. 3), Eq. 4 with γ, pruning by Eqs. 8–14
//               (--importance, --orth_reg_weight 0, --no-prune: SVD-LoRA at init_r)
//   lora        LoRA form at fixed rank lora_r, no regulariser
//   lora-orth   LoRA form at lora_r with Eq. 4 on B and A (the paper's LoRA_regu)
//   svd-lora    SVD form at fixed rank lora_r with Eq. 4, no pruning
//   prune-lora  LoRA form at init_r, doublets scored like Eq. 9 and pruned to the
//               same schedule; a pruned doublet is zeroed and stays zero
//   svd-proj    LoRA form at init_r; at each mask step every B A is replaced by
//               the global truncation of its exact SVD (reference_svd/)
//   head-only   a sentence task's encoder frozen with no adapter at all (n = 0
//               modules, budget 0, γ 0, no schedule): only the classification
//               head (K x C weights, K biases: host_params) trains
// lora_r defaults to the target average rank, b(T) / n rounded (at least 1).
#pragma once

#include "config/run_config.h"
#include "tasks/tasks.h"

extern "C" {
#include "trainer.h"
}

namespace adalora {

struct MethodSetup {
    ada_model_config model;
    ada_train_config train;
    bool svd_proj = false;
    long target_budget = 0;   // b(T) of the run (for fixed-rank methods: n · rank)
};

// Throws UsageError when the budgets do not fit the task.
MethodSetup setup_method(const RunConfig &cfg, Task &task);

// b(T) as asked: --target-budget, else n · target_r.
long requested_budget(const RunConfig &cfg, int n_modules);

}  // namespace adalora

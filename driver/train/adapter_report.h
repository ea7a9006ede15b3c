// adapter_report.h: what a trained adapter looks like, per module, measured
// with reference_svd/analysis.h for summary.json:
//   sigma        the true singular values of ΔW_k (descending, r0 of them)
//   lambda       λ_k (SVD form), to compare with sigma
//   orth_P, orth_Q  ||PᵀP − I||_F and ||QQᵀ − I||_F (B and A in LoRA form)
//   planted_cosines (planted-linear) cosines of the principal angles between
//                the learned and the planted left singular subspaces, over
//                min(r*_k, kept_k) directions: 1 = recovered exactly.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "tasks/tasks.h"

namespace adalora {

nlohmann::json adapter_report(const ada_model *m, const Task &task);

// ||PᵀP − I||_F and ||QQᵀ − I||_F averaged over the modules (NaN without
// any: head-only), for the orthogonality curves of metrics.csv; owns its
// r0 x r0 scratch.
class OrthMeter {
public:
    struct Mean { double p, q; };
    explicit OrthMeter(const ada_model *m);
    Mean measure();

private:
    const ada_model *model_;
    std::vector<real> work_;
};

}  // namespace adalora

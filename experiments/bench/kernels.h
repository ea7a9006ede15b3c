// kernels.h: every benchmark of the suite, registered for a grid of sizes.
//
//   layer_forward|layer_backward/svd|lora/d/r0/batch  one adapted d x d layer (Eq. 3, LoRA)
//   orth/d/r0                 Eq. 4 on one layer's P and Q, value and gradient
//   importance/d/r0           Eqs. 10–12 over the 4-layer model's arena
//   scores/d/r0               Eq. 9 for the 4 layers
//   allocation/N              Eq. 8: the top N/2 of N triplet scores
//   svd/full|qr/d/r0          the exact SVD of one d x d product of rank r0
//   step/METHOD/d/r0/batch    ΔT = 10 full training steps (step_case.h)
// Each GEMM workload also gets its sgemm: twin (workload.h).
#pragma once

#include <string>
#include <vector>

#include "workload.h"

namespace bench {

struct Grid {
    std::vector<int> d, r0, batch, svd_d;
    std::vector<long> triplets;
    std::vector<std::string> methods;
    int max_full_svd_d = 1024;  // svd-proj-full steps above this take minutes each
};

void register_all(const Grid &grid);

}  // namespace bench

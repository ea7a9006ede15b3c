// planted_mlp.h: a regression task whose answer is planted: a teacher MLP
// equal to the student's frozen base plus a low-rank update Δ*_k of known rank
// r*_k in every layer. Generated from a seed; no files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include "model.h"
}

namespace adalora {

struct PlantedMlpOptions {
    std::vector<int> widths{32, 64, 64, 64, 32};  // layer k maps widths[k] -> widths[k+1]
    std::vector<int> planted_rank{0, 6, 1, 3};    // r*_k, one per layer
    double top_singular_value = 1.0;              // σ_1 of every Δ*_k
    double spectrum_decay = 0.7;                  // σ_{j+1} = decay · σ_j
    double noise_std = 0.0;                       // output noise of the targets
    int train_rows = 2048, test_rows = 1024;
};

// Rows of one chain's inputs and targets, row-major.
struct Dataset {
    int rows = 0, d_in = 0, d_out = 0;
    std::vector<real> x, y;
};

struct PlantedMlp {
    std::vector<std::string> names;        // "l0", "l1", ...
    std::vector<ada_module_spec> specs;    // GELU between layers, identity last
    std::vector<int> planted_rank;
    Dataset train, test;
};

// Builds the task. The teacher's base is the student's: both come from
// ada_model_create with the same seed, whose base weights do not depend on
// the adapter form. Throws std::runtime_error with the library's message.
PlantedMlp make_planted_mlp(const PlantedMlpOptions &opt, uint64_t seed);

// Mean task loss of `m` over a dataset, in chunks of max_batch rows.
double dataset_loss(ada_model *m, const Dataset &data);

}  // namespace adalora

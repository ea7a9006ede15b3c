// run_state.h: everything a training run's remaining steps depend on, apart
// from what the config rebuilds (task data, frozen base, buffers): what a
// checkpoint saves (checkpoint.h) and what --on-nonfinite skip-step restores.
//
// TrainState is the model's and trainer's part, the tensors a step changes:
// the adapter parameters (the whole arena), the keep flags, the AdamW moments
// and step counts, the importance EMAs Ī and Ū, the last mask step's scores
// and the pattern before it. svd-proj keeps nothing between its projections
// (its buffers are scratch), so this covers every method.
// LoopState is the driver loop's part: the counters of the metrics row in
// progress, the time so far and the log text so far.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include "trainer.h"
}

namespace adalora {

struct TrainState {
    std::vector<real> params, m1, m2, ibar, ubar;  // n_params each
    std::vector<real> scores;                      // n_triplets
    std::vector<uint8_t> keep, prev_keep;          // n_triplets
    int64_t completed = 0, updates = 0;
};

// Copies the state out of the model and trainer; once the vectors have their
// sizes (a second capture of the same run) this allocates nothing.
void capture(TrainState &s, const ada_model *m, const ada_trainer *tr);

// Copies a state back. Throws UsageError naming the tensor whose size does not
// fit this model (a checkpoint of another run), before writing anything.
void restore(const TrainState &s, ada_model *m, ada_trainer *tr);

struct LoopState {
    // Since the last metrics.csv row: mask-step counters and the mask-jump sum.
    int64_t revived = 0, pruned = 0, jumps = 0;
    double jump_sum = 0;
    int64_t skipped = 0;           // steps skipped by --on-nonfinite skip-step
    double train_seconds = 0;      // wall clock of the steps so far (earlier segments)
    double svd_ms = 0;             // svd-proj's projection time so far
    double ms[ADA_TIME_COUNT] = {0};
    std::string metrics_csv, ranks_csv;
    std::string dev_csv;           // sentence tasks: dev.csv (encoder_report.h)
    // Each resume under another BLAS configuration than the one the run was
    // saved under: a JSON array of {"step", "saved", "now"} (summary.json's
    // "blas_changes"); "[]" while the run has kept one configuration.
    std::string blas_changes = "[]";
};

}  // namespace adalora

// train_loop.h: the steps of a training run, shared by every method: each
// step is the library's (ada_trainer_step_hooked with step_hooks.h), then the
// numerical guard (--on-nonfinite), the rows of metrics.csv and ranks.csv,
// the trace, the stderr log and the checkpoints.
#pragma once

#include <chrono>
#include <functional>

#include "config/run_config.h"
#include "train/console_log.h"
#include "train/run_checkpoints.h"
#include "train/run_setup.h"
#include "train/run_state.h"

namespace adalora {

// A caller's code at a fixed point of every step (the tests inject a fault
// through it, see tests/driver/train/test_checkpoint.cpp).
struct LoopHooks {
    // Before step t's gradients, after skip-step's copy of the state (so
    // skip-step undoes what it changes).
    std::function<void(long t, ada_model *m)> before_step;
};

// The training time of a run: the wall clock since the loop began plus that of
// earlier segments (a resumed run), minus the optional measurements and the
// checkpoints.
struct TrainClock {
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    double earlier = 0;          // seconds of the segments before this one
    double measure_seconds = 0;  // not training: mask-jump, orthogonality, checkpoints
    double seconds() const;
};

// Runs steps tr->completed + 1 .. cfg.total_step, or up to --stop-after.
// Returns false when --stop-after ended it. Throws NonFiniteError for a
// non-finite value under --on-nonfinite stop, std::runtime_error when the
// library refuses a step.
bool train_loop(const RunConfig &cfg, LogMode log, RunSetup &run, LoopState &loop, Checkpointer &checkpoints,
                TrainClock &clock, const LoopHooks *hooks);

}  // namespace adalora

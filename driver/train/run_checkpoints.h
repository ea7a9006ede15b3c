// run_checkpoints.h: when a training run saves its checkpoints (run_dir.h),
// and how a resumed run is put back where its checkpoint left it.
#pragma once

#include <cstdint>
#include <string>

#include "config/run_config.h"
#include "tasks/tasks.h"
#include "train/checkpoint.h"
#include "train/run_state.h"

extern "C" {
#include "trainer.h"
}

namespace adalora {

// The checkpoints of a run; does nothing when checkpointing is off.
// The Checkpoint and its bytes are kept across saves, so a save reuses their
// memory (the logs grow, the tensors do not).
class Checkpointer {
public:
    // blas: blas_config() of this process, recorded in every checkpoint.
    Checkpointer(const RunConfig &cfg, uint64_t origin, const std::string &blas);
    bool on() const { return on_; }
    // Whether step t ends with a checkpoint: every save_every steps, at
    // --stop-after and at the last step (the trained adapters).
    bool due(long t) const;
    // The step-0 checkpoint creates the run directory.
    void save(const ada_model *m, const ada_trainer *tr, const BatchSampler &sampler, const LoopState &loop,
              double train_seconds);
    // A resumed run starts with its checkpoint on disk.
    void resumed_at(long step) { saved_step_ = step; }
    // What a stopped run leaves, for the message of a non-finite value.
    std::string kept_note() const;

private:
    const RunConfig &cfg_;
    const bool on_;
    Checkpoint ck_;
    std::string bytes_;
    long saved_step_ = -1;
};

// Puts a run back where the checkpoint left it, after checking it is this
// run's (UsageError naming `dir` otherwise; for a task whose base comes from
// a cache file, the message names it). A checkpoint saved under another BLAS
// configuration than `blas` resumes all the same: one line on stderr says
// the continuation is not bit for bit, and loop.blas_changes records it.
void resume_from(const Checkpoint &c, const Task &task, uint64_t origin, const std::string &blas, ada_model *m,
                 ada_trainer *tr, BatchSampler &sampler, LoopState &loop, const std::string &dir);

}  // namespace adalora

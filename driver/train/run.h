// run.h: one training run of any method, and the files it leaves.
//
// DIR/metrics.csv       step, loss, task_loss, orth, budget, kept, threshold, lr, seconds
// DIR/ranks.csv         step, module, kept_rank (long form; step 0, then every mask step)
// DIR/rank_pattern.json per module, the list of kept booleans (PEFT's rank_pattern)
// DIR/summary.json      method, task, seed, config, losses, oracle, ranks, parameter
//                       counts, skipped_steps, ms_per_step, time_ms per phase
// DIR/adapter.safetensors  every module's final adapter at full r0, keep flags,
//                       W0 and bias (adapter_file.h)
// The files are written into a temporary directory beside DIR and renamed
// into place when the run succeeds, so a failed run leaves nothing. A run with
// checkpoints owns DIR from its start instead (run_dir.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/run_config.h"
#include "formats/safetensors.h"
#include "formats/staged_dir.h"
#include "train/config_json.h"
#include "train/console_log.h"

namespace adalora {

// DIR/dev.csv           sentence tasks: step, dev loss, dev accuracy (--eval-every, the last step)
struct RunOutput {
    std::string metrics_csv, ranks_csv;
    std::string dev_csv;                   // sentence tasks only
    nlohmann::json rank_pattern, summary;  // only when finished
    Safetensors adapter;                   // only when finished
    bool finished = false;                 // false: ended by --stop-after
    long steps_done = 0;
};

struct Checkpoint;
struct LoopHooks;  // train_loop.h

// Trains cfg.method on cfg.task; throws UsageError for bad options,
// NonFiniteError for a non-finite value under --on-nonfinite stop, and
// std::runtime_error when the library refuses something. With checkpointing
// (run_dir.h) it creates cfg.out and saves checkpoints into it as it goes;
// `resume` (from load_for_resume) continues that run where it stopped.
// `hooks` (may be null) runs a caller's code in every step (tests).
RunOutput train_run(const RunConfig &cfg, LogMode log, const Checkpoint *resume = nullptr,
                    const LoopHooks *hooks = nullptr);

// Trains and writes: train_run, then write_run, or for a checkpointed run the
// final files into its directory (finish_run_dir); resumes when cfg.resume is set.
RunOutput run_and_write(const RunConfig &cfg, LogMode log, const LoopHooks *hooks = nullptr);

// Writes a run's files into `dir` atomically (dir must not exist; its parent must).
void write_run(const std::string &dir, const RunOutput &out);

// The run's files (name, text), as write_run writes them.
std::vector<std::pair<std::string, std::string>> run_files(const RunOutput &out);

}  // namespace adalora

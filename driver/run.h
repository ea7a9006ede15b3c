// run.h: one training run of any method, and the files it leaves.
//
// DIR/metrics.csv       step, loss, task_loss, orth, budget, kept, threshold, lr, seconds
// DIR/ranks.csv         step, module, kept_rank (long form; step 0, then every mask step)
// DIR/rank_pattern.json per module, the list of kept booleans (PEFT's rank_pattern)
// DIR/summary.json      method, task, seed, config, losses, oracle, ranks, parameter
//                       counts, ms_per_step, time_ms per phase
// DIR/adapter.safetensors  every module's final adapter at full r0, keep flags,
//                       W0 and bias (adapter_file.h)
// The files are written into a temporary directory beside DIR and renamed
// into place when the run succeeds, so a failed run leaves nothing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "options.h"
#include "safetensors.h"

namespace adalora {

struct RunOutput {
    std::string metrics_csv, ranks_csv;
    nlohmann::json rank_pattern, summary;
    Safetensors adapter;
};

enum class LogMode { quiet, lines, progress };

// Trains cfg.method on cfg.task; throws UsageError for bad options and
// std::runtime_error when the library refuses something.
RunOutput train_run(const RunConfig &cfg, LogMode log);

// Writes a run's files into `dir` atomically (dir must not exist; its parent must).
void write_run(const std::string &dir, const RunOutput &out);

// Writes files (name, content) into `dir` atomically: into DIR.tmp-PID, then
// renamed (dir must not exist; its parent must).
void write_dir_atomic(const std::string &dir, const std::vector<std::pair<std::string, std::string>> &files);

// Refuses an output directory that exists or whose parent does not, before any work.
void check_output_dir(const std::string &dir);

// The JSON object of every option of a run.
nlohmann::json config_json(const RunConfig &cfg);

}  // namespace adalora

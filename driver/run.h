// run.h: one training run of any method, and the files it leaves.
//
// DIR/metrics.csv       step, loss, task_loss, orth, budget, kept, threshold, lr, seconds
// DIR/ranks.csv         step, module, kept_rank (long form; step 0, then every mask step)
// DIR/rank_pattern.json per module, the list of kept booleans (PEFT's rank_pattern)
// DIR/summary.json      method, task, seed, config, losses, oracle, ranks, parameter
//                       counts, ms_per_step, time_ms per phase
// The files are written into a temporary directory beside DIR and renamed
// into place when the run succeeds, so a failed run leaves nothing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "options.h"
#include "staged_dir.h"

namespace adalora {

struct RunOutput {
    std::string metrics_csv, ranks_csv;
    nlohmann::json rank_pattern, summary;
};

enum class LogMode { quiet, lines, progress };

// Trains cfg.method on cfg.task; throws UsageError for bad options and
// std::runtime_error when the library refuses something.
RunOutput train_run(const RunConfig &cfg, LogMode log);

// Writes a run's files into `dir` atomically (dir must not exist; its parent must).
void write_run(const std::string &dir, const RunOutput &out);


// The JSON object of every option of a run.
nlohmann::json config_json(const RunConfig &cfg);

// Every row of the conventions table with its value in this run.
nlohmann::json conventions_json(const RunConfig &cfg);

}  // namespace adalora

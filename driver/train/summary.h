// summary.h: summary.json and rank_pattern.json of a finished run (run.h).
#pragma once

#include <nlohmann/json.hpp>

#include "config/run_config.h"
#include "train/machine.h"
#include "train/run_setup.h"
#include "train/run_state.h"

namespace adalora {

// Per module, the list of kept booleans (PEFT's rank_pattern).
nlohmann::json rank_pattern_json(const ada_model *m);

// method, task, seed, config, final losses and accuracies, the oracle's
// allocation and the gap to it, parameter counts, skipped steps and the time
// per phase. Evaluates the trained model on both splits.
nlohmann::json summary_json(const RunConfig &cfg, RunSetup &run, const MachineInfo &machine, const LoopState &loop,
                            double train_seconds);

}  // namespace adalora

// config_json.h: a run's options as JSON, as summary.json, checkpoints and
// run indexes store them.
#pragma once

#include <nlohmann/json.hpp>

#include "config/run_config.h"

namespace adalora {

// The JSON object of every option of a run that changes what it computes.
nlohmann::json config_json(const RunConfig &cfg);

// Every row of the conventions table with its value in this run.
nlohmann::json conventions_json(const RunConfig &cfg);

}  // namespace adalora

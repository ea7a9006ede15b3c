// sweep.h: `adalora sweep SUITE --out DIR`: every cell of a suite's grid.
//
// A suite is a TOML file (experiments/suites/NAME.toml) with the driver's --config
// keys: a scalar is fixed for every cell, an array is an axis of the grid.
// Suite-only keys: `description` (one line), `seeds` (cells run seeds
// 0..seeds-1), `max_jobs` (a cap on --jobs, for suites that measure time),
// `variants` (an array of inline tables of keys, for grids that
// are not products, e.g. {method = "adalora", importance = "sens"}), and a
// `[quick]` table whose keys override the others under --quick.
// Cells = variants x axes (in file order) x seeds. Each finished cell is a run
// directory DIR/NAME/cells/CELL_ID (written atomically, see run.h) whose
// summary.json adds "suite", "cell_id" and "cell"; DIR/NAME/suite.json
// records the resolved grid. A cell already present is skipped, so an
// interrupted sweep resumes; --shard i/N runs the cells whose index is
// i - 1 modulo N, a deterministic partition.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/run_config.h"

namespace adalora {

struct SweepArgs {
    std::string suite;      // a path, or NAME for experiments/suites/NAME.toml
    std::string out;
    int seeds = 0;          // 0: the suite's
    std::string shard = "1/1";
    int jobs = 1;
    bool quick = false;
};

struct SuiteCell {
    std::string id;
    nlohmann::json cell;    // axis and variant values, and the seed
    RunConfig config;
};

struct SweepSuite {
    std::string name, description;
    nlohmann::json axes = nlohmann::json::object(), fixed = nlohmann::json::object();
    nlohmann::json variants = nlohmann::json::array();
    int seeds = 1;
    int max_jobs = 0;   // suite-only `max_jobs`: cap on parallel cells (timing suites set 1); 0 = none
    bool quick = false;
    std::vector<SuiteCell> cells;  // in grid order
};

// Reads and validates a suite and expands its grid. Throws UsageError.
SweepSuite load_suite(const SweepArgs &args);

// Runs this shard's missing cells; returns the number of failed cells.
int run_sweep(const SweepArgs &args);

}  // namespace adalora

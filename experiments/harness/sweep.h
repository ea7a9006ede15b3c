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
#include <cstdint>
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
    // Refuse a grid of more cells than this before building anything
    // (--max-cells; a typo such as an axis of 1000 values would otherwise
    // queue weeks of runs).
    uint64_t max_cells = kDefaultMaxCells;
    static constexpr uint64_t kDefaultMaxCells = 100000;
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
    std::string out;      // the sweep directory the cells' run directories go in
    uint64_t n_cells = 0; // variants x axes x seeds
};

// Reads a suite, counts its grid's cells (refusing more than
// args.max_cells, with the count, before anything is built) and checks
// every cell's configuration and id, one cell at a time: the grid is never
// held in memory. Throws UsageError.
SweepSuite load_suite(const SweepArgs &args);

// Cell i (0 <= i < n_cells) of the grid, built on demand: variants outermost,
// then the axes in key order (the last fastest), seeds innermost.
SuiteCell suite_cell(const SweepSuite &s, uint64_t i);

// Runs this shard's missing cells; returns the number of failed cells.
int run_sweep(const SweepArgs &args);

}  // namespace adalora

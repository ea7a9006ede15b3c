// dataset.h: a sweep tree as `adalora report` reads it, from one or many
// directories (for example one per shard), merged.
//
//   DIR/<suite>/suite.json            {"suite", "description", "axes": {key: [values]},
//                                      "fixed": {key: value}, "seeds", "quick"}
//   DIR/<suite>/cells/<cell_id>/      one finished run: summary.json (with "suite",
//                                      "cell_id", "cell": {axis: value, ..., "seed"}),
//                                      metrics.csv, ranks.csv, rank_pattern.json
//   DIR/<suite>/cells/*.tmp-<pid>/    an unfinished cell: ignored
//
// A cell's variant is its "cell" object without "seed"; a suite's variants
// are in grid order. Nothing here knows a particular suite.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace adalora::report {

// A CSV file with a header row, every field a number ("nan" included).
struct CsvTable {
    std::vector<std::string> columns;
    std::vector<std::vector<double>> rows;
    int column(const std::string &name) const;              // -1 when absent
    std::vector<double> values(const std::string &name) const;  // empty when absent
};

struct RankRow {
    long step = 0;
    std::string module;
    int rank = 0;
};

struct Cell {
    std::string id;           // the directory name under cells/
    std::string dir;          // where it was read
    nlohmann::json summary;   // summary.json
    CsvTable metrics;         // metrics.csv
    std::vector<RankRow> ranks;  // ranks.csv
    long seed = 0;            // cell.seed (else summary.seed)

    const nlohmann::json &cell() const { return summary["cell"]; }
    const nlohmann::json &config() const { return summary["config"]; }
    std::string method() const;
    std::string task() const;
    // Module names in the model's order (ranks.csv at step 0, else kept_rank's keys).
    std::vector<std::string> modules() const;
    // Distinct steps > 0 of ranks.csv: the mask (allocation) steps.
    std::vector<long> mask_steps() const;
};

struct Variant {
    nlohmann::json key;               // the cell object without "seed"
    std::vector<const Cell *> cells;  // by seed
    std::string label() const;        // "method=adalora, target_r=2"
};

struct Suite {
    std::string name, description;
    nlohmann::json meta;              // suite.json
    std::vector<std::string> axes;    // axis keys in grid order
    std::vector<std::string> sources; // the DIRs that held it
    std::vector<Cell> cells;
    std::vector<Variant> variants;    // in grid order
    long expected_cells() const;      // Π |axis| × seeds (0 when unknown)
};

struct Dataset {
    std::vector<std::string> dirs;
    std::vector<Suite> suites;        // the `order` suites in their order, then the rest by name
    const Suite *find(const std::string &name) const;
};

// Reads and merges the DIRs; the suites named in `order` come first, in that
// order (the registry's). Throws UsageError (one line) for a missing DIR, a
// DIR without suites, a malformed or conflicting file.
Dataset load_report_inputs(const std::vector<std::string> &dirs, const std::vector<std::string> &order = {});

// The number at a dotted path of a JSON object ("time_ms.svd"), NaN when the
// path is absent or not a number (booleans count as 0/1).
double json_number(const nlohmann::json &j, const std::string &path);
// The number under one key of an object (no path splitting: module names hold dots).
double json_key_number(const nlohmann::json &obj, const std::string &key);
// A directory argument without its trailing slashes ("runs/" -> "runs").
std::string strip_slash(std::string p);

// A JSON value as text: strings bare, numbers as JSON writes them.
std::string json_text(const nlohmann::json &v);

}  // namespace adalora::report

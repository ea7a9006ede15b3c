// report.h: `adalora report DIR... --out REPORT_DIR`.
//
// Reads what `adalora sweep SUITE --out DIR` writes, from one or many DIRs
// (for example one per shard), merges them and writes REPORT_DIR/REPORT.md
// with its plots in REPORT_DIR/plots/.
//
//   DIR/<suite>/suite.json            {"suite", "description", "axes": {key: [values]},
//                                      "fixed": {key: value}, "seeds", "quick"}
//   DIR/<suite>/cells/<cell_id>/      one finished run: summary.json (with "suite",
//                                      "cell_id", "cell": {axis: value, ..., "seed"}),
//                                      metrics.csv, ranks.csv, rank_pattern.json
//   DIR/<suite>/cells/*.tmp-<pid>/    an unfinished cell: ignored
//
// A cell's variant is its "cell" object without "seed"; a suite's table has
// one row per variant with the mean ± sample std and the 95% Student-t
// confidence interval over its seeds (report_stats.h) of the suite's key
// metrics; the claims (report_claims.cpp) are sentences computed from the same
// numbers; the plots (report_plots.cpp) are drawn by gnuplot.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/report_stats.h"

namespace adalora {
namespace report {

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
    std::vector<Suite> suites;        // the known suites in their order, then the rest by name
    const Suite *find(const std::string &name) const;
};

// Reads and merges the DIRs. Throws UsageError (one line) for a missing DIR,
// a DIR without suites, a malformed or conflicting file.
Dataset load_report_inputs(const std::vector<std::string> &dirs);

// The number at a dotted path of a JSON object ("time_ms.svd"), NaN when the
// path is absent or not a number (booleans count as 0/1).
double json_number(const nlohmann::json &j, const std::string &path);
// The number under one key of an object (no path splitting: module names hold dots).
double json_key_number(const nlohmann::json &obj, const std::string &key);
// A JSON value as text: strings bare, numbers as JSON writes them.
std::string json_text(const nlohmann::json &v);

// One column of a suite's table: a number per cell, aggregated over seeds,
// or (text) one string per variant.
struct Metric {
    std::string key, label;
    std::function<double(const Cell &)> value;          // NaN: not measured
    std::function<std::string(const Variant &)> text;   // set for text columns
    int digits = 4;
};

// Every metric the report knows, by key (throws std::out_of_range otherwise).
const Metric &metric(const std::string &key);
// The key metrics of a suite; an unknown suite gets the generic list.
std::vector<std::string> suite_metric_keys(const std::string &suite);
Stats variant_stats(const Variant &v, const Metric &m);

// One "- ..." line per claim of the suite (report_claims.cpp).
std::vector<std::string> suite_claims(const Suite &suite);

// A plot drawn (png and svg, relative to REPORT_DIR) or skipped (reason set).
struct Plot {
    std::string suite, name, title;
    std::string png, svg;
    std::string skipped;  // why it was not drawn; empty when drawn
};

// Writes the data, the .gp script and, when gnuplot runs, the PNG and SVG of
// every plot into plots_dir (report_plots.cpp). `gnuplot` is the command run.
std::vector<Plot> make_plots(const Dataset &data, const std::string &plots_dir, const std::string &gnuplot);

// The machine, BLAS, commit, date and precision lines of the header.
std::vector<std::string> measured_header(const Dataset &data);

// REPORT.md from its parts: header lines, the suites' tables and claims, the plots.
std::string report_markdown(const Dataset &data, const std::vector<std::string> &header,
                            const std::vector<Plot> &plots);

}  // namespace report

struct ReportOptions {
    std::vector<std::string> dirs;
    std::string out;
    bool plots = true;
    std::string gnuplot = "gnuplot";
    bool inject_header = false;       // use `header` instead of measuring one (tests)
    std::vector<std::string> header;
};

struct ReportResult {
    std::string path;                 // REPORT_DIR/REPORT.md
    int suites = 0, cells = 0, plots_drawn = 0, plots_skipped = 0;
};

// Loads, plots and writes REPORT_DIR/REPORT.md atomically (REPORT_DIR is
// created when missing; its parent must exist). Throws UsageError.
ReportResult write_report(const ReportOptions &opt);

int cmd_report(const ReportOptions &opt);

}  // namespace adalora

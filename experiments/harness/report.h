// report.h: `adalora report DIR... --out REPORT_DIR`, the skeleton.
//
// Reads what `adalora sweep SUITE --out DIR` writes (dataset.h), from one or
// many DIRs, merges them and writes REPORT_DIR/REPORT.md with its plots in
// REPORT_DIR/plots/. A suite's table has one row per variant with the mean ±
// sample std and the 95% Student-t confidence interval over its seeds
// (report_stats.h) of the suite's metrics; its claims are sentences computed
// from the same numbers (claims.h); its plots are drawn by gnuplot (plot.h).
// What each suite measures, claims and plots is not known here: the caller
// passes the registry (experiments/suites/registry.h), one SuiteDef a suite.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness/dataset.h"
#include "harness/metrics.h"
#include "harness/paired.h"
#include "harness/plot.h"

namespace adalora {
namespace report {

// One claim of the paper beside our result, a row of the reproduction
// table at the top of REPORT.md.
struct ReproRow {
    std::string claim;    // the paper's claim, one line
    std::string paper;    // its numbers or statement in the paper
    std::string ours;     // ours, computed from the cells
    Outcome outcome = Outcome::not_measured;
    std::string differs;  // where not reproduced: how our setting differs from the paper's
};

// What the report knows of one suite.
struct SuiteDef {
    std::string name;                 // experiments/suites/NAME.toml
    std::vector<Metric> metrics;      // the table's columns, in order
    // One "- ..." line per claim.
    std::function<std::vector<std::string>(const Suite &)> claims;
    // More "- ..." lines that read other suites too (lr-select checks every
    // encoder cell's learning rate); may be empty.
    std::function<std::vector<std::string>(const Suite &, const Dataset &)> dataset_claims;
    // Adds this suite's plot jobs; gets the whole dataset, may be empty.
    std::function<void(const Dataset &, std::vector<PlotJob> &)> plots;
    // The paper's claims this suite reproduces (none: not part of the reproduction table).
    std::function<std::vector<ReproRow>(const Suite &)> reproduction;
    // The part of the report the suite belongs to (a heading before the
    // first suite of each part, in the registry's order).
    std::string part;
};
using Registry = std::vector<SuiteDef>;

const SuiteDef *find_suite_def(const Registry &registry, const std::string &name);
std::vector<std::string> suite_names(const Registry &registry);

// The suite's table columns: its SuiteDef's, else default_metrics().
std::vector<Metric> suite_metrics(const Registry &registry, const std::string &suite);
// One "- ..." line per claim of the suite (a line saying so when it has none);
// with `data`, its dataset_claims follow.
std::vector<std::string> suite_claims(const Registry &registry, const Suite &suite, const Dataset *data = nullptr);

// Every registered suite's plots, in the registry's order, drawn into plots_dir
// (plot.h). `gnuplot` is the command run.
std::vector<Plot> make_plots(const Dataset &data, const Registry &registry, const std::string &plots_dir,
                             const std::string &gnuplot);

// The machine, BLAS, commit, date and precision lines of the header.
std::vector<std::string> measured_header(const Dataset &data);

// REPORT.md from its parts: header lines, the suites' tables and claims, the plots.
std::string report_markdown(const Dataset &data, const Registry &registry, const std::vector<std::string> &header,
                            const std::vector<Plot> &plots);

}  // namespace report

struct ReportOptions {
    std::vector<std::string> dirs;
    std::string out;
    bool replace = false;             // --replace: write into an existing REPORT_DIR
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
ReportResult write_report(const ReportOptions &opt, const report::Registry &registry);

int cmd_report(const ReportOptions &opt, const report::Registry &registry);

}  // namespace adalora

// plot.h: plot primitives of `adalora report`, drawn by gnuplot (Debian's
// gnuplot-nox). A suite's plot functions (experiments/suites/) fill PlotJobs:
// the numbers (NAME.dat) and the script's body; draw_plots writes NAME.dat,
// NAME.gp and, when gnuplot runs, NAME.png (pngcairo) and NAME.svg into
// plots/. A plot that cannot be drawn is listed with the reason.
#pragma once

#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "harness/dataset.h"

namespace adalora::report {

// A plot drawn (png and svg, relative to REPORT_DIR) or skipped (reason set).
struct Plot {
    std::string suite, name, title;
    std::string png, svg;
    std::string skipped;  // why it was not drawn; empty when drawn
};

struct PlotJob {
    Plot plot;
    std::string data;     // NAME.dat
    std::string body;     // the script between the terminal lines
    int width = 1000, height = 600;
};

// A string for a gnuplot script (double quotes, backslash escapes).
std::string gp_quote(const std::string &s);
// A number for a .dat file or a script ("%.9g").
std::string gp_num(double v);
// A data block of a .dat file as one element of a gnuplot `plot` list,
// comma-continued after the first.
std::string plot_series(const std::string &file, int block, int column, const std::string &style, const std::string &title);
// Completes a job from its data and script, width x height pixels.
void push_job(std::vector<PlotJob> &jobs, PlotJob j, const std::ostringstream &dat, const std::ostringstream &body,
              int width, int height);

// The mean over cells of a metrics.csv column at each step.
std::vector<std::pair<double, double>> mean_curve(const std::vector<const Cell *> &cells, const std::string &col);
// Dashed vertical lines at the end of warm-up (t_i) and the start of the
// final phase (T − t_f), labelled, from a cell's config.
std::string phase_marks(const Cell &c);
// A variant's label without some keys ("" when nothing is left).
std::string label_without(const Variant &v, const std::set<std::string> &drop);

// Writes every job's files into plots_dir and runs `gnuplot` on it (the
// command; when it is not found every plot is skipped with the reason).
std::vector<Plot> draw_plots(const std::vector<PlotJob> &jobs, const std::string &plots_dir, const std::string &gnuplot);

}  // namespace adalora::report

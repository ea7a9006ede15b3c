// encoder_plots.h: the plots of the suites on the pretrained encoder (MiniLM,
// L layers x the six matrix types of config/run_config.h's kEncoderTargets),
// as the paper draws them (issue 15):
//
//   fig3_plots             Figure 3: the final kept rank of every (matrix type,
//                          layer), mean over seeds, as a heat map with the mean
//                          printed in each cell; one per task and one averaged
//                          over the tasks (each task weighing the same)
//   fig1_plots             Figure 1: test accuracy of LoRA on one matrix type
//                          alone (a) or one layer group alone (b), as bars
//   accuracy_budget_plots  Tables 1, 4, 5: test accuracy against the budget
//                          (target_r: the final average rank per matrix), one
//                          line per method variant, one plot per task
//
// Accuracies are the cells' final_test_accuracy: mean over seeds with 95%
// Student-t error bars (report_stats.h summarize; none with one seed, NaNs
// skipped). A plot is named "<suite>_..." (all suites draw into one plots/
// folder); a suite or task without cells adds no job, one whose cells hold no
// number adds a skipped plot that says why.
#pragma once

#include <string>
#include <vector>

#include "harness/dataset.h"
#include "harness/plot.h"

namespace adalora::suites {

// Suite "fig3": jobs fig3_rank_map_<task> per task and fig3_rank_map_all
// (with two tasks or more). Rows: W_q, W_k, W_v, W_o, W_f1, W_f2 (ours:
// query, key, value, attention.output.dense, intermediate.dense,
// output.dense); columns: layers 1..L; color range 0..init_r.
void fig3_plots(const report::Dataset &data, std::vector<report::PlotJob> &jobs);

// Suite "fig1": one job fig1_accuracy_<task> per task, two panels: (a) the
// variants with `target_modules`, (b) those with `layers_to_transform`
// (labelled "layers 1-2", counting from 1 as the paper does).
void fig1_plots(const report::Dataset &data, std::vector<report::PlotJob> &jobs);

// Suite `suite` (table1, table4-encoder, table5-encoder): one job
// <suite>_accuracy_<task> per task; x = target_r, one line per variant
// without target_r / init_r / task ("adalora importance=sens"); a variant
// without a budget (method head-only, or no target_r) is a dashed
// horizontal line at its mean.
void accuracy_budget_plots(const std::string &suite, const report::Dataset &data, std::vector<report::PlotJob> &jobs);

}  // namespace adalora::suites

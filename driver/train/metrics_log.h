// metrics_log.h: the rows of metrics.csv and ranks.csv (run.h), each built
// by one formatter from its values.
#pragma once

#include <cstdint>
#include <string>

extern "C" {
#include "model.h"
}

namespace adalora {

extern const char kMetricsHeader[];  // metrics.csv's first line
extern const char kRanksHeader[];    // ranks.csv's first line

// One line of metrics.csv: the step's values, and the mask counters and
// mask-jump mean of the steps since the previous row.
struct MetricsRow {
    long step = 0;
    double loss = 0, task_loss = 0, orth = 0;  // orth: Σ R of the step (NaN when γ = 0)
    long budget = 0, kept = 0;
    double threshold = 0, lr = 0, seconds = 0;
    double orth_p = 0, orth_q = 0;              // OrthMeter now (adapter_report.h)
    int64_t revived = 0, pruned = 0;
    double mask_jump = 0;                       // NaN when no mask step was measured
};

// The row as text: reals as %.9g ("nan" for NaN), integers in decimal, a newline at the end.
std::string format_metrics_row(const MetricsRow &row);

// Appends ranks.csv's rows of `step`: every module's kept rank now.
void append_ranks(std::string &csv, long step, const ada_model *m);

}  // namespace adalora

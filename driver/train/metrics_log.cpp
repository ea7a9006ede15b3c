// metrics_log.cpp: metrics.csv and ranks.csv rows.
#include "train/metrics_log.h"

#include <cmath>
#include <cstdio>

namespace adalora {

const char kMetricsHeader[] =
    "step,loss,task_loss,orth,budget,kept,threshold,lr,seconds,orth_P,orth_Q,revived,pruned,mask_jump\n";
const char kRanksHeader[] = "step,module,kept_rank\n";

namespace {
std::string fmt(double v) {
    if (std::isnan(v)) return "nan";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}
}  // namespace

std::string format_metrics_row(const MetricsRow &r) {
    const std::string fields[] = {std::to_string(r.step), fmt(r.loss),      fmt(r.task_loss),
                                  fmt(r.orth),            std::to_string(r.budget), std::to_string(r.kept),
                                  fmt(r.threshold),       fmt(r.lr),        fmt(r.seconds),
                                  fmt(r.orth_p),          fmt(r.orth_q),    std::to_string(r.revived),
                                  std::to_string(r.pruned), fmt(r.mask_jump)};
    std::string line = fields[0];
    for (size_t i = 1; i < sizeof fields / sizeof fields[0]; i++) line += "," + fields[i];
    return line + "\n";
}

void append_ranks(std::string &csv, long step, const ada_model *m) {
    for (int k = 0; k < m->n_modules; k++)
        csv += std::to_string(step) + "," + m->modules[k].name + "," + std::to_string(ada_model_kept_rank(m, k)) + "\n";
}

}  // namespace adalora

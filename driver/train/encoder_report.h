// encoder_report.h: what a sentence task's run reports beyond the MLP
// tasks': the dev split evaluated during training (dev.csv, a console line),
// and the kept rank of every layer and matrix type (the paper's Figure 1).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "tasks/tasks.h"

extern "C" {
#include "model.h"
}

namespace adalora {

// dev.csv's header and one row: the step, the dev loss and accuracy (NaN for
// a regression task).
extern const char *const kDevHeader;
std::string dev_row(long step, ada_model *m, const Task &task, double *accuracy);

// Kept ranks as a table, one row per matrix type and one column per layer,
// from the module names "L.type" (sentence_tasks.h).
std::string kept_rank_table(const ada_model *m);

// The same as JSON: {type: [kept rank of layer 0, 1, ...]}.
nlohmann::json kept_rank_by_layer(const ada_model *m);

}  // namespace adalora

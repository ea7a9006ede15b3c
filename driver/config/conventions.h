// conventions.h: the conventions table of docs/SPEC.md §4 as presets.
//
// `--convention paper|peft|original` sets every row at once; each row is also
// its own option, and a row set explicitly overrides the preset. `paper` is
// the default. `adalora conventions` prints the table.
#pragma once

#include <string>
#include <vector>

#include "config/run_config.h"

extern "C" {
#include "model.h"
#include "trainer.h"
}

namespace adalora {

struct ConventionRow {
    std::string option;     // the command-line option (without --), also the config key
    std::string rows;       // its row numbers in docs/SPEC.md §4
    std::string what;
    std::string paper, peft, original;  // the value each preset gives it
    std::vector<std::string> allowed;   // empty: a number
};

extern const std::vector<std::string> kConventions;
const std::vector<ConventionRow> &convention_rows();

// The value of `row` for this run: the explicit option if set, else the preset's.
std::string convention_value(const RunConfig &cfg, const ConventionRow &row);

// Writes every row's value into the model and train configs.
void apply_conventions(const RunConfig &cfg, ada_model_config &model, ada_train_config &train);

// Throws UsageError for a bad preset name or row value.
void validate_conventions(const RunConfig &cfg);

// The table `adalora conventions` prints (Markdown).
std::string conventions_table();

}  // namespace adalora

// metrics.h: the columns of a suite's table. A metric is a number per cell,
// aggregated over a variant's seeds (report_stats.h), or one text per variant.
// The summary.json fields every run writes are here; a suite's own metrics
// live beside its claims in experiments/suites/.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness/dataset.h"
#include "harness/report_stats.h"

namespace adalora::report {

struct Metric {
    std::string key, label;
    std::function<double(const Cell &)> value;          // NaN: not measured
    std::function<std::string(const Variant &)> text;   // set for text columns
    int digits = 4;
};

// A number at a dotted path of summary.json.
Metric summary_metric(const std::string &key, const std::string &label, const std::string &path, int digits = 4);
// A number computed from a cell.
Metric cell_metric(const std::string &key, const std::string &label, std::function<double(const Cell &)> f,
                   int digits = 4);
// A text per variant (the number is NaN).
Metric text_metric(const std::string &key, const std::string &label, std::function<std::string(const Variant &)> f);

// The summary.json metrics every run writes, by key (final_test_loss,
// gap_to_oracle, allocation_error, modules_matching_oracle,
// trainable_params_final, ms_per_step, final_test_accuracy); throws
// std::out_of_range for another key.
const Metric &standard_metric(const std::string &key);
std::vector<Metric> standard_metrics(const std::vector<std::string> &keys);
// The table of a suite the registry does not know.
std::vector<Metric> default_metrics();

Stats variant_stats(const Variant &v, const Metric &m);

// Sum of the finite values of a metrics.csv column (NaN when absent).
double column_sum(const Cell &c, const std::string &col);
// The last metrics row's value of a column (NaN when absent).
double final_value(const Cell &c, const std::string &col);

}  // namespace adalora::report

// markdown.h: Markdown pieces of REPORT.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/dataset.h"
#include "harness/metrics.h"

namespace adalora::report {

// A table cell's text: '|' escaped, newlines as spaces.
std::string md_escape(std::string s);
// An axis' values "a, b, c" (a scalar as itself).
std::string values_text(const nlohmann::json &v);
// The suite's table: one row per variant, its axes, n and the metrics that
// any variant has (mean ± std [95% CI] over its seeds).
std::string metrics_table(const Suite &s, const std::vector<Metric> &metrics);

}  // namespace adalora::report

// metrics.cpp: the standard summary.json metrics and the metric constructors.
#include "harness/metrics.h"

#include <cmath>
#include <map>

namespace adalora::report {

Metric summary_metric(const std::string &key, const std::string &label, const std::string &path, int digits) {
    return cell_metric(key, label, [path](const Cell &c) { return json_number(c.summary, path); }, digits);
}

Metric cell_metric(const std::string &key, const std::string &label, std::function<double(const Cell &)> f,
                   int digits) {
    Metric m;
    m.key = key;
    m.label = label;
    m.value = std::move(f);
    m.digits = digits;
    return m;
}

Metric text_metric(const std::string &key, const std::string &label, std::function<std::string(const Variant &)> f) {
    Metric m = cell_metric(key, label, [](const Cell &) { return NAN; });
    m.text = std::move(f);
    return m;
}

const Metric &standard_metric(const std::string &key) {
    static const std::map<std::string, Metric> all = [] {
        std::map<std::string, Metric> m;
        for (Metric x : {summary_metric("final_test_loss", "test loss", "final_test_loss"),
                         summary_metric("gap_to_oracle", "gap to oracle", "gap_to_oracle"),
                         summary_metric("allocation_error", "allocation error", "allocation_error"),
                         summary_metric("modules_matching_oracle", "modules = oracle", "modules_matching_oracle"),
                         summary_metric("trainable_params_final", "params (final)", "trainable_params_final", 5),
                         summary_metric("ms_per_step", "ms/step", "ms_per_step"),
                         summary_metric("final_test_accuracy", "test accuracy", "final_test_accuracy"),
                         summary_metric("final_dev_accuracy", "dev accuracy", "final_dev_accuracy")})
            m[x.key] = x;
        return m;
    }();
    return all.at(key);
}

std::vector<Metric> standard_metrics(const std::vector<std::string> &keys) {
    std::vector<Metric> out;
    for (const auto &k : keys) out.push_back(standard_metric(k));
    return out;
}

std::vector<Metric> default_metrics() {
    return standard_metrics({"final_test_loss", "gap_to_oracle", "final_test_accuracy", "ms_per_step"});
}

Stats variant_stats(const Variant &v, const Metric &m) {
    std::vector<double> xs;
    for (const Cell *c : v.cells) xs.push_back(m.value(*c));
    return summarize(xs);
}

double column_sum(const Cell &c, const std::string &col) {
    if (c.metrics.column(col) < 0) return NAN;
    double s = 0;
    for (double v : c.metrics.values(col))
        if (std::isfinite(v)) s += v;
    return s;
}

double final_value(const Cell &c, const std::string &col) {
    auto v = c.metrics.values(col);
    return v.empty() ? NAN : v.back();
}

}  // namespace adalora::report

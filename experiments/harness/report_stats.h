// report_stats.h: the statistics of `adalora report`, over the seeds of one
// variant of a suite.
//
//   mean       (1/n) Σ x_i
//   std        the sample standard deviation, sqrt(Σ (x_i − mean)² / (n − 1))
//   95% CI     mean ± t_{0.975, n−1} · std / √n (Student t; the normal 1.96
//              above 30 degrees of freedom); undefined for n = 1
//   slope      least-squares slope of log y against log x (cost against d)
#pragma once

#include <string>
#include <vector>

namespace adalora::report {

struct Stats {
    int n = 0;                  // values (NaNs are not counted)
    double mean = 0, std = 0;   // std: sample (n − 1); NaN when n < 2
    double ci_lo = 0, ci_hi = 0;// NaN when n < 2
    bool spread() const { return n >= 2; }
};

// t_{0.975, df}: the table for df = 1..30, 1.959964 above. df must be >= 1.
double t_quantile_975(int df);

// Mean, sample std and 95% CI of the finite values of xs (NaNs are skipped).
Stats summarize(const std::vector<double> &xs);

// "m ± s [lo, hi]" with `digits` significant digits; n = 1: "m ± n/a [n/a]";
// n = 0: "—".
std::string format_stats(const Stats &s, int digits = 4);

// A number with `digits` significant digits ("nan" for NaN).
std::string format_number(double v, int digits = 4);

// Least-squares slope of log(y) against log(x) over the pairs with x, y > 0;
// NaN with fewer than two distinct x.
double loglog_slope(const std::vector<double> &x, const std::vector<double> &y);

}  // namespace adalora::report

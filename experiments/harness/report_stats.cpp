// report_stats.cpp: mean, sample std, Student-t confidence intervals, log-log slopes.
#include "harness/report_stats.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace adalora::report {

double t_quantile_975(int df) {
    // The 0.975 quantiles of Student's t with df = 1..30 degrees of freedom.
    static const double table[30] = {
        12.7062047, 4.3026527, 3.1824463, 2.7764451, 2.5705818, 2.4469119, 2.3646243, 2.3060041,
        2.2621572,  2.2281389, 2.2009852, 2.1788128, 2.1603687, 2.1447867, 2.1314495, 2.1199053,
        2.1098156,  2.1009220, 2.0930241, 2.0859634, 2.0796138, 2.0738731, 2.0686576, 2.0638986,
        2.0595386,  2.0555294, 2.0518305, 2.0484071, 2.0452296, 2.0422725};
    if (df < 1) throw std::invalid_argument("t_quantile_975: df must be >= 1");
    return df <= 30 ? table[df - 1] : 1.959964;
}

Stats summarize(const std::vector<double> &xs) {
    Stats s;
    double sum = 0;
    for (double x : xs)
        if (std::isfinite(x)) {
            sum += x;
            s.n++;
        }
    if (s.n == 0) {
        s.mean = s.std = s.ci_lo = s.ci_hi = NAN;
        return s;
    }
    s.mean = sum / s.n;
    if (s.n < 2) {
        s.std = s.ci_lo = s.ci_hi = NAN;
        return s;
    }
    double ss = 0;
    for (double x : xs)
        if (std::isfinite(x)) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / (s.n - 1));
    const double half = t_quantile_975(s.n - 1) * s.std / std::sqrt((double)s.n);
    s.ci_lo = s.mean - half;
    s.ci_hi = s.mean + half;
    return s;
}

std::string format_number(double v, int digits) {
    if (std::isnan(v)) return "nan";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    return buf;
}

std::string format_stats(const Stats &s, int digits) {
    if (s.n == 0) return "—";
    if (!s.spread()) return format_number(s.mean, digits) + " ± n/a [n/a]";
    return format_number(s.mean, digits) + " ± " + format_number(s.std, 2) + " [" + format_number(s.ci_lo, digits) +
           ", " + format_number(s.ci_hi, digits) + "]";
}

double loglog_slope(const std::vector<double> &x, const std::vector<double> &y) {
    std::vector<double> lx, ly;
    for (size_t i = 0; i < x.size() && i < y.size(); i++)
        if (x[i] > 0 && y[i] > 0 && std::isfinite(x[i]) && std::isfinite(y[i])) {
            lx.push_back(std::log(x[i]));
            ly.push_back(std::log(y[i]));
        }
    if (lx.size() < 2) return NAN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < lx.size(); i++) {
        mx += lx[i];
        my += ly[i];
    }
    mx /= lx.size();
    my /= ly.size();
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < lx.size(); i++) {
        sxy += (lx[i] - mx) * (ly[i] - my);
        sxx += (lx[i] - mx) * (lx[i] - mx);
    }
    return sxx > 0 ? sxy / sxx : NAN;
}

}  // namespace adalora::report

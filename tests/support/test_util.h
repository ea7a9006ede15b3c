// test_util.h: helpers shared by the tests: random tensors, the gradient-check
// error metric, and snapshots for "an error modifies nothing" checks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

extern "C" {
#include "ada_common.h"
#include "rng.h"
}

namespace test {

using Vec = std::vector<real>;

inline Vec randn(ada_rng &rng, size_t n, double std = 1.0) {
    Vec v(n);
    ada_rng_fill_normal(&rng, v.data(), n, 0.0, std);
    return v;
}

// The gradient-check metric used throughout (stated once, here):
//   err = max_i |analytic_i − numeric_i| / max(max_i |numeric_i|, 1e-12)
// the largest deviation relative to the tensor's largest gradient entry. It is
// insensitive to the entries whose true gradient is ~0, where a per-entry
// relative error would only measure finite-difference noise.
inline double grad_error(const Vec &analytic, const std::vector<double> &numeric) {
    double dev = 0, scale = 1e-12;
    for (size_t i = 0; i < numeric.size(); i++) {
        dev = std::max(dev, std::fabs((double)analytic[i] - numeric[i]));
        scale = std::max(scale, std::fabs(numeric[i]));
    }
    return dev / scale;
}

// Central differences of f() with respect to every entry of x:
//   numeric_i = (f(x + h e_i) − f(x − h e_i)) / (2h).
inline std::vector<double> numeric_grad(Vec &x, const std::function<double()> &f,
                                        double h = 1e-6) {
    std::vector<double> g(x.size());
    for (size_t i = 0; i < x.size(); i++) {
        real keep = x[i];
        x[i] = (real)(keep + h);
        double up = f();
        x[i] = (real)(keep - h);
        double down = f();
        x[i] = keep;
        g[i] = (up - down) / (2 * h);
    }
    return g;
}

// Prints one line per check, so `make test` shows every measured error.
inline void report_grad(const char *what, double err, double bar) {
    std::printf("gradcheck %-40s max rel err %.3e (bar %.0e)\n", what, err, bar);
}

}  // namespace test

// grad_check.h: the central-difference pieces the op harness (test_ops.cpp)
// and the whole-model check (test_gradcheck.cpp) share. Metric: test::grad_error
// (test_util.h), bar kBar, step kH, in the double build.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include <doctest/doctest.h>

#include "support/test_util.h"

namespace gradcheck {

constexpr double kBar = 1e-6;
constexpr double kH = 1e-6;

// Central differences of f with respect to x[idx[k]] for every k:
//   numeric_k = (f(x + h e_k) − f(x − h e_k)) / (2h).
inline std::vector<double> fd_at(real *x, const std::vector<size_t> &idx,
                                 const std::function<double()> &f, double h = kH) {
    std::vector<double> g(idx.size());
    for (size_t k = 0; k < idx.size(); k++) {
        real keep = x[idx[k]];
        x[idx[k]] = (real)(keep + h);
        double up = f();
        x[idx[k]] = (real)(keep - h);
        double down = f();
        x[idx[k]] = keep;
        g[k] = (up - down) / (2 * h);
    }
    return g;
}

inline std::vector<size_t> all_of(size_t n) {
    std::vector<size_t> idx(n);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    return idx;
}

// Reports the error (one line per check in `make test`) and holds it to the bar.
inline double check_one(const char *what, double err) {
    test::report_grad(what, err, kBar);
    CHECK(err <= kBar);
    return err;
}

}  // namespace gradcheck

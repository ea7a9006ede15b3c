// test_activation.cpp: the backward that reuses the forward's output
// (ada_activation_backward with A: GELU's Φ(z) = A/z) against the one that
// recomputes erf, over z from -12 to 12 with 0 and tiny values: the slopes
// are of order 1, so they must agree within a few units of rounding absolutely.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

extern "C" {
#include "activation.h"
}

TEST_CASE("activation: the backward from the forward's output agrees with the one from z") {
    std::vector<real> z = {0, (real)-0.0, (real)1e-30, (real)-1e-30, (real)1e-8, (real)-1e-8};
    for (int i = -1200; i <= 1200; i++) z.push_back((real)(i * 0.01));
    const size_t n = z.size();
    const std::vector<real> dA(n, 1);
    const double tol = sizeof(real) == sizeof(float) ? 2.5e-7 : 1e-15;  // about 2 units of rounding at 1
    for (ada_activation act : {ADA_ACT_GELU, ADA_ACT_TANH, ADA_ACT_RELU, ADA_ACT_IDENTITY}) {
        CAPTURE(ada_activation_name(act));
        std::vector<real> a(n), slope(n, 0), slope_from(n, 0);
        REQUIRE(ada_activation_forward(a.data(), z.data(), n, act) == ADA_OK);
        REQUIRE(ada_activation_backward(slope.data(), dA.data(), z.data(), nullptr, n, act) == ADA_OK);
        REQUIRE(ada_activation_backward(slope_from.data(), dA.data(), z.data(), a.data(), n, act) == ADA_OK);
        double worst = 0;
        for (size_t i = 0; i < n; i++)
            worst = std::fmax(worst, std::fabs((double)slope_from[i] - slope[i]));
        CAPTURE(worst);
        CHECK(worst <= tol);
    }
}

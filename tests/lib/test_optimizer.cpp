// test_optimizer.cpp: AdamW, SGD and global-norm clipping against numbers
// worked out here, independently of lib/optimizer.c.
//
// The AdamW reference below is torch.optim.AdamW's update rule (single tensor,
// no amsgrad, no maximize), written out in double:
//   p *= 1 − lr·wd
//   m  = m + (1 − β1)(g − m)
//   v  = β2 v + (1 − β2) g²
//   denom = sqrt(v) / sqrt(1 − β2^t) + eps
//   p −= (lr / (1 − β1^t)) · m / denom
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "support/test_util.h"
extern "C" {
#include "optimizer.h"
}

namespace {

// Relative tolerance for comparing the library's `real` arithmetic with the
// double reference: float carries ~6e-8 relative rounding per operation and a
// few operations per step; the double build should agree to ~1e-15.
#ifdef ADA_DOUBLE
const double kRel = 1e-12;
#else
const double kRel = 2e-6;
#endif

struct AdamRef {
    std::vector<double> p, m, v;
    void step(const std::vector<double> &g, double lr, double b1, double b2, double eps,
              double wd, long t) {
        for (size_t i = 0; i < p.size(); i++) {
            p[i] *= 1.0 - lr * wd;
            m[i] = m[i] + (1.0 - b1) * (g[i] - m[i]);
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            double denom = std::sqrt(v[i]) / std::sqrt(1.0 - std::pow(b2, (double)t)) + eps;
            p[i] -= (lr / (1.0 - std::pow(b1, (double)t))) * m[i] / denom;
        }
    }
};

// Relative comparison: doctest::Approx's default scale of 1 would make its
// epsilon absolute for values below 1 (too loose for moments like 2.5e-4).
doctest::Approx approx(double want) { return doctest::Approx(want).scale(0); }

void check_close(double got, double want, double rel, double abs_floor = 1e-30) {
    CHECK(std::fabs(got - want) <= rel * std::max(std::fabs(want), abs_floor) + abs_floor);
}

}  // namespace

TEST_CASE("optimizer: AdamW with weight decay matches torch's update rule over 5 steps") {
    ada_optimizer_config c = ada_optimizer_defaults();
    c.kind = ADA_OPT_ADAMW;
    c.lr = 0.05;
    c.beta1 = 0.9;
    c.beta2 = 0.99;
    c.eps = 1e-8;
    c.weight_decay = 0.1;
    const size_t n = 5;
    // gradients per step: signs flip, one entry has g = 0 at step 1, magnitudes vary
    const double grads[5][5] = {{0.5, -3.0, 0.0, 1e-3, 2.0},
                                {-0.25, -1.0, 0.7, 2e-3, -2.0},
                                {0.125, 4.0, -0.3, -5e-4, 1.0},
                                {1.0, -0.5, 0.0, 1e-3, 0.5},
                                {-2.0, 0.25, 0.9, 0.0, -0.1}};
    std::vector<real> w = {1.0f, -2.0f, 0.5f, 3.0f, -0.75f}, m(n, 0), v(n, 0), g(n);
    AdamRef ref;
    ref.p.assign(w.begin(), w.end());
    ref.m.assign(n, 0.0);
    ref.v.assign(n, 0.0);
    for (long t = 1; t <= 5; t++) {
        std::vector<double> gd(n);
        for (size_t i = 0; i < n; i++) {
            g[i] = (real)grads[t - 1][i];
            gd[i] = (double)g[i];  // the same (rounded) gradient the library sees
        }
        REQUIRE(ada_adamw_update(w.data(), m.data(), v.data(), g.data(), n, &c, t) == ADA_OK);
        ref.step(gd, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, t);
        for (size_t i = 0; i < n; i++) {
            INFO("step " << t << " entry " << i);
            check_close(w[i], ref.p[i], kRel, 1e-7);
            check_close(m[i], ref.m[i], kRel, 1e-9);
            check_close(v[i], ref.v[i], kRel, 1e-12);
        }
    }
    // The gradients are not modified.
    for (size_t i = 0; i < n; i++) CHECK(g[i] == (real)grads[4][i]);
}

TEST_CASE("optimizer: AdamW step 1 by hand (p moves by lr·sign(g) after the decay)") {
    // With m = v = 0, step 1 gives m = (1−β1) g, v = (1−β2) g², so
    // m̂ = g, sqrt(v̂) = |g| and the step is lr · g / (|g| + eps) ≈ lr · sign(g).
    ada_optimizer_config c = ada_optimizer_defaults();
    c.lr = 0.1;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.weight_decay = 0.1;  // decay factor 1 − 0.01 = 0.99
    std::vector<real> w = {1.0f, -2.0f, 4.0f, 0.5f}, m(4, 0), v(4, 0);
    std::vector<real> g = {0.5f, -3.0f, 0.0f, 1e-4f};
    REQUIRE(ada_adamw_update(w.data(), m.data(), v.data(), g.data(), 4, &c, 1) == ADA_OK);
    // 1 · 0.99 − 0.1 = 0.89
    CHECK(w[0] == approx(0.89).epsilon(1e-6));
    // −2 · 0.99 + 0.1 = −1.88
    CHECK(w[1] == approx(-1.88).epsilon(1e-6));
    // g = 0: only the decay, 4 · 0.99 = 3.96
    CHECK(w[2] == approx(3.96).epsilon(1e-6));
    // small g still moves by ≈ lr: 0.5 · 0.99 − 0.1 · 1e-4/(1e-4 + 1e-8) = 0.395 − 0.09999
    CHECK(w[3] == approx(0.495 - 0.1 * 1e-4 / (1e-4 + 1e-8)).epsilon(1e-5));
    // moments: m = 0.1 g, v = 0.001 g²
    CHECK(m[0] == approx(0.05).epsilon(1e-6));
    CHECK(v[0] == approx(0.00025).epsilon(1e-6));
    CHECK(m[1] == approx(-0.3).epsilon(1e-6));
    CHECK(v[1] == approx(0.009).epsilon(1e-6));
    CHECK(m[2] == 0);
    CHECK(v[2] == 0);
}

TEST_CASE("optimizer: AdamW step 2 by hand (bias correction of both moments)") {
    // lr 0.1, β1 0.5, β2 0.75, eps 0 is refused, so eps 1e-12; no decay.
    // g1 = 1, g2 = 3 on p0 = 0:
    //   step 1: m = 0.5, v = 0.25, m̂ = 1, sqrt(v̂) = 1  → p = −0.1
    //   step 2: m = 0.5 + 0.5(3 − 0.5) = 1.75, v = 0.75·0.25 + 0.25·9 = 2.4375
    //           step size lr/(1 − 0.25) = 0.13333..., denom = sqrt(2.4375)/sqrt(1 − 0.5625)
    //           = 1.5612495/0.6614378 = 2.3603873
    //           p = −0.1 − 0.1333333 · 1.75 / 2.3603873 = −0.1988538
    ada_optimizer_config c = ada_optimizer_defaults();
    c.lr = 0.1;
    c.beta1 = 0.5;
    c.beta2 = 0.75;
    c.eps = 1e-12;
    c.weight_decay = 0.0;
    real w = 0, m = 0, v = 0, g = 1;
    REQUIRE(ada_adamw_update(&w, &m, &v, &g, 1, &c, 1) == ADA_OK);
    CHECK(w == approx(-0.1).epsilon(1e-6));
    g = 3;
    REQUIRE(ada_adamw_update(&w, &m, &v, &g, 1, &c, 2) == ADA_OK);
    CHECK(m == approx(1.75).epsilon(1e-6));
    CHECK(v == approx(2.4375).epsilon(1e-6));
    CHECK(w == approx(-0.1988538).epsilon(1e-6));
}

TEST_CASE("optimizer: AdamW with lr = 0 changes only the moments") {
    ada_optimizer_config c = ada_optimizer_defaults();
    c.lr = 0;
    c.weight_decay = 0.5;
    std::vector<real> w = {1.5f, -0.25f}, m(2, 0), v(2, 0), g = {2.0f, -1.0f};
    REQUIRE(ada_adamw_update(w.data(), m.data(), v.data(), g.data(), 2, &c, 1) == ADA_OK);
    CHECK(w[0] == 1.5f);
    CHECK(w[1] == -0.25f);
    CHECK(m[0] != 0);
    CHECK(v[1] != 0);
}

TEST_CASE("optimizer: SGD with weight decay, three steps by hand") {
    // torch.optim.SGD without momentum: w −= lr (g + wd w).
    ada_optimizer_config c = ada_optimizer_defaults();
    c.kind = ADA_OPT_SGD;
    c.lr = 0.1;
    c.weight_decay = 0.1;
    std::vector<real> w = {1.0f, -2.0f, 0.0f};
    std::vector<real> g = {0.5f, 1.0f, -4.0f};
    REQUIRE(ada_sgd_update(w.data(), g.data(), 3, &c) == ADA_OK);
    // 1 − 0.1 (0.5 + 0.1) = 0.94;  −2 − 0.1 (1 − 0.2) = −2.08;  0 − 0.1(−4) = 0.4
    CHECK(w[0] == approx(0.94).epsilon(1e-6));
    CHECK(w[1] == approx(-2.08).epsilon(1e-6));
    CHECK(w[2] == approx(0.4).epsilon(1e-6));
    g = {0.0f, 0.0f, 0.0f};
    REQUIRE(ada_sgd_update(w.data(), g.data(), 3, &c) == ADA_OK);
    // pure decay: w · (1 − 0.01)
    CHECK(w[0] == approx(0.9306).epsilon(1e-6));
    CHECK(w[1] == approx(-2.0592).epsilon(1e-6));
    CHECK(w[2] == approx(0.396).epsilon(1e-6));
    g = {1.0f, -1.0f, 2.0f};
    REQUIRE(ada_sgd_update(w.data(), g.data(), 3, &c) == ADA_OK);
    // 0.9306 − 0.1(1 + 0.09306) = 0.821294;  −2.0592 − 0.1(−1 − 0.20592) = −1.938608;
    // 0.396 − 0.1(2 + 0.0396) = 0.19204
    CHECK(w[0] == approx(0.821294).epsilon(1e-6));
    CHECK(w[1] == approx(-1.938608).epsilon(1e-6));
    CHECK(w[2] == approx(0.19204).epsilon(1e-6));
}

TEST_CASE("optimizer: SGD ignores the Adam betas (only finite is required)") {
    ada_optimizer_config c = ada_optimizer_defaults();
    c.kind = ADA_OPT_SGD;
    c.lr = 0.5;
    c.weight_decay = 0;
    c.beta1 = 5.0;  // meaningless for SGD
    real w = 1, g = 1;
    REQUIRE(ada_sgd_update(&w, &g, 1, &c) == ADA_OK);
    CHECK(w == approx(0.5));
}

TEST_CASE("optimizer: clip_grad_norm returns the norm and scales by max/(norm + 1e-6) above it") {
    std::vector<real> g = {3.0f, 0.0f, -4.0f};  // norm 5
    double norm = -1;
    REQUIRE(ada_clip_grad_norm(&norm, g.data(), g.size(), 1.0) == ADA_OK);
    CHECK(norm == approx(5.0).epsilon(1e-12));
    const double coef = 1.0 / (5.0 + 1e-6);
    CHECK((double)g[0] == approx(3.0 * coef).epsilon(1e-6));
    CHECK(g[1] == 0);
    CHECK((double)g[2] == approx(-4.0 * coef).epsilon(1e-6));
    // The clipped norm is just below max_norm (the 1e-6 of torch).
    double after = std::sqrt((double)g[0] * g[0] + (double)g[2] * g[2]);
    CHECK(after <= 1.0);
    CHECK(after == approx(5.0 / (5.0 + 1e-6)).epsilon(1e-6));

    // Several tensors' worth of entries: the norm is global, one coefficient.
    std::vector<real> h = {1, 2, 2, 4, 4, 8};  // norm sqrt(1+4+4+16+16+64) = sqrt(105)
    REQUIRE(ada_clip_grad_norm(&norm, h.data(), h.size(), 2.0) == ADA_OK);
    CHECK(norm == approx(std::sqrt(105.0)).epsilon(1e-12));
    const double c2 = 2.0 / (std::sqrt(105.0) + 1e-6);
    const double orig[6] = {1, 2, 2, 4, 4, 8};
    for (int i = 0; i < 6; i++) CHECK((double)h[i] == approx(orig[i] * c2).epsilon(1e-6));

    // Tiny gradients show the + 1e-6 of torch: norm 5e-6, max 1e-6 gives
    // coefficient 1e-6 / 6e-6 = 1/6 (not 1/5).
    std::vector<real> t = {(real)3e-6, (real)-4e-6};
    REQUIRE(ada_clip_grad_norm(&norm, t.data(), t.size(), 1e-6) == ADA_OK);
    CHECK(norm == approx(5e-6).epsilon(1e-6));
    CHECK((double)t[0] == approx(3e-6 / 6.0).epsilon(1e-5));
    CHECK((double)t[1] == approx(-4e-6 / 6.0).epsilon(1e-5));
}

TEST_CASE("optimizer: clip_grad_norm leaves gradients below max_norm untouched") {
    std::vector<real> g = {0.3f, -0.4f};  // norm 0.5
    std::vector<real> before = g;
    double norm = -1;
    REQUIRE(ada_clip_grad_norm(&norm, g.data(), g.size(), 1.0) == ADA_OK);
    CHECK(norm == approx(0.5).epsilon(1e-6));
    CHECK(std::memcmp(g.data(), before.data(), sizeof(real) * g.size()) == 0);
    // Just below the bound: max/(norm + 1e-6) is still >= 1, nothing changes.
    std::vector<real> h = {0.5f};
    REQUIRE(ada_clip_grad_norm(&norm, h.data(), 1, 0.5 + 2e-6) == ADA_OK);
    CHECK(h[0] == 0.5f);
    // All-zero gradient: norm 0, untouched.
    std::vector<real> z(4, 0);
    REQUIRE(ada_clip_grad_norm(&norm, z.data(), z.size(), 1.0) == ADA_OK);
    CHECK(norm == 0);
    for (real x : z) CHECK(x == 0);
}

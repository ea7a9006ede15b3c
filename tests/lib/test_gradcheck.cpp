// test_gradcheck.cpp: central-difference checks of the whole model (every
// layer, activation and loss chained, with the regulariser), and the
// regulariser's exact zero at norm 0. Each op alone runs through the op
// harness (test_ops.cpp). Double build only: in float, central differences
// cannot resolve 1e-6. Metric: test::grad_error (test_util.h), bar
// gradcheck::kBar (grad_check.h); every check prints its error.
#include <doctest/doctest.h>

#ifdef ADA_DOUBLE

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "grad_check.h"
#include "support/test_util.h"
extern "C" {
#include "model.h"
#include "orth_reg.h"
}

namespace {

using test::Vec;
using gradcheck::check_one;
using gradcheck::fd_at;
using gradcheck::all_of;
using gradcheck::kBar;
using gradcheck::kH;
using Fn = std::function<double()>;

// P = the first r columns of I_d (or Q = the first r rows): the norm is exactly
// 0 and both norms add exactly nothing to the gradient.
void orth_zero_check(bool left, ada_orth_norm norm) {
    const int d = 6, r = 4;
    int rows = left ? d : r, cols = left ? r : d;
    int ld = cols + 1;
    Vec M((size_t)rows * ld, 0);
    for (int i = 0; i < r; i++) M[(size_t)i * ld + i] = 1;
    ada_rng rng;
    ada_rng_seed(&rng, 77);
    Vec dM = test::randn(rng, (size_t)rows * ld), dM0 = dM;
    Vec work((size_t)r * r);
    double value = -1;
    ada_status st = left ? ada_orth_left(&value, dM.data(), ld, M.data(), ld, d, r, norm,
                                         (real)0.37, work.data())
                         : ada_orth_right(&value, dM.data(), ld, M.data(), ld, r, d, norm,
                                          (real)0.37, work.data());
    REQUIRE(st == ADA_OK);
    CHECK(value == 0.0);
    double dev = 0;
    for (size_t i = 0; i < dM.size(); i++) dev = std::max(dev, std::fabs((double)dM[i] - dM0[i]));
    char name[96];
    std::snprintf(name, sizeof name, "orth %s %s at norm 0 (abs grad)", left ? "left" : "right",
                  norm == ADA_ORTH_SQUARED ? "squared" : "plain");
    test::report_grad(name, dev, kBar);
    CHECK(dev == 0.0);
}

// ---------------------------------------------------------------- model

// memset(grads) → forward (seeded) → backward → optional orth, against central
// differences over every entry of the params arena of loss (+ weight · raw).
double model_check(const char *what, ada_model *m, const ada_batch &b, bool orth,
                   ada_orth_norm norm = ADA_ORTH_SQUARED, real weight = 0, double h = kH) {
    std::memset(m->grads, 0, sizeof(real) * m->n_params);
    double loss = 0, raw = 0;
    REQUIRE(ada_model_forward(m, &b, &loss, 1) == ADA_OK);
    REQUIRE(ada_model_backward(m) == ADA_OK);
    if (orth) {
        REQUIRE(ada_model_orth(m, &raw, norm, weight) == ADA_OK);
        CHECK(raw > 0);
    }
    Vec analytic(m->grads, m->grads + m->n_params);
    Fn f = [&]() {
        double l = 0, rw = 0;
        REQUIRE(ada_model_forward(m, &b, &l, 0) == ADA_OK);
        if (orth) {
            REQUIRE(ada_model_orth(m, &rw, norm, 0) == ADA_OK);  // weight 0: value only
            l += (double)weight * rw;
        }
        return l;
    };
    std::vector<double> numeric = fd_at(m->params, all_of(m->n_params), f, h);
    // The FD loop must leave the gradients alone (weight 0 touches nothing).
    CHECK(std::memcmp(analytic.data(), m->grads, sizeof(real) * m->n_params) == 0);
    return check_one(what, test::grad_error(analytic, numeric));
}

// λ (SVD) or B (LoRA) is zero at creation; give every adapter entry a
// gradient worth checking.
void randomise_adapters(ada_model *m, uint64_t seed) {
    ada_rng rng;
    ada_rng_seed(&rng, seed);
    const size_t r = (size_t)m->config.r0;
    for (int k = 0; k < m->n_modules; k++) {
        ada_adapter_view v = ada_model_view(m, m->params, k);
        if (m->config.form == ADA_FORM_SVD)
            ada_rng_fill_normal(&rng, v.lam, r, 0.0, 0.7);
        else
            ada_rng_fill_normal(&rng, v.P, (size_t)m->modules[k].d_out * r, 0.0, 0.5);
    }
}

ada_model *make_model(const ada_module_spec *specs, int n, ada_form form, ada_loss_kind loss,
                      uint64_t seed) {
    ada_model_config mc = ada_model_defaults();
    mc.n_modules = n;
    mc.modules = specs;
    mc.form = form;
    mc.r0 = 4;
    mc.init_std = 0.4;  // P, Q (A) of order 1 so every arena entry matters
    mc.loss = loss;
    mc.max_batch = 8;
    mc.seed = seed;
    ada_model *m = nullptr;
    REQUIRE(ada_model_create(&m, &mc) == ADA_OK);
    randomise_adapters(m, seed + 1000);
    return m;
}

const ada_module_spec kMlp[3] = {{"l0", 0, 6, 9, 1, ADA_ACT_GELU},
                                 {"l1", 0, 9, 7, 1, ADA_ACT_TANH},
                                 {"l2", 0, 7, 3, 1, ADA_ACT_IDENTITY}};

}  // namespace

// ================================================================ test cases

TEST_CASE("gradcheck: orth regulariser adds exactly 0 at norm 0") {
    orth_zero_check(true, ADA_ORTH_PLAIN);
    orth_zero_check(false, ADA_ORTH_PLAIN);
    orth_zero_check(true, ADA_ORTH_SQUARED);
    orth_zero_check(false, ADA_ORTH_SQUARED);
}

TEST_CASE("gradcheck: model 3-layer MLP, svd and lora form, with orth term") {
    const int n = 5;
    ada_rng rng;
    ada_rng_seed(&rng, 600);
    Vec x = test::randn(rng, (size_t)n * 6), y = test::randn(rng, (size_t)n * 3);
    const real *xs[1] = {x.data()};
    const real *ys[1] = {y.data()};
    ada_batch b = {n, xs, ys, nullptr, nullptr};
    const ada_form forms[2] = {ADA_FORM_SVD, ADA_FORM_LORA};
    for (ada_form form : forms) {
        ada_model *m = make_model(kMlp, 3, form, ADA_LOSS_MSE, 61 + (uint64_t)form);
        bool svd = form == ADA_FORM_SVD;
        model_check(svd ? "model mlp svd task loss" : "model mlp lora task loss", m, b, false);
        model_check(svd ? "model mlp svd + 0.37 orth squared" : "model mlp lora + 0.37 orth squared",
                    m, b, true, ADA_ORTH_SQUARED, (real)0.37);
        model_check(svd ? "model mlp svd + 0.37 orth plain" : "model mlp lora + 0.37 orth plain",
                    m, b, true, ADA_ORTH_PLAIN, (real)0.37);
        ada_model_free(m);
    }
}

TEST_CASE("gradcheck: model two chains, sse loss") {
    const ada_module_spec specs[2] = {{"c0", 0, 6, 4, 1, ADA_ACT_TANH},
                                      {"c1", 1, 3, 5, 1, ADA_ACT_IDENTITY}};
    const int n = 6;
    ada_rng rng;
    ada_rng_seed(&rng, 700);
    Vec x0 = test::randn(rng, (size_t)n * 6), x1 = test::randn(rng, (size_t)n * 3);
    Vec y0 = test::randn(rng, (size_t)n * 4), y1 = test::randn(rng, (size_t)n * 5);
    const real *xs[2] = {x0.data(), x1.data()};
    const real *ys[2] = {y0.data(), y1.data()};
    ada_batch b = {n, xs, ys, nullptr, nullptr};
    ada_model *m = make_model(specs, 2, ADA_FORM_SVD, ADA_LOSS_SSE, 71);
    REQUIRE(m->n_chains == 2);
    model_check("model two chains svd sse", m, b, false);
    model_check("model two chains svd sse + 0.37 orth", m, b, true, ADA_ORTH_SQUARED, (real)0.37);
    ada_model_free(m);
}

TEST_CASE("gradcheck: model 3-layer MLP, cross-entropy loss") {
    const int n = 7;
    ada_rng rng;
    ada_rng_seed(&rng, 800);
    Vec x = test::randn(rng, (size_t)n * 6);
    std::vector<int32_t> lab(n);
    for (int i = 0; i < n; i++) lab[i] = (int32_t)ada_rng_below(&rng, 3);
    const real *xs[1] = {x.data()};
    const int32_t *ls[1] = {lab.data()};
    ada_batch b = {n, xs, nullptr, ls, nullptr};
    ada_model *m = make_model(kMlp, 3, ADA_FORM_SVD, ADA_LOSS_CROSS_ENTROPY, 81);
    model_check("model mlp svd cross-entropy", m, b, false);
    ada_model_free(m);
}

#endif  // ADA_DOUBLE

// test_gradcheck.cpp: central-difference checks of every backward of the
// library (layers, regulariser, losses, activations, the whole model).
// Double build only: in float, central differences cannot resolve 1e-6.
// Metric: test::grad_error (test_util.h); every check prints its error.
#include <doctest/doctest.h>

#ifdef ADA_DOUBLE

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "support/test_util.h"
extern "C" {
#include "activation.h"
#include "adapted_layer.h"
#include "loss.h"
#include "model.h"
#include "orth_reg.h"
}

namespace {

using test::Vec;
using Num = std::vector<double>;
using Fn = std::function<double()>;

constexpr double kBar = 1e-6;
constexpr double kH = 1e-6;
const real kNaN = std::numeric_limits<real>::quiet_NaN();

// A rows x cols row-major matrix stored with leading dimension ld: the logical
// entries are N(0, std²), the padding holds `pad` (NaN for inputs, so a kernel
// that reads past the column count poisons the result).
Vec strided(ada_rng &rng, int rows, int cols, int ld, double std, real pad) {
    Vec v((size_t)rows * ld, pad);
    for (int i = 0; i < rows; i++)
        ada_rng_fill_normal(&rng, v.data() + (size_t)i * ld, (size_t)cols, 0.0, std);
    return v;
}

// Buffer indices of the logical entries of a rows x cols matrix with leading dim ld.
std::vector<size_t> logical(int rows, int cols, int ld) {
    std::vector<size_t> idx;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) idx.push_back((size_t)i * ld + j);
    return idx;
}

std::vector<size_t> all_of(size_t n) {
    std::vector<size_t> idx(n);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    return idx;
}

// Central differences of f with respect to x[idx[k]] for every k.
Num fd_at(real *x, const std::vector<size_t> &idx, const Fn &f, double h = kH) {
    Num g(idx.size());
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

// analytic[k] = grad[idx[k]] − before[idx[k]] (before = the pre-filled buffer,
// or empty when the buffer was zeroed), so an accumulating backward is read back.
Vec gather(const Vec &grad, const std::vector<size_t> &idx, const Vec &before = Vec()) {
    Vec a(idx.size());
    for (size_t k = 0; k < idx.size(); k++)
        a[k] = grad[idx[k]] - (before.empty() ? (real)0 : before[idx[k]]);
    return a;
}

// 1 if every entry outside the logical rows x cols block equals the snapshot.
bool padding_kept(const Vec &now, const Vec &before, int rows, int cols, int ld) {
    for (int i = 0; i < rows; i++)
        for (int j = cols; j < ld; j++) {
            size_t at = (size_t)i * ld + j;
            if (std::memcmp(&now[at], &before[at], sizeof(real)) != 0) return false;
        }
    return true;
}

// Σ Y ⊙ R over the logical entries (both with leading dimension ld).
double dot_logical(const Vec &Y, const Vec &R, int rows, int cols, int ld) {
    double s = 0;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) s += (double)Y[(size_t)i * ld + j] * R[(size_t)i * ld + j];
    return s;
}

double check_one(const char *what, double err) {
    test::report_grad(what, err, kBar);
    CHECK(err <= kBar);
    return err;
}

// ---------------------------------------------------------------- layers

// One adapted layer with every matrix on its own padded leading dimension.
struct LayerCase {
    ada_layer_dims d;
    int ldx, ldw, ldp, ldq, ldh, ldy;
    Vec X, W0, bias, P, lam, Q, R;  // R: the fixed dY of f = Σ Y ⊙ R
    std::vector<uint8_t> keep;
    Vec Y, H, G, dG;                // forward outputs and backward scratch

    LayerCase(ada_rng &rng, ada_layer_dims dims, std::vector<uint8_t> k, bool svd)
        : d(dims), keep(std::move(k)) {
        ldx = d.d_in + 3; ldw = d.d_in + 2; ldp = d.r + 2; ldq = d.d_in + 1;
        ldh = d.r + 3; ldy = d.d_out + 2;
        X = strided(rng, d.n, d.d_in, ldx, 1.0, kNaN);
        W0 = strided(rng, d.d_out, d.d_in, ldw, 0.5, kNaN);
        bias = test::randn(rng, (size_t)d.d_out, 0.3);
        P = strided(rng, d.d_out, d.r, ldp, 0.6, kNaN);
        if (svd) lam = test::randn(rng, (size_t)d.r, 1.0);
        Q = strided(rng, d.r, d.d_in, ldq, 0.6, kNaN);
        R = strided(rng, d.n, d.d_out, ldy, 1.0, kNaN);
        Y.assign((size_t)d.n * ldy, 0);
        H.assign((size_t)d.n * ldh, 0);
        G.assign((size_t)d.n * ldh, 0);
        dG.assign((size_t)d.n * ldh, 0);
    }
};

constexpr real kScale = (real)0.8;

ada_status svd_forward(LayerCase &c, Vec &Y, Vec &H, Vec &G) {
    return ada_svd_layer_forward(Y.data(), c.ldy, H.data(), G.data(), c.ldh, c.X.data(), c.ldx,
                                 c.W0.data(), c.ldw, c.bias.data(), c.P.data(), c.ldp,
                                 c.lam.data(), c.keep.data(), c.Q.data(), c.ldq, kScale, c.d);
}

ada_status lora_forward(LayerCase &c, Vec &Y, Vec &H, Vec &G) {
    return ada_lora_layer_forward(Y.data(), c.ldy, H.data(), G.data(), c.ldh, c.X.data(), c.ldx,
                                  c.W0.data(), c.ldw, c.bias.data(), c.P.data(), c.ldp,
                                  c.keep.data(), c.Q.data(), c.ldq, kScale, c.d);
}

// f = Σ Y ⊙ R, recomputed on scratch buffers (the saved H, G stay as they are).
Fn layer_objective(LayerCase &c, bool svd) {
    return [&c, svd]() {
        Vec Y((size_t)c.d.n * c.ldy, 0), H((size_t)c.d.n * c.ldh, 0), G((size_t)c.d.n * c.ldh, 0);
        ada_status st = svd ? svd_forward(c, Y, H, G) : lora_forward(c, Y, H, G);
        REQUIRE(st == ADA_OK);
        return dot_logical(Y, c.R, c.d.n, c.d.d_out, c.ldy);
    };
}

// Gradient buffers of a layer backward; `fill` < 0 zeroes them, otherwise they
// are pre-filled with random values (padding included) to test accumulation.
struct LayerGrads {
    Vec dX, dP, dlam, dQ;
    Vec dX0, dP0, dlam0, dQ0;  // the buffers before the backward
    LayerGrads(ada_rng &rng, const LayerCase &c, bool prefill) {
        double std = prefill ? 1.0 : 0.0;
        dX = strided(rng, c.d.n, c.d.d_in, c.ldx, std, prefill ? (real)3.25 : (real)0);
        dP = strided(rng, c.d.d_out, c.d.r, c.ldp, std, prefill ? (real)-1.5 : (real)0);
        dlam = test::randn(rng, (size_t)c.d.r, std);
        dQ = strided(rng, c.d.r, c.d.d_in, c.ldq, std, prefill ? (real)2.5 : (real)0);
        dX0 = dX; dP0 = dP; dlam0 = dlam; dQ0 = dQ;
    }
};

void svd_layer_check(bool prefill) {
    ada_rng rng;
    ada_rng_seed(&rng, prefill ? 102 : 101);
    LayerCase c(rng, ada_layer_dims{5, 7, 6, 5}, {1, 0, 1, 1, 0}, true);
    LayerGrads g(rng, c, prefill);
    REQUIRE(svd_forward(c, c.Y, c.H, c.G) == ADA_OK);
    REQUIRE(ada_svd_layer_backward(g.dX.data(), c.ldx, g.dP.data(), g.dlam.data(), g.dQ.data(),
                                   c.dG.data(), c.R.data(), c.ldy, c.X.data(), c.ldx,
                                   c.W0.data(), c.ldw, c.P.data(), c.ldp, c.lam.data(),
                                   c.keep.data(), c.Q.data(), c.ldq, c.H.data(), c.G.data(),
                                   c.ldh, kScale, c.d) == ADA_OK);
    Fn f = layer_objective(c, true);
    const char *tag = prefill ? " (accumulated)" : "";
    std::string name;
    auto ix = logical(c.d.n, c.d.d_in, c.ldx), ip = logical(c.d.d_out, c.d.r, c.ldp),
         il = all_of((size_t)c.d.r), iq = logical(c.d.r, c.d.d_in, c.ldq);
    Vec before;
    name = std::string("svd layer dX") + tag;
    check_one(name.c_str(), test::grad_error(gather(g.dX, ix, prefill ? g.dX0 : before),
                                             fd_at(c.X.data(), ix, f)));
    name = std::string("svd layer dP") + tag;
    check_one(name.c_str(), test::grad_error(gather(g.dP, ip, prefill ? g.dP0 : before),
                                             fd_at(c.P.data(), ip, f)));
    name = std::string("svd layer dlambda") + tag;
    check_one(name.c_str(), test::grad_error(gather(g.dlam, il, prefill ? g.dlam0 : before),
                                             fd_at(c.lam.data(), il, f)));
    name = std::string("svd layer dQ") + tag;
    check_one(name.c_str(), test::grad_error(gather(g.dQ, iq, prefill ? g.dQ0 : before),
                                             fd_at(c.Q.data(), iq, f)));
    // Masked triplets: λ has no effect, so its gradient is exactly 0 (nothing added).
    for (int i = 0; i < c.d.r; i++)
        if (!c.keep[i]) CHECK(g.dlam[i] == g.dlam0[i]);
    // The backward writes only the logical block of each strided gradient.
    CHECK(padding_kept(g.dX, g.dX0, c.d.n, c.d.d_in, c.ldx));
    CHECK(padding_kept(g.dP, g.dP0, c.d.d_out, c.d.r, c.ldp));
    CHECK(padding_kept(g.dQ, g.dQ0, c.d.r, c.d.d_in, c.ldq));
}

void lora_layer_check(bool prefill) {
    ada_rng rng;
    ada_rng_seed(&rng, prefill ? 202 : 201);
    LayerCase c(rng, ada_layer_dims{4, 5, 7, 4}, {1, 1, 0, 1}, false);
    LayerGrads g(rng, c, prefill);
    REQUIRE(lora_forward(c, c.Y, c.H, c.G) == ADA_OK);
    REQUIRE(ada_lora_layer_backward(g.dX.data(), c.ldx, g.dP.data(), g.dQ.data(), c.dG.data(),
                                    c.R.data(), c.ldy, c.X.data(), c.ldx, c.W0.data(), c.ldw,
                                    c.P.data(), c.ldp, c.keep.data(), c.Q.data(), c.ldq,
                                    c.H.data(), c.G.data(), c.ldh, kScale, c.d) == ADA_OK);
    Fn f = layer_objective(c, false);
    const char *tag = prefill ? " (accumulated)" : "";
    std::string name;
    auto ix = logical(c.d.n, c.d.d_in, c.ldx), ib = logical(c.d.d_out, c.d.r, c.ldp),
         ia = logical(c.d.r, c.d.d_in, c.ldq);
    Vec before;
    name = std::string("lora layer dX") + tag;
    check_one(name.c_str(), test::grad_error(gather(g.dX, ix, prefill ? g.dX0 : before),
                                             fd_at(c.X.data(), ix, f)));
    name = std::string("lora layer dB") + tag;
    check_one(name.c_str(), test::grad_error(gather(g.dP, ib, prefill ? g.dP0 : before),
                                             fd_at(c.P.data(), ib, f)));
    name = std::string("lora layer dA") + tag;
    check_one(name.c_str(), test::grad_error(gather(g.dQ, ia, prefill ? g.dQ0 : before),
                                             fd_at(c.Q.data(), ia, f)));
    // A masked doublet gets no gradient: column i of B, row i of A untouched.
    for (int i = 0; i < c.d.r; i++) {
        if (c.keep[i]) continue;
        for (int j = 0; j < c.d.d_out; j++)
            CHECK(g.dP[(size_t)j * c.ldp + i] == g.dP0[(size_t)j * c.ldp + i]);
        for (int j = 0; j < c.d.d_in; j++)
            CHECK(g.dQ[(size_t)i * c.ldq + j] == g.dQ0[(size_t)i * c.ldq + j]);
    }
    CHECK(padding_kept(g.dX, g.dX0, c.d.n, c.d.d_in, c.ldx));
    CHECK(padding_kept(g.dP, g.dP0, c.d.d_out, c.d.r, c.ldp));
    CHECK(padding_kept(g.dQ, g.dQ0, c.d.r, c.d.d_in, c.ldq));
}

// ---------------------------------------------------------------- Eq. 4

// Left (P: d x r) or right (Q: r x d) factor; gradient pre-filled, read back as
// a difference, against FD of weight · value.
void orth_check(bool left, int d, int r, ada_orth_norm norm, uint64_t seed) {
    const real weight = (real)0.37;
    ada_rng rng;
    ada_rng_seed(&rng, seed);
    int rows = left ? d : r, cols = left ? r : d;
    int ld = cols + 2, ldg = cols + 3;
    Vec M = strided(rng, rows, cols, ld, 0.5, kNaN);
    Vec dM = strided(rng, rows, cols, ldg, 1.0, (real)-4.0), dM0 = dM;
    Vec work((size_t)r * r);
    auto call = [&](double *value, real *grad) {
        return left ? ada_orth_left(value, grad, ldg, M.data(), ld, d, r, norm, weight, work.data())
                    : ada_orth_right(value, grad, ldg, M.data(), ld, r, d, norm, weight, work.data());
    };
    double value = 0;
    REQUIRE(call(&value, dM.data()) == ADA_OK);
    CHECK(value > 0);
    Fn f = [&]() {
        double v = 0;
        REQUIRE(call(&v, nullptr) == ADA_OK);
        return (double)weight * v;
    };
    auto im = logical(rows, cols, ld), ig = logical(rows, cols, ldg);
    Vec analytic = gather(dM, ig, dM0);
    char name[96];
    std::snprintf(name, sizeof name, "orth %s %s d=%d r=%d w=0.37", left ? "left" : "right",
                  norm == ADA_ORTH_SQUARED ? "squared" : "plain", d, r);
    check_one(name, test::grad_error(analytic, fd_at(M.data(), im, f)));
    CHECK(padding_kept(dM, dM0, rows, cols, ldg));
}

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
    Num numeric = fd_at(m->params, all_of(m->n_params), f, h);
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

TEST_CASE("gradcheck: svd layer dX, dP, dlambda, dQ (mask, bias, strides)") {
    svd_layer_check(false);
    svd_layer_check(true);
}

TEST_CASE("gradcheck: lora layer dX, dB, dA (mask, bias, strides)") {
    lora_layer_check(false);
    lora_layer_check(true);
}

TEST_CASE("gradcheck: orth regulariser left and right, both norms, weight 0.37") {
    const ada_orth_norm norms[2] = {ADA_ORTH_SQUARED, ADA_ORTH_PLAIN};
    uint64_t seed = 300;
    for (ada_orth_norm norm : norms) {
        orth_check(true, 7, 4, norm, seed++);   // d > r
        orth_check(true, 3, 5, norm, seed++);   // d < r
        orth_check(false, 8, 3, norm, seed++);  // d > r
        orth_check(false, 2, 5, norm, seed++);  // d < r
    }
}

TEST_CASE("gradcheck: orth regulariser adds exactly 0 at norm 0") {
    orth_zero_check(true, ADA_ORTH_PLAIN);
    orth_zero_check(false, ADA_ORTH_PLAIN);
    orth_zero_check(true, ADA_ORTH_SQUARED);
    orth_zero_check(false, ADA_ORTH_SQUARED);
}

TEST_CASE("gradcheck: losses mse, sse, cross-entropy wrt Y (ld > d)") {
    const int n = 4, d = 5, ld = d + 3;
    ada_rng rng;
    ada_rng_seed(&rng, 400);
    Vec Y = strided(rng, n, d, ld, 1.5, kNaN), T = strided(rng, n, d, ld, 1.0, kNaN);
    std::vector<int32_t> labels = {2, 0, 4, 1};
    auto idx = logical(n, d, ld);
    const ada_loss_kind kinds[2] = {ADA_LOSS_MSE, ADA_LOSS_SSE};
    for (ada_loss_kind kind : kinds) {
        Vec dY((size_t)n * ld, (real)7.0), dY0 = dY;
        double loss = 0;
        REQUIRE(ada_squared_error_loss(&loss, dY.data(), Y.data(), T.data(), n, d, ld, kind) == ADA_OK);
        Fn f = [&]() {
            double l = 0;
            REQUIRE(ada_squared_error_loss(&l, nullptr, Y.data(), T.data(), n, d, ld, kind) == ADA_OK);
            return l;
        };
        check_one(kind == ADA_LOSS_MSE ? "loss mse dY" : "loss sse dY",
                  test::grad_error(gather(dY, idx), fd_at(Y.data(), idx, f)));
        CHECK(padding_kept(dY, dY0, n, d, ld));
    }
    Vec dY((size_t)n * ld, (real)7.0), dY0 = dY;
    double loss = 0;
    REQUIRE(ada_cross_entropy_loss(&loss, dY.data(), Y.data(), labels.data(), n, d, ld) == ADA_OK);
    Fn f = [&]() {
        double l = 0;
        REQUIRE(ada_cross_entropy_loss(&l, nullptr, Y.data(), labels.data(), n, d, ld) == ADA_OK);
        return l;
    };
    check_one("loss cross-entropy dY", test::grad_error(gather(dY, idx), fd_at(Y.data(), idx, f)));
    CHECK(padding_kept(dY, dY0, n, d, ld));
}

TEST_CASE("gradcheck: activations relu, gelu, tanh, identity") {
    const ada_activation acts[4] = {ADA_ACT_RELU, ADA_ACT_GELU, ADA_ACT_TANH, ADA_ACT_IDENTITY};
    const size_t n = 48;
    for (ada_activation act : acts) {
        ada_rng rng;
        ada_rng_seed(&rng, 500 + (uint64_t)act);
        Vec Z = test::randn(rng, n, 1.5), R = test::randn(rng, n), A(n);
        // Keep every input well away from ReLU's kink (|z| >= 0.05 >> h).
        for (real &z : Z) z = z >= 0 ? z + (real)0.05 : z - (real)0.05;
        Vec dZ = test::randn(rng, n), dZ0 = dZ;  // pre-filled: backward accumulates
        REQUIRE(ada_activation_backward(dZ.data(), R.data(), Z.data(), n, act) == ADA_OK);
        Fn f = [&]() {
            REQUIRE(ada_activation_forward(A.data(), Z.data(), n, act) == ADA_OK);
            double s = 0;
            for (size_t i = 0; i < n; i++) s += (double)A[i] * R[i];
            return s;
        };
        auto idx = all_of(n);
        std::string name = std::string("activation ") + ada_activation_name(act);
        check_one(name.c_str(), test::grad_error(gather(dZ, idx, dZ0), fd_at(Z.data(), idx, f)));
    }
}

TEST_CASE("gradcheck: model 3-layer MLP, svd and lora form, with orth term") {
    const int n = 5;
    ada_rng rng;
    ada_rng_seed(&rng, 600);
    Vec x = test::randn(rng, (size_t)n * 6), y = test::randn(rng, (size_t)n * 3);
    const real *xs[1] = {x.data()};
    const real *ys[1] = {y.data()};
    ada_batch b = {n, xs, ys, nullptr};
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
    ada_batch b = {n, xs, ys, nullptr};
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
    ada_batch b = {n, xs, nullptr, ls};
    ada_model *m = make_model(kMlp, 3, ADA_FORM_SVD, ADA_LOSS_CROSS_ENTROPY, 81);
    model_check("model mlp svd cross-entropy", m, b, false);
    ada_model_free(m);
}

#endif  // ADA_DOUBLE

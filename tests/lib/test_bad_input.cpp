// test_bad_input.cpp: every public entry point refuses bad arguments with the
// right status, a message, and no change to anything it was given.
//
// Table-driven: a fixture per entry point builds a valid call (checked to
// return ADA_OK first, so each failure below is caused by its one mutation);
// every case mutates one argument, fills the pure outputs with a sentinel byte
// pattern, snapshots every buffer the call can reach, calls, and checks
//   the status, a non-empty message that this call wrote (ada_last_error() is
//   first set to a marker no case produces), and byte-identical buffers.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "support/test_util.h"
extern "C" {
#include "trainer.h"
#include "adapted_layer.h"
#include "attention.h"
#include "embedding.h"
#include "layernorm.h"
#include "linear.h"
}

namespace {

using test::Vec;
const double kNaN = std::nan("");
const double kInf = INFINITY;

// An out-of-range value of a C enum. Written through memcpy: a C++ cast of a
// value outside the enumeration's range is not defined (the C side reads ints).
template <class E> E bad_enum(int v) {
    static_assert(sizeof(E) == sizeof(int), "C enums are int-sized");
    E e;
    std::memcpy(&e, &v, sizeof e);
    return e;
}

// Memory a call may touch, compared byte for byte before and after.
struct Watch {
    std::vector<std::pair<const void *, size_t>> regions;
    void raw(const void *p, size_t bytes) { regions.push_back({p, bytes}); }
    template <class T> void vec(const std::vector<T> &v) { raw(v.data(), v.size() * sizeof(T)); }
    template <class T> void obj(const T &x) { raw(&x, sizeof x); }
    std::vector<unsigned char> snapshot() const {
        std::vector<unsigned char> out;
        for (auto &r : regions) {
            const unsigned char *p = static_cast<const unsigned char *>(r.first);
            out.insert(out.end(), p, p + r.second);
        }
        return out;
    }
};

template <class T> void sentinel(std::vector<T> &v) { std::memset(v.data(), 0x7b, v.size() * sizeof(T)); }
template <class T> void sentinel_obj(T &x) { std::memset(&x, 0x7b, sizeof x); }

// Sets ada_last_error() to a message no case below produces.
std::string set_marker() {
    ada_schedule s{};
    s.b0 = 1;
    s.total = 1;
    s.delta_t = 1;
    long b = 0;
    REQUIRE(ada_budget_at(&b, nullptr, -987654321L, &s) == ADA_ERR_RANGE);
    return ada_last_error();
}

template <class F> struct Case {
    const char *what;
    ada_status want;
    std::function<void(F &)> mutate;
};

// F: default-constructible, ada_status call(), void watch(Watch&), void fill().
template <class F> void run_cases(const char *fn, const std::vector<Case<F>> &cases) {
    {
        std::string label = std::string(fn) + ": the unmutated call";
        INFO(label);
        F f;
        f.fill();
        ada_status st = f.call();
        std::string detail = std::string("status ") + std::to_string((int)st) + ", message: " + ada_last_error();
        INFO(detail);
        REQUIRE(st == ADA_OK);
    }
    for (const Case<F> &c : cases) {
        F f;
        c.mutate(f);
        f.fill();
        Watch w;
        f.watch(w);
        std::vector<unsigned char> before = w.snapshot();
        std::string marker = set_marker();
        ada_status st = f.call();
        std::string msg = ada_last_error();
        std::string label = std::string(fn) + ": " + c.what + " -> status " + std::to_string((int)st) + " \"" + msg + "\"";
        INFO(label);
        CHECK(st == c.want);
        if (c.want == ADA_OK) continue;  // an accepted variant: nothing more to compare
        CHECK(!msg.empty());
        CHECK(msg != marker);
        CHECK(w.snapshot() == before);
    }
}

Vec randn_vec(uint64_t seed, size_t n, double std = 1.0) {
    ada_rng rng;
    ada_rng_seed(&rng, seed);
    return test::randn(rng, n, std);
}

// ================================================================ layers

// The dimension letters of adapted_layer.h; every view below is built from them.
struct LayerDims {
    int n, d_in, d_out, r;
};
// Dimensions with padding in every leading dimension.
const LayerDims kDims = {3, 5, 4, 2};  // n, d_in (d2), d_out (d1), r
const int LDX = 7, LDW = 6, LDP = 3, LDQ = 6, LDH = 4, LDY = 5;

struct LayerBuffers {
    LayerDims d = kDims;
    ada_form form = ADA_FORM_SVD;
    int p_rows = kDims.d_out;  // P's row count, for a shape-mismatch case
    int ldx = LDX, ldw = LDW, ldp = LDP, ldq = LDQ, ldh = LDH, ldy = LDY, lddx = LDX;
    real scale = (real)0.75;
    Vec X = randn_vec(1, (size_t)kDims.n * LDX), W0 = randn_vec(2, (size_t)kDims.d_out * LDW),
        bias = randn_vec(3, (size_t)kDims.d_out), P = randn_vec(4, (size_t)kDims.d_out * LDP),
        lam = randn_vec(5, (size_t)kDims.r), Q = randn_vec(6, (size_t)kDims.r * LDQ);
    std::vector<uint8_t> keep = {1, 0};
    // forward outputs (and the backward's saved activations)
    Vec Y = Vec((size_t)kDims.n * LDY), H = randn_vec(7, (size_t)kDims.n * LDH),
        G = randn_vec(8, (size_t)kDims.n * LDH);
    // backward
    Vec dY = randn_vec(9, (size_t)kDims.n * LDY), dX = Vec((size_t)kDims.n * LDX),
        dP = Vec((size_t)kDims.d_out * LDP), dlam = Vec((size_t)kDims.r),
        dQ = Vec((size_t)kDims.r * LDQ), dG = Vec((size_t)kDims.n * LDH);
    const real *pX = X.data(), *pW0 = W0.data(), *pbias = bias.data(), *pP = P.data(),
               *plam = lam.data(), *pQ = Q.data(), *pdY = dY.data(), *pHc = H.data(),
               *pGc = G.data();
    const uint8_t *pkeep = keep.data();
    real *pY = Y.data(), *pH = H.data(), *pG = G.data(), *pdX = dX.data(), *pdP = dP.data(),
         *pdlam = dlam.data(), *pdQ = dQ.data(), *pdG = dG.data();
    void watch(Watch &w) const {
        for (const Vec *v : {&X, &W0, &bias, &P, &lam, &Q, &Y, &H, &G, &dY, &dX, &dP, &dlam, &dQ, &dG})
            w.vec(*v);
        w.vec(keep);
    }
    ada_adapter adapter() const {
        return {form, ada_cmat_of(pP, p_rows, d.r, ldp), plam, pkeep, ada_cmat_of(pQ, d.r, d.d_in, ldq), scale};
    }
    ada_cmat x() const { return ada_cmat_of(pX, d.n, d.d_in, ldx); }
    ada_cmat w0() const { return ada_cmat_of(pW0, d.d_out, d.d_in, ldw); }
};
struct LoraBuffers : LayerBuffers {
    LoraBuffers() { form = ADA_FORM_LORA; plam = nullptr; pdlam = nullptr; }
};

template <class B> struct Forward : B {
    void fill() { sentinel(this->Y); sentinel(this->H); sentinel(this->G); }
    ada_status call() {
        const ada_adapter ad = this->adapter();
        const ada_layer_cache cache = {ada_mat_of(this->pH, this->d.n, this->d.r, this->ldh),
                                       ada_mat_of(this->pG, this->d.n, this->d.r, this->ldh)};
        return ada_layer_forward(ada_mat_of(this->pY, this->d.n, this->d.d_out, this->ldy), &cache,
                                 this->x(), this->w0(), this->pbias, &ad);
    }
};
template <class B> struct Backward : B {
    void fill() { sentinel(this->dX); sentinel(this->dP); sentinel(this->dlam); sentinel(this->dQ); sentinel(this->dG); }
    ada_status call() {
        const LayerDims &d = this->d;
        const ada_adapter ad = this->adapter();
        // The backward only reads the cache: the const_cast never writes.
        const ada_layer_cache cache = {ada_mat_of(const_cast<real *>(this->pHc), d.n, d.r, this->ldh),
                                       ada_mat_of(const_cast<real *>(this->pGc), d.n, d.r, this->ldh)};
        const ada_layer_grads grads = {ada_mat_of(this->pdX, d.n, d.d_in, this->lddx),
                                       ada_mat_of(this->pdP, d.d_out, d.r, this->ldp), this->pdlam,
                                       ada_mat_of(this->pdQ, d.r, d.d_in, this->ldq)};
        return ada_layer_backward(&grads, ada_mat_of(this->pdG, d.n, d.r, this->ldh),
                                  ada_cmat_of(this->pdY, d.n, d.d_out, this->ldy), this->x(), this->w0(), &ad,
                                  &cache);
    }
};
using SvdForward = Forward<LayerBuffers>;
using LoraForward = Forward<LoraBuffers>;
using SvdBackward = Backward<LayerBuffers>;
using LoraBackward = Backward<LoraBuffers>;

// Mutations every layer entry point shares: dimensions and leading dimensions.
template <class F> void add_dim_cases(std::vector<Case<F>> &c, bool has_ldy) {
    c.push_back({"n = 0", ADA_ERR_DIM, [](F &f) { f.d.n = 0; }});
    c.push_back({"n = -1", ADA_ERR_DIM, [](F &f) { f.d.n = -1; }});
    c.push_back({"d_in = 0", ADA_ERR_DIM, [](F &f) { f.d.d_in = 0; }});
    c.push_back({"d_out = 0", ADA_ERR_DIM, [](F &f) { f.d.d_out = 0; }});
    c.push_back({"d_out = -4", ADA_ERR_DIM, [](F &f) { f.d.d_out = -4; }});
    c.push_back({"r = 0", ADA_ERR_DIM, [](F &f) { f.d.r = 0; }});
    c.push_back({"r = -2", ADA_ERR_DIM, [](F &f) { f.d.r = -2; }});
    c.push_back({"P rows != d_out", ADA_ERR_DIM, [](F &f) { f.p_rows = kDims.d_out - 1; }});
    c.push_back({"form = 5", ADA_ERR_RANGE, [](F &f) { f.form = bad_enum<ada_form>(5); }});
    c.push_back({"ldx < d_in", ADA_ERR_DIM, [](F &f) { f.ldx = kDims.d_in - 1; }});
    c.push_back({"ldw < d_in", ADA_ERR_DIM, [](F &f) { f.ldw = kDims.d_in - 1; }});
    c.push_back({"ldp < r", ADA_ERR_DIM, [](F &f) { f.ldp = kDims.r - 1; }});
    c.push_back({"ldq < d_in", ADA_ERR_DIM, [](F &f) { f.ldq = kDims.d_in - 1; }});
    c.push_back({"ldh < r", ADA_ERR_DIM, [](F &f) { f.ldh = kDims.r - 1; }});
    if (has_ldy) c.push_back({"ldy < d_out", ADA_ERR_DIM, [](F &f) { f.ldy = kDims.d_out - 1; }});
    c.push_back({"X NaN", ADA_ERR_NONFINITE, [](F &f) { f.X[(size_t)LDX + 2] = (real)kNaN; }});
    c.push_back({"X +Inf", ADA_ERR_NONFINITE, [](F &f) { f.X[0] = (real)kInf; }});
    c.push_back({"X -Inf (last entry)", ADA_ERR_NONFINITE,
                 [](F &f) { f.X[(size_t)2 * LDX + kDims.d_in - 1] = (real)-kInf; }});
    c.push_back({"scale NaN", ADA_ERR_NONFINITE, [](F &f) { f.scale = (real)kNaN; }});
    c.push_back({"scale Inf", ADA_ERR_NONFINITE, [](F &f) { f.scale = (real)kInf; }});
    // accepted variants
    c.push_back({"NaN in the padding of X (ignored)", ADA_OK,
                 [](F &f) { f.X[(size_t)LDX - 1] = (real)kNaN; }});
    c.push_back({"keep NULL (all kept)", ADA_OK, [](F &f) { f.pkeep = nullptr; }});
}

TEST_CASE("bad input: ada_layer_forward, svd form") {
    using F = SvdForward;
    std::vector<Case<F>> c = {
        {"Y NULL", ADA_ERR_NULL, [](F &f) { f.pY = nullptr; }},
        {"H NULL", ADA_ERR_NULL, [](F &f) { f.pH = nullptr; }},
        {"G NULL", ADA_ERR_NULL, [](F &f) { f.pG = nullptr; }},
        {"X NULL", ADA_ERR_NULL, [](F &f) { f.pX = nullptr; }},
        {"W0 NULL", ADA_ERR_NULL, [](F &f) { f.pW0 = nullptr; }},
        {"P NULL", ADA_ERR_NULL, [](F &f) { f.pP = nullptr; }},
        {"lam NULL", ADA_ERR_NULL, [](F &f) { f.plam = nullptr; }},
        {"Q NULL", ADA_ERR_NULL, [](F &f) { f.pQ = nullptr; }},
        {"lam NaN", ADA_ERR_NONFINITE, [](F &f) { f.lam[1] = (real)kNaN; }},
        {"lam Inf", ADA_ERR_NONFINITE, [](F &f) { f.lam[0] = (real)-kInf; }},
        {"bias NULL (no bias)", ADA_OK, [](F &f) { f.pbias = nullptr; }},
    };
    add_dim_cases(c, true);
    run_cases("ada_layer_forward (svd)", c);
}

TEST_CASE("bad input: ada_layer_forward, lora form") {
    using F = LoraForward;
    std::vector<Case<F>> c = {
        {"Y NULL", ADA_ERR_NULL, [](F &f) { f.pY = nullptr; }},
        {"H NULL", ADA_ERR_NULL, [](F &f) { f.pH = nullptr; }},
        {"G NULL", ADA_ERR_NULL, [](F &f) { f.pG = nullptr; }},
        {"X NULL", ADA_ERR_NULL, [](F &f) { f.pX = nullptr; }},
        {"W0 NULL", ADA_ERR_NULL, [](F &f) { f.pW0 = nullptr; }},
        {"B NULL", ADA_ERR_NULL, [](F &f) { f.pP = nullptr; }},
        {"A NULL", ADA_ERR_NULL, [](F &f) { f.pQ = nullptr; }},
        {"lam set in the LoRA form", ADA_ERR_RANGE, [](F &f) { f.plam = f.lam.data(); }},
        {"bias NULL (no bias)", ADA_OK, [](F &f) { f.pbias = nullptr; }},
    };
    add_dim_cases(c, true);
    run_cases("ada_layer_forward (lora)", c);
}

TEST_CASE("bad input: ada_layer_backward, svd form") {
    using F = SvdBackward;
    std::vector<Case<F>> c = {
        {"dP NULL", ADA_ERR_NULL, [](F &f) { f.pdP = nullptr; }},
        {"dlam NULL", ADA_ERR_NULL, [](F &f) { f.pdlam = nullptr; }},
        {"dQ NULL", ADA_ERR_NULL, [](F &f) { f.pdQ = nullptr; }},
        {"dG NULL", ADA_ERR_NULL, [](F &f) { f.pdG = nullptr; }},
        {"dY NULL", ADA_ERR_NULL, [](F &f) { f.pdY = nullptr; }},
        {"X NULL", ADA_ERR_NULL, [](F &f) { f.pX = nullptr; }},
        {"W0 NULL", ADA_ERR_NULL, [](F &f) { f.pW0 = nullptr; }},
        {"P NULL", ADA_ERR_NULL, [](F &f) { f.pP = nullptr; }},
        {"lam NULL", ADA_ERR_NULL, [](F &f) { f.plam = nullptr; }},
        {"Q NULL", ADA_ERR_NULL, [](F &f) { f.pQ = nullptr; }},
        {"H NULL", ADA_ERR_NULL, [](F &f) { f.pHc = nullptr; }},
        {"G NULL", ADA_ERR_NULL, [](F &f) { f.pGc = nullptr; }},
        {"lddy < d_out", ADA_ERR_DIM, [](F &f) { f.ldy = kDims.d_out - 1; }},
        {"lddx < d_in", ADA_ERR_DIM, [](F &f) { f.lddx = kDims.d_in - 1; }},
        {"lam NaN", ADA_ERR_NONFINITE, [](F &f) { f.lam[0] = (real)kNaN; }},
        {"dY NaN", ADA_ERR_NONFINITE, [](F &f) { f.dY[(size_t)LDY + 1] = (real)kNaN; }},
        {"dY Inf", ADA_ERR_NONFINITE, [](F &f) { f.dY[0] = (real)kInf; }},
        {"dX NULL (no input gradient), lddx unchecked", ADA_OK,
         [](F &f) { f.pdX = nullptr; f.lddx = 0; }},
    };
    add_dim_cases(c, false);
    run_cases("ada_layer_backward (svd)", c);
}

TEST_CASE("bad input: ada_layer_backward, lora form") {
    using F = LoraBackward;
    std::vector<Case<F>> c = {
        {"dB NULL", ADA_ERR_NULL, [](F &f) { f.pdP = nullptr; }},
        {"dA NULL", ADA_ERR_NULL, [](F &f) { f.pdQ = nullptr; }},
        {"dG NULL", ADA_ERR_NULL, [](F &f) { f.pdG = nullptr; }},
        {"dY NULL", ADA_ERR_NULL, [](F &f) { f.pdY = nullptr; }},
        {"X NULL", ADA_ERR_NULL, [](F &f) { f.pX = nullptr; }},
        {"W0 NULL", ADA_ERR_NULL, [](F &f) { f.pW0 = nullptr; }},
        {"B NULL", ADA_ERR_NULL, [](F &f) { f.pP = nullptr; }},
        {"A NULL", ADA_ERR_NULL, [](F &f) { f.pQ = nullptr; }},
        {"H NULL", ADA_ERR_NULL, [](F &f) { f.pHc = nullptr; }},
        {"G NULL", ADA_ERR_NULL, [](F &f) { f.pGc = nullptr; }},
        {"lddy < d_out", ADA_ERR_DIM, [](F &f) { f.ldy = kDims.d_out - 1; }},
        {"lddx < d_in", ADA_ERR_DIM, [](F &f) { f.lddx = kDims.d_in - 1; }},
        {"dY NaN", ADA_ERR_NONFINITE, [](F &f) { f.dY[2] = (real)kNaN; }},
        {"lam set in the LoRA form", ADA_ERR_RANGE, [](F &f) { f.plam = f.lam.data(); }},
        {"dlam set in the LoRA form", ADA_ERR_RANGE, [](F &f) { f.pdlam = f.dlam.data(); }},
        {"dX NULL (no input gradient)", ADA_OK, [](F &f) { f.pdX = nullptr; f.lddx = 0; }},
    };
    add_dim_cases(c, false);
    run_cases("ada_layer_backward (lora)", c);
}

// ================================================================ Eq. 4

// P: d x r (left) or Q: r x d (right), both with padding.
struct OrthFixture {
    int d = 6, r = 3, ldm, ldg;
    bool right;
    Vec M, dM, work = Vec(9);
    double value = 0;
    double *pvalue = &value;
    const real *pM;
    real *pdM, *pwork = work.data();
    ada_orth_norm norm = ADA_ORTH_SQUARED;
    real weight = (real)0.3;
    explicit OrthFixture(bool right_) : right(right_) {
        ldm = (right ? d : r) + 2;
        ldg = (right ? d : r) + 1;
        size_t rows = right ? (size_t)r : (size_t)d;
        M = randn_vec(11, rows * ldm, 0.4);
        dM = Vec(rows * ldg);
        pM = M.data();
        pdM = dM.data();
    }
    void fill() { sentinel(dM); sentinel(work); sentinel_obj(value); }
    void watch(Watch &w) const { w.vec(M); w.vec(dM); w.vec(work); w.obj(value); }
    ada_status call() {
        return right ? ada_orth_right(pvalue, pdM, ldg, pM, ldm, r, d, norm, weight, pwork)
                     : ada_orth_left(pvalue, pdM, ldg, pM, ldm, d, r, norm, weight, pwork);
    }
};
struct OrthLeft : OrthFixture { OrthLeft() : OrthFixture(false) {} };
struct OrthRight : OrthFixture { OrthRight() : OrthFixture(true) {} };

template <class F> std::vector<Case<F>> orth_cases(bool right) {
    // The "columns" of M: r for P (left), d for Q (right).
    std::vector<Case<F>> c = {
        {"value NULL", ADA_ERR_NULL, [](F &f) { f.pvalue = nullptr; }},
        {"M NULL", ADA_ERR_NULL, [](F &f) { f.pM = nullptr; }},
        {"work NULL", ADA_ERR_NULL, [](F &f) { f.pwork = nullptr; }},
        {"d = 0", ADA_ERR_DIM, [](F &f) { f.d = 0; }},
        {"r = 0", ADA_ERR_DIM, [](F &f) { f.r = 0; }},
        {"r = -1", ADA_ERR_DIM, [](F &f) { f.r = -1; }},
        {"norm = 2", ADA_ERR_RANGE, [](F &f) { f.norm = bad_enum<ada_orth_norm>(2); }},
        {"norm = -1", ADA_ERR_RANGE, [](F &f) { f.norm = bad_enum<ada_orth_norm>(-1); }},
        {"weight NaN", ADA_ERR_NONFINITE, [](F &f) { f.weight = (real)kNaN; }},
        {"weight Inf", ADA_ERR_NONFINITE, [](F &f) { f.weight = (real)kInf; }},
        {"M NaN", ADA_ERR_NONFINITE, [](F &f) { f.M[1] = (real)kNaN; }},
        {"M Inf", ADA_ERR_NONFINITE, [](F &f) { f.M[(size_t)f.ldm + 2] = (real)kInf; }},
        {"gradient not wanted: dM NULL, lddm unchecked", ADA_OK,
         [](F &f) { f.pdM = nullptr; f.ldg = 0; }},
        {"plain norm", ADA_OK, [](F &f) { f.norm = ADA_ORTH_PLAIN; }},
    };
    if (right) {
        c.push_back({"ldq < d", ADA_ERR_DIM, [](F &f) { f.ldm = f.d - 1; }});
        c.push_back({"lddq < d", ADA_ERR_DIM, [](F &f) { f.ldg = f.d - 1; }});
    } else {
        c.push_back({"ldp < r", ADA_ERR_DIM, [](F &f) { f.ldm = f.r - 1; }});
        c.push_back({"lddp < r", ADA_ERR_DIM, [](F &f) { f.ldg = f.r - 1; }});
    }
    return c;
}

TEST_CASE("bad input: ada_orth_left") { run_cases("ada_orth_left", orth_cases<OrthLeft>(false)); }
TEST_CASE("bad input: ada_orth_right") { run_cases("ada_orth_right", orth_cases<OrthRight>(true)); }

struct OrthWeight {
    double weight = 0, gamma = 0.1;
    double *pweight = &weight;
    ada_orth_reduce reduce = ADA_ORTH_MEAN;
    int n_factors = 6;
    void fill() { sentinel_obj(weight); }
    void watch(Watch &w) const { w.obj(weight); }
    ada_status call() { return ada_orth_term_weight(pweight, gamma, reduce, n_factors); }
};

TEST_CASE("bad input: ada_orth_term_weight") {
    using F = OrthWeight;
    run_cases<F>("ada_orth_term_weight",
                 {
                     {"weight NULL", ADA_ERR_NULL, [](F &f) { f.pweight = nullptr; }},
                     {"n_factors = 0 (no adapters: no term)", ADA_OK, [](F &f) { f.n_factors = 0; }},
                     {"n_factors = -2", ADA_ERR_DIM, [](F &f) { f.n_factors = -2; }},
                     {"gamma NaN", ADA_ERR_NONFINITE, [](F &f) { f.gamma = kNaN; }},
                     {"gamma Inf", ADA_ERR_NONFINITE, [](F &f) { f.gamma = kInf; }},
                     {"gamma < 0", ADA_ERR_RANGE, [](F &f) { f.gamma = -0.1; }},
                     {"reduce = 2", ADA_ERR_RANGE, [](F &f) { f.reduce = bad_enum<ada_orth_reduce>(2); }},
                     {"reduce = -1", ADA_ERR_RANGE, [](F &f) { f.reduce = bad_enum<ada_orth_reduce>(-1); }},
                     {"gamma = 0 (no regulariser)", ADA_OK, [](F &f) { f.gamma = 0; }},
                 });
}

// ================================================================ Eqs. 9-13

struct ImportanceUpdate {
    size_t n = 7;
    Vec ibar = randn_vec(21, 7), ubar = randn_vec(22, 7), w = randn_vec(23, 7), g = randn_vec(24, 7);
    real *pibar = ibar.data(), *pubar = ubar.data();
    const real *pw = w.data(), *pg = g.data();
    real beta1 = (real)0.85, beta2 = (real)0.85;
    void fill() {}  // Ī and Ū are read and written: snapshot only
    void watch(Watch &wt) const { wt.vec(ibar); wt.vec(ubar); wt.vec(w); wt.vec(g); }
    ada_status call() { return ada_importance_update(pibar, pubar, pw, pg, n, beta1, beta2); }
};

TEST_CASE("bad input: ada_importance_update") {
    using F = ImportanceUpdate;
    run_cases<F>("ada_importance_update",
                 {
                     {"ibar NULL", ADA_ERR_NULL, [](F &f) { f.pibar = nullptr; }},
                     {"ubar NULL", ADA_ERR_NULL, [](F &f) { f.pubar = nullptr; }},
                     {"w NULL", ADA_ERR_NULL, [](F &f) { f.pw = nullptr; }},
                     {"g NULL", ADA_ERR_NULL, [](F &f) { f.pg = nullptr; }},
                     {"beta1 = 0", ADA_ERR_RANGE, [](F &f) { f.beta1 = 0; }},
                     {"beta1 = 1", ADA_ERR_RANGE, [](F &f) { f.beta1 = 1; }},
                     {"beta1 = -0.5", ADA_ERR_RANGE, [](F &f) { f.beta1 = (real)-0.5; }},
                     {"beta1 NaN", ADA_ERR_NONFINITE, [](F &f) { f.beta1 = (real)kNaN; }},
                     {"beta2 = 0", ADA_ERR_RANGE, [](F &f) { f.beta2 = 0; }},
                     {"beta2 = 1.5", ADA_ERR_RANGE, [](F &f) { f.beta2 = (real)1.5; }},
                     {"beta2 Inf", ADA_ERR_NONFINITE, [](F &f) { f.beta2 = (real)kInf; }},
                     {"w NaN", ADA_ERR_NONFINITE, [](F &f) { f.w[6] = (real)kNaN; }},
                     {"g NaN", ADA_ERR_NONFINITE, [](F &f) { f.g[3] = (real)kNaN; }},
                     {"g Inf", ADA_ERR_NONFINITE, [](F &f) { f.g[0] = (real)-kInf; }},
                 });
}

struct TripletScores {
    int d1 = 4, d2 = 5, r = 3, ldp = 4, ldq = 6;
    ada_importance_kind kind = ADA_IMPORTANCE_SENS_UNC;
    Vec S = Vec(3), iP = randn_vec(31, 16), uP = randn_vec(32, 16), il = randn_vec(33, 3),
        ul = randn_vec(34, 3), iQ = randn_vec(35, 18), uQ = randn_vec(36, 18), lam = randn_vec(37, 3);
    real *pS = S.data();
    const real *piP = iP.data(), *puP = uP.data(), *pil = il.data(), *pul = ul.data(),
               *piQ = iQ.data(), *puQ = uQ.data(), *plam = lam.data();
    void fill() { sentinel(S); }
    void watch(Watch &w) const {
        for (const Vec *v : {&S, &iP, &uP, &il, &ul, &iQ, &uQ, &lam}) w.vec(*v);
    }
    ada_form form = ADA_FORM_SVD;
    bool no_emas = false;  // pass emas = NULL
    ada_status call() {
        const ada_triplet_emas e = {ada_cmat_of(piP, d1, r, ldp), ada_cmat_of(puP, d1, r, ldp), pil, pul,
                                    ada_cmat_of(piQ, r, d2, ldq), ada_cmat_of(puQ, r, d2, ldq)};
        return ada_triplet_scores(pS, r, form, kind, no_emas ? nullptr : &e, plam);
    }
};

TEST_CASE("bad input: ada_triplet_scores") {
    using F = TripletScores;
    const auto magnitude = [](F &f) { f.kind = ADA_IMPORTANCE_MAGNITUDE; };
    run_cases<F>(
        "ada_triplet_scores",
        {
            {"S NULL", ADA_ERR_NULL, [](F &f) { f.pS = nullptr; }},
            {"ibar_P NULL", ADA_ERR_NULL, [](F &f) { f.piP = nullptr; }},
            {"ibar_Q NULL", ADA_ERR_NULL, [](F &f) { f.piQ = nullptr; }},
            {"ubar_P NULL (sens-unc)", ADA_ERR_NULL, [](F &f) { f.puP = nullptr; }},
            {"ubar_Q NULL (sens-unc)", ADA_ERR_NULL, [](F &f) { f.puQ = nullptr; }},
            {"ubar_lam NULL (svd, sens-unc)", ADA_ERR_NULL, [](F &f) { f.pul = nullptr; }},
            {"ibar_lam NULL (svd)", ADA_ERR_NULL, [](F &f) { f.pil = nullptr; }},
            {"emas NULL (sens-unc)", ADA_ERR_NULL, [](F &f) { f.no_emas = true; }},
            {"lambda EMAs in the LoRA form", ADA_ERR_RANGE, [](F &f) { f.form = ADA_FORM_LORA; }},
            {"magnitude in the LoRA form", ADA_ERR_RANGE,
             [=](F &f) { magnitude(f); f.form = ADA_FORM_LORA; }},
            {"form = 4", ADA_ERR_RANGE, [](F &f) { f.form = bad_enum<ada_form>(4); }},
            {"magnitude: lam NULL", ADA_ERR_NULL, [=](F &f) { magnitude(f); f.plam = nullptr; }},
            {"d1 = 0", ADA_ERR_DIM, [](F &f) { f.d1 = 0; }},
            {"d2 = 0", ADA_ERR_DIM, [](F &f) { f.d2 = 0; }},
            {"r = 0", ADA_ERR_DIM, [](F &f) { f.r = 0; }},
            {"r = -3", ADA_ERR_DIM, [](F &f) { f.r = -3; }},
            {"ldp < r", ADA_ERR_DIM, [](F &f) { f.ldp = 2; }},
            {"ldq < d2", ADA_ERR_DIM, [](F &f) { f.ldq = 4; }},
            {"kind = 3", ADA_ERR_RANGE, [](F &f) { f.kind = bad_enum<ada_importance_kind>(3); }},
            {"kind = -1", ADA_ERR_RANGE, [](F &f) { f.kind = bad_enum<ada_importance_kind>(-1); }},
            {"magnitude: lam NaN", ADA_ERR_NONFINITE, [=](F &f) { magnitude(f); f.lam[2] = (real)kNaN; }},
            {"magnitude: r = 0", ADA_ERR_DIM, [=](F &f) { magnitude(f); f.r = 0; }},
            {"sens: ubar NULL", ADA_OK,
             [](F &f) { f.kind = ADA_IMPORTANCE_SENS; f.puP = f.puQ = f.pul = nullptr; }},
            {"LoRA doublet: no lambda", ADA_OK,
             [](F &f) { f.form = ADA_FORM_LORA; f.pil = f.pul = nullptr; }},
            {"magnitude: only lam", ADA_OK, [=](F &f) { magnitude(f); f.no_emas = true; }},
        });
}

TEST_CASE("bad input: ada_check_ema_rate") {
    struct Row { double beta; ada_status want; };
    for (Row row : {Row{0.0, ADA_ERR_RANGE}, Row{1.0, ADA_ERR_RANGE}, Row{-0.1, ADA_ERR_RANGE},
                    Row{1.5, ADA_ERR_RANGE}, Row{kNaN, ADA_ERR_NONFINITE},
                    Row{kInf, ADA_ERR_NONFINITE}, Row{-kInf, ADA_ERR_NONFINITE}, Row{0.5, ADA_OK}}) {
        CAPTURE(row.beta);
        std::string marker = set_marker();
        CHECK(ada_check_ema_rate("caller", "beta1", row.beta) == row.want);
        if (row.want != ADA_OK) {
            CHECK(std::string(ada_last_error()) != marker);
            CHECK(std::string(ada_last_error()).find("caller") != std::string::npos);
        }
    }
}

// ================================================================ Eq. 14

ada_schedule valid_schedule() {
    ada_schedule s{};
    s.b0 = 12;
    s.bT = 4;
    s.t_init = 5;
    s.t_final = 10;
    s.total = 50;
    s.delta_t = 2;
    ada_schedule_set_convention(&s, ADA_SCHED_PAPER);
    s.final_phase = ADA_FINAL_FREEZE;
    return s;
}

// Mutations that make a schedule invalid (against n_triplets = 12).
struct SchedMutation {
    const char *what;
    ada_status want;
    void (*mutate)(ada_schedule &);
};
const SchedMutation kBadSchedules[] = {
    {"step_base = 2", ADA_ERR_RANGE, [](ada_schedule &s) { s.step_base = 2; }},
    {"warmup_end = 2", ADA_ERR_RANGE, [](ada_schedule &s) { s.warmup_end = bad_enum<ada_warmup_end>(2); }},
    {"rounding = -1", ADA_ERR_RANGE, [](ada_schedule &s) { s.rounding = bad_enum<ada_budget_rounding>(-1); }},
    {"final_phase = 2", ADA_ERR_RANGE, [](ada_schedule &s) { s.final_phase = bad_enum<ada_final_phase>(2); }},
    {"b0 = -1", ADA_ERR_RANGE, [](ada_schedule &s) { s.b0 = -1; s.bT = 0; }},
    {"bT = -1", ADA_ERR_RANGE, [](ada_schedule &s) { s.bT = -1; }},
    {"bT > b0", ADA_ERR_RANGE, [](ada_schedule &s) { s.b0 = 6; s.bT = 7; }},
    {"t_init = -1", ADA_ERR_RANGE, [](ada_schedule &s) { s.t_init = -1; }},
    {"t_final = -1", ADA_ERR_RANGE, [](ada_schedule &s) { s.t_final = -1; }},
    {"T = t_i + t_f", ADA_ERR_RANGE, [](ada_schedule &s) { s.total = s.t_init + s.t_final; }},
    {"T < t_i + t_f", ADA_ERR_RANGE, [](ada_schedule &s) { s.total = s.t_init + s.t_final - 1; }},
    {"T = 0", ADA_ERR_RANGE, [](ada_schedule &s) { s.total = 0; s.t_init = s.t_final = 0; }},
    {"delta_t = 0", ADA_ERR_RANGE, [](ada_schedule &s) { s.delta_t = 0; }},
    {"delta_t = -3", ADA_ERR_RANGE, [](ada_schedule &s) { s.delta_t = -3; }},
};

struct ScheduleCheck {
    ada_schedule s = valid_schedule();
    const ada_schedule *ps = &s;
    long n_triplets = 12;
    void fill() {}
    void watch(Watch &w) const { w.obj(s); }
    ada_status call() { return ada_schedule_check(ps, n_triplets); }
};

TEST_CASE("bad input: ada_schedule_check") {
    using F = ScheduleCheck;
    std::vector<Case<F>> c = {
        {"s NULL", ADA_ERR_NULL, [](F &f) { f.ps = nullptr; }},
        {"b0 > n*r0", ADA_ERR_RANGE, [](F &f) { f.s.b0 = 13; }},
        {"n*r0 below b0", ADA_ERR_RANGE, [](F &f) { f.n_triplets = 11; }},
        {"b0 = bT = n*r0 (nothing pruned)", ADA_OK, [](F &f) { f.s.b0 = f.s.bT = 12; }},
        {"bT = 0", ADA_OK, [](F &f) { f.s.bT = 0; }},
        {"t_i = t_f = 0, T = 1", ADA_OK, [](F &f) { f.s.t_init = f.s.t_final = 0; f.s.total = 1; }},
    };
    for (const SchedMutation &m : kBadSchedules) {
        auto fn = m.mutate;
        c.push_back({m.what, m.want, [fn](F &f) { fn(f.s); }});
    }
    run_cases("ada_schedule_check", c);
}

struct BudgetAt {
    ada_schedule s = valid_schedule();
    const ada_schedule *ps = &s;
    long step = 20, budget = 0;
    long *pbudget = &budget;
    ada_phase phase = ADA_PHASE_WARMUP;
    ada_phase *pphase = &phase;
    void fill() { sentinel_obj(budget); sentinel_obj(phase); }
    void watch(Watch &w) const { w.obj(s); w.obj(budget); w.obj(phase); }
    ada_status call() { return ada_budget_at(pbudget, pphase, step, ps); }
};

TEST_CASE("bad input: ada_budget_at") {
    using F = BudgetAt;
    std::vector<Case<F>> c = {
        {"budget NULL", ADA_ERR_NULL, [](F &f) { f.pbudget = nullptr; }},
        {"s NULL", ADA_ERR_NULL, [](F &f) { f.ps = nullptr; }},
        {"step = -1", ADA_ERR_RANGE, [](F &f) { f.step = -1; }},
        {"step = T + 1", ADA_ERR_RANGE, [](F &f) { f.step = 51; }},
        {"phase NULL (optional)", ADA_OK, [](F &f) { f.pphase = nullptr; }},
        {"step = T", ADA_OK, [](F &f) { f.step = 50; }},
        {"step = 0", ADA_OK, [](F &f) { f.step = 0; }},
    };
    for (const SchedMutation &m : kBadSchedules) {
        auto fn = m.mutate;
        c.push_back({m.what, m.want, [fn](F &f) { fn(f.s); }});
    }
    run_cases("ada_budget_at", c);
}

struct MaskActionAt {
    ada_schedule s = valid_schedule();
    const ada_schedule *ps = &s;
    long step = 20;
    ada_mask_action action = ADA_ACTION_NONE;
    ada_mask_action *paction = &action;
    void fill() { sentinel_obj(action); }
    void watch(Watch &w) const { w.obj(s); w.obj(action); }
    ada_status call() { return ada_mask_action_at(paction, step, ps); }
};

TEST_CASE("bad input: ada_mask_action_at") {
    using F = MaskActionAt;
    std::vector<Case<F>> c = {
        {"action NULL", ADA_ERR_NULL, [](F &f) { f.paction = nullptr; }},
        {"s NULL", ADA_ERR_NULL, [](F &f) { f.ps = nullptr; }},
        {"step = -1", ADA_ERR_RANGE, [](F &f) { f.step = -1; }},
        {"step = T + 1", ADA_ERR_RANGE, [](F &f) { f.step = 51; }},
    };
    for (const SchedMutation &m : kBadSchedules) {
        auto fn = m.mutate;
        c.push_back({m.what, m.want, [fn](F &f) { fn(f.s); }});
    }
    run_cases("ada_mask_action_at", c);
}

// ================================================================ Eq. 8

struct SelectTop {
    long n = 9, budget = 4;
    ada_ties ties = ADA_TIES_EXACT;
    Vec scores = randn_vec(41, 9);
    std::vector<uint8_t> keep = std::vector<uint8_t>(9);
    std::vector<int32_t> work = std::vector<int32_t>(9);
    real threshold = 0;
    uint8_t *pkeep = keep.data();
    real *pthreshold = &threshold;
    const real *pscores = scores.data();
    int32_t *pwork = work.data();
    void fill() { sentinel(keep); sentinel(work); sentinel_obj(threshold); }
    void watch(Watch &w) const { w.vec(scores); w.vec(keep); w.vec(work); w.obj(threshold); }
    ada_status call() { return ada_select_top_budget(pkeep, pthreshold, pscores, n, budget, ties, pwork); }
};

TEST_CASE("bad input: ada_select_top_budget") {
    using F = SelectTop;
    run_cases<F>("ada_select_top_budget",
                 {
                     {"keep NULL", ADA_ERR_NULL, [](F &f) { f.pkeep = nullptr; }},
                     {"threshold NULL", ADA_ERR_NULL, [](F &f) { f.pthreshold = nullptr; }},
                     {"scores NULL", ADA_ERR_NULL, [](F &f) { f.pscores = nullptr; }},
                     {"work NULL", ADA_ERR_NULL, [](F &f) { f.pwork = nullptr; }},
                     {"n = 0", ADA_ERR_DIM, [](F &f) { f.n = 0; f.budget = 0; }},
                     {"n = -1", ADA_ERR_DIM, [](F &f) { f.n = -1; f.budget = 0; }},
                     {"budget = -1", ADA_ERR_RANGE, [](F &f) { f.budget = -1; }},
                     {"budget = n + 1", ADA_ERR_RANGE, [](F &f) { f.budget = 10; }},
                     {"ties = 2", ADA_ERR_RANGE, [](F &f) { f.ties = bad_enum<ada_ties>(2); }},
                     {"ties = -1", ADA_ERR_RANGE, [](F &f) { f.ties = bad_enum<ada_ties>(-1); }},
                     {"score NaN", ADA_ERR_NONFINITE, [](F &f) { f.scores[8] = (real)kNaN; }},
                     {"score +Inf", ADA_ERR_NONFINITE, [](F &f) { f.scores[0] = (real)kInf; }},
                     {"score -Inf (allowed: never wins)", ADA_OK, [](F &f) { f.scores[3] = (real)-kInf; }},
                     {"budget = 0", ADA_OK, [](F &f) { f.budget = 0; }},
                     {"budget = n", ADA_OK, [](F &f) { f.budget = 9; }},
                 });
}

// ================================================================ optimizers

struct OptimizerCheck {
    ada_optimizer_config c = ada_optimizer_defaults();
    const ada_optimizer_config *pc = &c;
    void fill() {}
    void watch(Watch &w) const { w.obj(c); }
    ada_status call() { return ada_optimizer_check(pc); }
};

// Configuration mutations shared by the check, AdamW and SGD.
struct OptMutation {
    const char *what;
    ada_status want;
    void (*mutate)(ada_optimizer_config &);
};
const OptMutation kBadOptimizers[] = {
    {"kind = 2", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.kind = bad_enum<ada_optimizer_kind>(2); }},
    {"kind = -1", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.kind = bad_enum<ada_optimizer_kind>(-1); }},
    {"lr NaN", ADA_ERR_NONFINITE, [](ada_optimizer_config &c) { c.lr = kNaN; }},
    {"lr Inf", ADA_ERR_NONFINITE, [](ada_optimizer_config &c) { c.lr = kInf; }},
    {"weight_decay NaN", ADA_ERR_NONFINITE, [](ada_optimizer_config &c) { c.weight_decay = kNaN; }},
    {"beta1 NaN", ADA_ERR_NONFINITE, [](ada_optimizer_config &c) { c.beta1 = kNaN; }},
    {"beta2 Inf", ADA_ERR_NONFINITE, [](ada_optimizer_config &c) { c.beta2 = kInf; }},
    {"eps NaN", ADA_ERR_NONFINITE, [](ada_optimizer_config &c) { c.eps = kNaN; }},
    {"lr < 0", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.lr = -1e-3; }},
    {"weight_decay < 0", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.weight_decay = -0.01; }},
};
// AdamW only (SGD has no moments).
const OptMutation kBadAdam[] = {
    {"beta1 = 1", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.beta1 = 1.0; }},
    {"beta1 < 0", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.beta1 = -0.1; }},
    {"beta2 = 1", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.beta2 = 1.0; }},
    {"beta2 = 1.5", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.beta2 = 1.5; }},
    {"eps = 0", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.eps = 0; }},
    {"eps < 0", ADA_ERR_RANGE, [](ada_optimizer_config &c) { c.eps = -1e-8; }},
};

template <class F> void add_opt_cases(std::vector<Case<F>> &c, bool adam) {
    for (const OptMutation &m : kBadOptimizers) {
        auto fn = m.mutate;
        c.push_back({m.what, m.want, [fn](F &f) { fn(f.c); }});
    }
    if (adam)
        for (const OptMutation &m : kBadAdam) {
            auto fn = m.mutate;
            c.push_back({m.what, m.want, [fn](F &f) { fn(f.c); }});
        }
}

TEST_CASE("bad input: ada_optimizer_check") {
    using F = OptimizerCheck;
    std::vector<Case<F>> c = {{"c NULL", ADA_ERR_NULL, [](F &f) { f.pc = nullptr; }},
                              {"beta1 = 0 (torch allows it)", ADA_OK, [](F &f) { f.c.beta1 = 0; }}};
    add_opt_cases(c, true);
    run_cases("ada_optimizer_check", c);
}

struct AdamW {
    ada_optimizer_config c = ada_optimizer_defaults();
    const ada_optimizer_config *pc = &c;
    size_t n = 6;
    long t = 3;
    Vec w = randn_vec(51, 6), m = randn_vec(52, 6), v = randn_vec(53, 6), g = randn_vec(54, 6);
    real *pw = w.data(), *pm = m.data(), *pv = v.data();
    const real *pg = g.data();
    AdamW() { for (real &x : v) x = x * x; }
    void fill() {}
    void watch(Watch &wt) const { wt.vec(w); wt.vec(m); wt.vec(v); wt.vec(g); wt.obj(c); }
    ada_status call() { return ada_adamw_update(pw, pm, pv, pg, n, pc, t); }
};

TEST_CASE("bad input: ada_adamw_update") {
    using F = AdamW;
    std::vector<Case<F>> c = {
        {"w NULL", ADA_ERR_NULL, [](F &f) { f.pw = nullptr; }},
        {"m NULL", ADA_ERR_NULL, [](F &f) { f.pm = nullptr; }},
        {"v NULL", ADA_ERR_NULL, [](F &f) { f.pv = nullptr; }},
        {"g NULL", ADA_ERR_NULL, [](F &f) { f.pg = nullptr; }},
        {"config NULL", ADA_ERR_NULL, [](F &f) { f.pc = nullptr; }},
        {"t = 0", ADA_ERR_RANGE, [](F &f) { f.t = 0; }},
        {"t = -5", ADA_ERR_RANGE, [](F &f) { f.t = -5; }},
    };
    add_opt_cases(c, true);
    run_cases("ada_adamw_update", c);
}

struct Sgd {
    ada_optimizer_config c = [] {
        ada_optimizer_config x = ada_optimizer_defaults();
        x.kind = ADA_OPT_SGD;
        return x;
    }();
    const ada_optimizer_config *pc = &c;
    size_t n = 6;
    Vec w = randn_vec(61, 6), g = randn_vec(62, 6);
    real *pw = w.data();
    const real *pg = g.data();
    void fill() {}
    void watch(Watch &wt) const { wt.vec(w); wt.vec(g); wt.obj(c); }
    ada_status call() { return ada_sgd_update(pw, pg, n, pc); }
};

TEST_CASE("bad input: ada_sgd_update") {
    using F = Sgd;
    std::vector<Case<F>> c = {
        {"w NULL", ADA_ERR_NULL, [](F &f) { f.pw = nullptr; }},
        {"g NULL", ADA_ERR_NULL, [](F &f) { f.pg = nullptr; }},
        {"config NULL", ADA_ERR_NULL, [](F &f) { f.pc = nullptr; }},
    };
    add_opt_cases(c, false);
    run_cases("ada_sgd_update", c);
}

struct Clip {
    double norm = 0, max_norm = 0.5;
    double *pnorm = &norm;
    Vec g = randn_vec(71, 8);
    real *pg = g.data();
    size_t n = 8;
    void fill() { sentinel_obj(norm); }
    void watch(Watch &w) const { w.vec(g); w.obj(norm); }
    ada_status call() { return ada_clip_grad_norm(pnorm, pg, n, max_norm); }
};

TEST_CASE("bad input: ada_clip_grad_norm") {
    using F = Clip;
    run_cases<F>("ada_clip_grad_norm",
                 {
                     {"total_norm NULL", ADA_ERR_NULL, [](F &f) { f.pnorm = nullptr; }},
                     {"g NULL", ADA_ERR_NULL, [](F &f) { f.pg = nullptr; }},
                     {"max_norm = 0", ADA_ERR_RANGE, [](F &f) { f.max_norm = 0; }},
                     {"max_norm < 0", ADA_ERR_RANGE, [](F &f) { f.max_norm = -1; }},
                     {"max_norm NaN", ADA_ERR_NONFINITE, [](F &f) { f.max_norm = kNaN; }},
                     {"max_norm Inf", ADA_ERR_NONFINITE, [](F &f) { f.max_norm = kInf; }},
                     {"g NaN (last entry)", ADA_ERR_NONFINITE, [](F &f) { f.g[7] = (real)kNaN; }},
                     {"g Inf", ADA_ERR_NONFINITE, [](F &f) { f.g[2] = (real)kInf; }},
                 });
}

// ================================================================ losses

struct SquaredLoss {
    int n = 3, d = 4, ld = 5;
    ada_loss_kind kind = ADA_LOSS_MSE;
    double loss = 0;
    double *ploss = &loss;
    Vec Y = randn_vec(81, 15), T = randn_vec(82, 15), dY = Vec(15);
    const real *pY = Y.data(), *pT = T.data();
    real *pdY = dY.data();
    void fill() { sentinel(dY); sentinel_obj(loss); }
    void watch(Watch &w) const { w.vec(Y); w.vec(T); w.vec(dY); w.obj(loss); }
    ada_status call() { return ada_squared_error_loss(ploss, pdY, pY, pT, n, d, ld, kind); }
};

TEST_CASE("bad input: ada_squared_error_loss") {
    using F = SquaredLoss;
    run_cases<F>("ada_squared_error_loss",
                 {
                     {"loss NULL", ADA_ERR_NULL, [](F &f) { f.ploss = nullptr; }},
                     {"Y NULL", ADA_ERR_NULL, [](F &f) { f.pY = nullptr; }},
                     {"T NULL", ADA_ERR_NULL, [](F &f) { f.pT = nullptr; }},
                     {"n = 0", ADA_ERR_DIM, [](F &f) { f.n = 0; }},
                     {"d = 0", ADA_ERR_DIM, [](F &f) { f.d = 0; }},
                     {"d = -1", ADA_ERR_DIM, [](F &f) { f.d = -1; }},
                     {"ld < d", ADA_ERR_DIM, [](F &f) { f.ld = 3; }},
                     {"kind = cross-entropy", ADA_ERR_RANGE, [](F &f) { f.kind = ADA_LOSS_CROSS_ENTROPY; }},
                     {"kind = 7", ADA_ERR_RANGE, [](F &f) { f.kind = bad_enum<ada_loss_kind>(7); }},
                     {"T NaN", ADA_ERR_NONFINITE, [](F &f) { f.T[6] = (real)kNaN; }},
                     {"T Inf", ADA_ERR_NONFINITE, [](F &f) { f.T[0] = (real)kInf; }},
                     {"Y NaN", ADA_ERR_NONFINITE, [](F &f) { f.Y[13] = (real)kNaN; }},
                     {"Y Inf", ADA_ERR_NONFINITE, [](F &f) { f.Y[1] = (real)-kInf; }},
                     {"NaN in the padding of Y and T (ignored)", ADA_OK,
                      [](F &f) { f.Y[4] = f.T[9] = (real)kNaN; }},
                     {"dY NULL (value only)", ADA_OK, [](F &f) { f.pdY = nullptr; }},
                     {"sse", ADA_OK, [](F &f) { f.kind = ADA_LOSS_SSE; }},
                 });
}

struct CrossEntropy {
    int n = 3, d = 4, ld = 5;
    double loss = 0;
    double *ploss = &loss;
    Vec Y = randn_vec(91, 15), dY = Vec(15);
    std::vector<int32_t> labels = {0, 3, 2};
    const real *pY = Y.data();
    const int32_t *plabels = labels.data();
    real *pdY = dY.data();
    void fill() { sentinel(dY); sentinel_obj(loss); }
    void watch(Watch &w) const { w.vec(Y); w.vec(labels); w.vec(dY); w.obj(loss); }
    ada_status call() { return ada_cross_entropy_loss(ploss, pdY, pY, plabels, n, d, ld); }
};

TEST_CASE("bad input: ada_cross_entropy_loss") {
    using F = CrossEntropy;
    run_cases<F>("ada_cross_entropy_loss",
                 {
                     {"loss NULL", ADA_ERR_NULL, [](F &f) { f.ploss = nullptr; }},
                     {"Y NULL", ADA_ERR_NULL, [](F &f) { f.pY = nullptr; }},
                     {"labels NULL", ADA_ERR_NULL, [](F &f) { f.plabels = nullptr; }},
                     {"n = 0", ADA_ERR_DIM, [](F &f) { f.n = 0; }},
                     {"d = 0", ADA_ERR_DIM, [](F &f) { f.d = 0; }},
                     {"ld < d", ADA_ERR_DIM, [](F &f) { f.ld = 3; }},
                     {"label = -1", ADA_ERR_RANGE, [](F &f) { f.labels[1] = -1; }},
                     {"label = d", ADA_ERR_RANGE, [](F &f) { f.labels[2] = 4; }},
                     {"Y NaN", ADA_ERR_NONFINITE, [](F &f) { f.Y[11] = (real)kNaN; }},
                     {"Y +Inf", ADA_ERR_NONFINITE, [](F &f) { f.Y[5] = (real)kInf; }},
                     {"NaN in the padding of Y (ignored)", ADA_OK, [](F &f) { f.Y[9] = (real)kNaN; }},
                     {"dY NULL (value only)", ADA_OK, [](F &f) { f.pdY = nullptr; }},
                 });
}

// ================================================================ activations

struct Activation {
    bool backward;
    size_t n = 6;
    ada_activation act = ADA_ACT_GELU;
    Vec A = Vec(6), Z = randn_vec(101, 6), dA = randn_vec(102, 6);
    real *pA = A.data();
    const real *pZ = Z.data(), *pdA = dA.data();
    explicit Activation(bool b) : backward(b) {}
    void fill() { sentinel(A); }
    void watch(Watch &w) const { w.vec(A); w.vec(Z); w.vec(dA); }
    ada_status call() {
        return backward ? ada_activation_backward(pA, pdA, pZ, nullptr, n, act)
                        : ada_activation_forward(pA, pZ, n, act);
    }
};
struct ActForward : Activation { ActForward() : Activation(false) {} };
struct ActBackward : Activation { ActBackward() : Activation(true) {} };

TEST_CASE("bad input: ada_activation_forward and ada_activation_backward") {
    run_cases<ActForward>(
        "ada_activation_forward",
        {
            {"A NULL", ADA_ERR_NULL, [](ActForward &f) { f.pA = nullptr; }},
            {"Z NULL", ADA_ERR_NULL, [](ActForward &f) { f.pZ = nullptr; }},
            {"act = 4", ADA_ERR_RANGE, [](ActForward &f) { f.act = bad_enum<ada_activation>(4); }},
            {"act = -1", ADA_ERR_RANGE, [](ActForward &f) { f.act = bad_enum<ada_activation>(-1); }},
        });
    run_cases<ActBackward>(
        "ada_activation_backward",
        {
            {"dZ NULL", ADA_ERR_NULL, [](ActBackward &f) { f.pA = nullptr; }},
            {"dA NULL", ADA_ERR_NULL, [](ActBackward &f) { f.pdA = nullptr; }},
            {"Z NULL", ADA_ERR_NULL, [](ActBackward &f) { f.pZ = nullptr; }},
            {"act = 9", ADA_ERR_RANGE, [](ActBackward &f) { f.act = bad_enum<ada_activation>(9); }},
        });
    CHECK(ada_activation_name(bad_enum<ada_activation>(4)) == nullptr);
}

// ================================================================ model

// Two chains: chain 0 = 5 -> 6 (relu, bias) -> 3 (identity, bias), chain 1 = 4 -> 2
// (identity, no bias); r0 = 2, 6 triplets.
const ada_module_spec kModelSpecs[3] = {{"a0", 0, 5, 6, 1, ADA_ACT_RELU},
                                        {"a1", 0, 6, 3, 1, ADA_ACT_IDENTITY},
                                        {"b0", 1, 4, 2, 0, ADA_ACT_IDENTITY}};
const int kMaxBatch = 8;

ada_model_config model_config(ada_loss_kind loss = ADA_LOSS_MSE) {
    ada_model_config c = ada_model_defaults();
    c.n_modules = 3;
    c.modules = kModelSpecs;
    c.r0 = 2;
    c.max_batch = kMaxBatch;
    c.loss = loss;
    c.seed = 5;
    c.init_std = 0.3;  // λ is 0 at creation; a training step below makes it non-zero
    return c;
}

struct ModelCreate {
    ada_module_spec specs[3] = {kModelSpecs[0], kModelSpecs[1], kModelSpecs[2]};
    ada_model_config cfg = model_config();
    const ada_model_config *pcfg = &cfg;
    ada_model *sentinel_model = reinterpret_cast<ada_model *>(&specs);  // never dereferenced
    ada_model *out = sentinel_model;
    ada_model **pout = &out;
    ModelCreate() { cfg.modules = specs; }
    ~ModelCreate() {
        if (out != sentinel_model) ada_model_free(out);
    }
    void fill() {}
    void watch(Watch &w) const { w.obj(specs); w.obj(cfg); w.obj(out); }
    ada_status call() { return ada_model_create(pout, pcfg); }
};

TEST_CASE("bad input: ada_model_create") {
    using F = ModelCreate;
    run_cases<F>(
        "ada_model_create",
        {
            {"out NULL", ADA_ERR_NULL, [](F &f) { f.pout = nullptr; }},
            {"cfg NULL", ADA_ERR_NULL, [](F &f) { f.pcfg = nullptr; }},
            {"modules NULL", ADA_ERR_NULL, [](F &f) { f.cfg.modules = nullptr; }},
            {"n_modules = 0", ADA_ERR_DIM, [](F &f) { f.cfg.n_modules = 0; }},
            {"n_modules = -1", ADA_ERR_DIM, [](F &f) { f.cfg.n_modules = -1; }},
            {"max_batch = 0", ADA_ERR_DIM, [](F &f) { f.cfg.max_batch = 0; }},
            {"module d_in = 0", ADA_ERR_DIM, [](F &f) { f.specs[0].d_in = 0; }},
            {"module d_out = -1", ADA_ERR_DIM, [](F &f) { f.specs[2].d_out = -1; }},
            {"chained d_in != previous d_out", ADA_ERR_DIM, [](F &f) { f.specs[1].d_in = 5; }},
            {"r0 = 0", ADA_ERR_RANGE, [](F &f) { f.cfg.r0 = 0; }},
            {"r0 = -3", ADA_ERR_RANGE, [](F &f) { f.cfg.r0 = -3; }},
            {"form = 2", ADA_ERR_RANGE, [](F &f) { f.cfg.form = bad_enum<ada_form>(2); }},
            {"loss = 3", ADA_ERR_RANGE, [](F &f) { f.cfg.loss = bad_enum<ada_loss_kind>(3); }},
            {"activation = 4", ADA_ERR_RANGE, [](F &f) { f.specs[1].act = bad_enum<ada_activation>(4); }},
            {"chain skips a number", ADA_ERR_RANGE, [](F &f) { f.specs[2].chain = 2; }},
            {"chain goes back", ADA_ERR_RANGE, [](F &f) { f.specs[2].chain = 0; f.specs[2].d_in = 3; f.specs[1].chain = 1; f.specs[1].d_in = 6; }},
            {"first module in chain 1", ADA_ERR_RANGE,
             [](F &f) { f.specs[0].chain = 1; f.specs[1].chain = 1; f.specs[2].chain = 2; }},
            {"scale_eps < 0", ADA_ERR_RANGE, [](F &f) { f.cfg.scale_eps = -1e-5; }},
            {"init_std < 0", ADA_ERR_RANGE, [](F &f) { f.cfg.init_std = -0.02; }},
            {"alpha NaN", ADA_ERR_NONFINITE, [](F &f) { f.cfg.alpha = kNaN; }},
            {"scale_eps Inf", ADA_ERR_NONFINITE, [](F &f) { f.cfg.scale_eps = kInf; }},
            {"init_std NaN", ADA_ERR_NONFINITE, [](F &f) { f.cfg.init_std = kNaN; }},
            {"LoRA form", ADA_OK, [](F &f) { f.cfg.form = ADA_FORM_LORA; }},
            {"NULL module name", ADA_OK, [](F &f) { f.specs[1].name = nullptr; }},
        });
}

// A trained-a-little model: parameters, gradients and keep flags all non-trivial.
struct ModelState {
    ada_model *m = nullptr;
    Vec x0, x1, y0, y1;
    std::vector<int32_t> l0, l1;
    const real *xs[2];
    const real *ys[2];
    const int32_t *ls[2];
    ada_batch batch;
    explicit ModelState(ada_loss_kind loss = ADA_LOSS_MSE, int rows = 6) {
        ada_model_config c = model_config(loss);
        REQUIRE(ada_model_create(&m, &c) == ADA_OK);
        x0 = randn_vec(111, (size_t)kMaxBatch * 5);
        x1 = randn_vec(112, (size_t)kMaxBatch * 4);
        y0 = randn_vec(113, (size_t)kMaxBatch * 3);
        y1 = randn_vec(114, (size_t)kMaxBatch * 2);
        l0.assign(kMaxBatch, 1);
        l1.assign(kMaxBatch, 0);
        xs[0] = x0.data(); xs[1] = x1.data();
        ys[0] = y0.data(); ys[1] = y1.data();
        ls[0] = l0.data(); ls[1] = l1.data();
        batch = ada_batch{rows, xs, loss == ADA_LOSS_CROSS_ENTROPY ? nullptr : ys,
                          loss == ADA_LOSS_CROSS_ENTROPY ? ls : nullptr, nullptr};
        // One hand-made SGD step so λ != 0, then a fresh forward and backward.
        double value;
        REQUIRE(ada_model_forward(m, &batch, &value, 1) == ADA_OK);
        REQUIRE(ada_model_backward(m) == ADA_OK);
        for (size_t i = 0; i < m->n_params; i++) m->params[i] -= (real)0.5 * m->grads[i];
        std::memset(m->grads, 0, sizeof(real) * m->n_params);
        REQUIRE(ada_model_forward(m, &batch, &value, 1) == ADA_OK);
        REQUIRE(ada_model_backward(m) == ADA_OK);
        m->keep[1] = 0;  // a masked triplet, as the trainer leaves them
    }
    ~ModelState() { ada_model_free(m); }
    ModelState(const ModelState &) = delete;
    ModelState &operator=(const ModelState &) = delete;
    void watch_model(Watch &w) const {
        w.raw(m->params, sizeof(real) * m->n_params);
        w.raw(m->grads, sizeof(real) * m->n_params);
        w.raw(m->keep, (size_t)m->n_triplets);
        w.obj(m->last_rows);
        for (int k = 0; k < m->n_modules; k++) {
            const ada_module &mod = m->modules[k];
            w.raw(mod.W0, sizeof(real) * mod.d_out * mod.d_in);
            if (mod.bias) w.raw(mod.bias, sizeof(real) * mod.d_out);
        }
        for (const Vec *v : {&x0, &x1, &y0, &y1}) w.vec(*v);
        w.vec(l0);
        w.vec(l1);
    }
    real &lam(int k, int i) { return ada_model_view(m, m->params, k).lam[i]; }
};

struct ModelSetBase : ModelState {
    ada_model *pm;
    int k = 0, ldw = 7;
    Vec W = randn_vec(121, 6 * 7), b = randn_vec(122, 6);
    const real *pW = W.data(), *pb = b.data();
    ModelSetBase() { pm = m; }
    void fill() {}
    void watch(Watch &w) const { watch_model(w); w.vec(W); w.vec(b); }
    ada_status call() { return ada_model_set_base(pm, k, pW, ldw, pb); }
};

TEST_CASE("bad input: ada_model_set_base") {
    using F = ModelSetBase;
    run_cases<F>("ada_model_set_base",
                 {
                     {"m NULL", ADA_ERR_NULL, [](F &f) { f.pm = nullptr; }},
                     {"W0 NULL", ADA_ERR_NULL, [](F &f) { f.pW = nullptr; }},
                     {"k = -1", ADA_ERR_RANGE, [](F &f) { f.k = -1; }},
                     {"k = n_modules", ADA_ERR_RANGE, [](F &f) { f.k = 3; }},
                     {"ldw < d_in", ADA_ERR_DIM, [](F &f) { f.ldw = 4; }},
                     {"bias for a module without one", ADA_ERR_STATE,
                      [](F &f) { f.k = 2; f.ldw = 4; }},
                     {"W0 NaN", ADA_ERR_NONFINITE, [](F &f) { f.W[5 * 7 + 4] = (real)kNaN; }},
                     {"W0 Inf", ADA_ERR_NONFINITE, [](F &f) { f.W[0] = (real)kInf; }},
                     {"bias NaN", ADA_ERR_NONFINITE, [](F &f) { f.b[5] = (real)kNaN; }},
                     {"NaN in the padding of W0 (ignored)", ADA_OK, [](F &f) { f.W[6] = (real)kNaN; }},
                     {"no bias given", ADA_OK, [](F &f) { f.pb = nullptr; }},
                 });
}

struct ModelForward : ModelState {
    ada_model *pm;
    const ada_batch *pbatch = &batch;
    double loss = 0;
    double *ploss = &loss;
    explicit ModelForward(ada_loss_kind kind = ADA_LOSS_MSE) : ModelState(kind) { pm = m; }
    void fill() { sentinel_obj(loss); }
    void watch(Watch &w) const { watch_model(w); w.obj(loss); }
    ada_status call() { return ada_model_forward(pm, pbatch, ploss, 1); }
};
struct ModelForwardCE : ModelForward {
    ModelForwardCE() : ModelForward(ADA_LOSS_CROSS_ENTROPY) {}
};

TEST_CASE("bad input: ada_model_forward") {
    using F = ModelForward;
    run_cases<F>(
        "ada_model_forward",
        {
            {"m NULL", ADA_ERR_NULL, [](F &f) { f.pm = nullptr; }},
            {"batch NULL", ADA_ERR_NULL, [](F &f) { f.pbatch = nullptr; }},
            {"batch.x NULL", ADA_ERR_NULL, [](F &f) { f.batch.x = nullptr; }},
            {"input of chain 1 NULL", ADA_ERR_NULL, [](F &f) { f.xs[1] = nullptr; }},
            {"batch.y NULL", ADA_ERR_NULL, [](F &f) { f.batch.y = nullptr; }},
            {"targets of chain 1 NULL", ADA_ERR_NULL, [](F &f) { f.ys[1] = nullptr; }},
            {"rows = 0", ADA_ERR_DIM, [](F &f) { f.batch.n = 0; }},
            {"rows = -1", ADA_ERR_DIM, [](F &f) { f.batch.n = -1; }},
            {"rows > max_batch", ADA_ERR_DIM, [](F &f) { f.batch.n = kMaxBatch + 1; }},
            {"X of chain 0 NaN", ADA_ERR_NONFINITE, [](F &f) { f.x0[7] = (real)kNaN; }},
            {"X of chain 1 Inf (last used row)", ADA_ERR_NONFINITE,
             [](F &f) { f.x1[5 * 4 + 3] = (real)kInf; }},
            {"targets of chain 0 NaN", ADA_ERR_NONFINITE, [](F &f) { f.y0[4] = (real)kNaN; }},
            {"targets of chain 1 Inf", ADA_ERR_NONFINITE, [](F &f) { f.y1[0] = (real)kInf; }},
            {"lambda NaN", ADA_ERR_NONFINITE, [](F &f) { f.lam(0, 0) = (real)kNaN; }},
            {"lambda Inf (second chain)", ADA_ERR_NONFINITE, [](F &f) { f.lam(2, 1) = (real)kInf; }},
            {"NaN in unused rows (ignored)", ADA_OK,
             [](F &f) { f.x0[7 * 5] = f.y1[7 * 2] = (real)kNaN; }},
            {"no loss: targets not needed", ADA_OK,
             [](F &f) { f.batch.y = nullptr; f.ploss = nullptr; }},
        });
    using C = ModelForwardCE;
    run_cases<C>("ada_model_forward (cross-entropy)",
                 {
                     {"labels NULL", ADA_ERR_NULL, [](C &f) { f.batch.labels = nullptr; }},
                     {"labels of chain 1 NULL", ADA_ERR_NULL, [](C &f) { f.ls[1] = nullptr; }},
                     {"label = -1", ADA_ERR_RANGE, [](C &f) { f.l0[2] = -1; }},
                     {"label = d_out (chain 1)", ADA_ERR_RANGE, [](C &f) { f.l1[5] = 2; }},
                     {"bad label in an unused row (ignored)", ADA_OK, [](C &f) { f.l1[7] = 9; }},
                 });
}

TEST_CASE("bad input: a refused forward leaves the last forward usable by backward") {
    // The backward differentiates "the last forward": a refused forward must not
    // have replaced its activations or its input pointers half-way.
    for (int which = 0; which < 4; which++) {
        CAPTURE(which);
        ModelState s(which < 2 ? ADA_LOSS_MSE : ADA_LOSS_CROSS_ENTROPY);
        std::memset(s.m->grads, 0, sizeof(real) * s.m->n_params);
        REQUIRE(ada_model_backward(s.m) == ADA_OK);
        std::vector<real> want(s.m->grads, s.m->grads + s.m->n_params);
        // A different batch whose targets are bad.
        Vec x0 = randn_vec(201, (size_t)kMaxBatch * 5), x1 = randn_vec(202, (size_t)kMaxBatch * 4);
        Vec y0 = s.y0, y1 = s.y1;
        std::vector<int32_t> l0 = s.l0, l1 = s.l1;
        switch (which) {
        case 0: y0[3] = (real)kNaN; break;
        case 1: y1[1] = (real)kNaN; break;
        case 2: l0[0] = 7; break;
        case 3: l1[2] = -1; break;
        }
        const real *xs[2] = {x0.data(), x1.data()}, *ys[2] = {y0.data(), y1.data()};
        const int32_t *ls[2] = {l0.data(), l1.data()};
        ada_batch bad = {5, xs, which < 2 ? ys : nullptr, which < 2 ? nullptr : ls, nullptr};
        double loss = 123;
        ada_status st = ada_model_forward(s.m, &bad, &loss, 1);
        CHECK(st == (which < 2 ? ADA_ERR_NONFINITE : ADA_ERR_RANGE));
        CHECK(loss == 123);
        std::memset(s.m->grads, 0, sizeof(real) * s.m->n_params);
        REQUIRE(ada_model_backward(s.m) == ADA_OK);
        CHECK(std::memcmp(s.m->grads, want.data(), sizeof(real) * want.size()) == 0);
    }
}

struct ModelBackward : ModelState {
    ada_model *pm, *fresh = nullptr;
    ModelBackward() {
        pm = m;
        ada_model_config c = model_config();
        REQUIRE(ada_model_create(&fresh, &c) == ADA_OK);
    }
    ~ModelBackward() { ada_model_free(fresh); }
    void fill() {}
    void watch(Watch &w) const {
        watch_model(w);
        w.raw(fresh->params, sizeof(real) * fresh->n_params);
        w.raw(fresh->grads, sizeof(real) * fresh->n_params);
    }
    ada_status call() { return ada_model_backward(pm); }
};

TEST_CASE("bad input: ada_model_backward") {
    using F = ModelBackward;
    run_cases<F>("ada_model_backward",
                 {
                     {"m NULL", ADA_ERR_NULL, [](F &f) { f.pm = nullptr; }},
                     {"no forward yet", ADA_ERR_STATE, [](F &f) { f.pm = f.fresh; }},
                 });
}

struct ModelOrth : ModelState {
    ada_model *pm;
    double raw = 0;
    double *praw = &raw;
    ada_orth_norm norm = ADA_ORTH_SQUARED;
    real weight = (real)0.1;
    ModelOrth() { pm = m; }
    void fill() { sentinel_obj(raw); }
    void watch(Watch &w) const { watch_model(w); w.obj(raw); }
    ada_status call() { return ada_model_orth(pm, praw, norm, weight); }
};

TEST_CASE("bad input: ada_model_orth") {
    using F = ModelOrth;
    run_cases<F>("ada_model_orth",
                 {
                     {"m NULL", ADA_ERR_NULL, [](F &f) { f.pm = nullptr; }},
                     {"raw NULL", ADA_ERR_NULL, [](F &f) { f.praw = nullptr; }},
                     {"norm = 2", ADA_ERR_RANGE, [](F &f) { f.norm = bad_enum<ada_orth_norm>(2); }},
                     {"weight NaN", ADA_ERR_NONFINITE, [](F &f) { f.weight = (real)kNaN; }},
                     {"weight Inf", ADA_ERR_NONFINITE, [](F &f) { f.weight = (real)-kInf; }},
                     {"Q of the last module NaN", ADA_ERR_NONFINITE,
                      [](F &f) { f.m->params[f.m->n_params - 1] = (real)kNaN; }},
                     {"lambda NaN", ADA_ERR_NONFINITE, [](F &f) { f.lam(1, 0) = (real)kNaN; }},
                     {"weight 0: value only", ADA_OK, [](F &f) { f.weight = 0; }},
                 });
}

// ================================================================ trainer

ada_train_config train_config() {
    ada_train_config c = ada_train_defaults();
    c.schedule.b0 = 6;
    c.schedule.bT = 3;
    c.schedule.t_init = 2;
    c.schedule.t_final = 2;
    c.schedule.total = 10;
    return c;
}

struct TrainerCreate {
    ada_model *m = nullptr, *lora = nullptr;
    ada_train_config cfg = train_config();
    const ada_train_config *pcfg = &cfg;
    ada_model *pm;
    ada_trainer *sentinel_tr = reinterpret_cast<ada_trainer *>(&cfg);  // never dereferenced
    ada_trainer *out = sentinel_tr;
    ada_trainer **pout = &out;
    TrainerCreate() {
        ada_model_config c = model_config();
        REQUIRE(ada_model_create(&m, &c) == ADA_OK);
        c.form = ADA_FORM_LORA;
        REQUIRE(ada_model_create(&lora, &c) == ADA_OK);
        pm = m;
    }
    ~TrainerCreate() {
        if (out != sentinel_tr) ada_trainer_free(out);
        ada_model_free(m);
        ada_model_free(lora);
    }
    void fill() {}
    void watch(Watch &w) const {
        w.obj(cfg);
        w.obj(out);
        for (ada_model *x : {m, lora}) {
            w.raw(x->params, sizeof(real) * x->n_params);
            w.raw(x->grads, sizeof(real) * x->n_params);
            w.raw(x->keep, (size_t)x->n_triplets);
        }
    }
    ada_status call() { return ada_trainer_create(pout, pm, pcfg); }
};

TEST_CASE("bad input: ada_trainer_create") {
    using F = TrainerCreate;
    std::vector<Case<F>> c = {
        {"out NULL", ADA_ERR_NULL, [](F &f) { f.pout = nullptr; }},
        {"model NULL", ADA_ERR_NULL, [](F &f) { f.pm = nullptr; }},
        {"cfg NULL", ADA_ERR_NULL, [](F &f) { f.pcfg = nullptr; }},
        {"clip < 0", ADA_ERR_RANGE, [](F &f) { f.cfg.clip = -1; }},
        {"clip NaN", ADA_ERR_NONFINITE, [](F &f) { f.cfg.clip = kNaN; }},
        {"clip Inf", ADA_ERR_NONFINITE, [](F &f) { f.cfg.clip = kInf; }},
        {"gamma < 0", ADA_ERR_RANGE, [](F &f) { f.cfg.gamma = -0.1; }},
        {"gamma NaN", ADA_ERR_NONFINITE, [](F &f) { f.cfg.gamma = kNaN; }},
        {"orth_norm = 2", ADA_ERR_RANGE, [](F &f) { f.cfg.orth_norm = bad_enum<ada_orth_norm>(2); }},
        {"orth_reduce = 2", ADA_ERR_RANGE, [](F &f) { f.cfg.orth_reduce = bad_enum<ada_orth_reduce>(2); }},
        {"importance = 3", ADA_ERR_RANGE,
         [](F &f) { f.cfg.importance = bad_enum<ada_importance_kind>(3); }},
        {"importance = magnitude on a LoRA model", ADA_ERR_RANGE,
         [](F &f) { f.cfg.importance = ADA_IMPORTANCE_MAGNITUDE; f.pm = f.lora; }},
        {"sens_weights = 2", ADA_ERR_RANGE,
         [](F &f) { f.cfg.sens_weights = bad_enum<ada_sens_weights>(2); }},
        {"ties = 2", ADA_ERR_RANGE, [](F &f) { f.cfg.ties = bad_enum<ada_ties>(2); }},
        {"beta1 = 0", ADA_ERR_RANGE, [](F &f) { f.cfg.beta1 = 0; }},
        {"beta1 = 1", ADA_ERR_RANGE, [](F &f) { f.cfg.beta1 = 1; }},
        {"beta2 = 1.2", ADA_ERR_RANGE, [](F &f) { f.cfg.beta2 = 1.2; }},
        {"beta2 = -0.5", ADA_ERR_RANGE, [](F &f) { f.cfg.beta2 = -0.5; }},
        {"beta1 NaN", ADA_ERR_NONFINITE, [](F &f) { f.cfg.beta1 = kNaN; }},
        {"beta2 Inf", ADA_ERR_NONFINITE, [](F &f) { f.cfg.beta2 = kInf; }},
        {"b0 > n*r0", ADA_ERR_RANGE, [](F &f) { f.cfg.schedule.b0 = 7; }},
        {"schedule unset (T = 0)", ADA_ERR_RANGE, [](F &f) { f.cfg.schedule = ada_train_defaults().schedule; }},
        {"adamw eps = 0", ADA_ERR_RANGE, [](F &f) { f.cfg.opt.eps = 0; }},
        {"LoRA model", ADA_OK, [](F &f) { f.pm = f.lora; }},
        {"fixed rank, everything else default", ADA_OK, [](F &f) { f.cfg.prune = 0; }},
        {"b0 = bT = n*r0", ADA_OK, [](F &f) { f.cfg.schedule.b0 = f.cfg.schedule.bT = 6; }},
    };
    for (const SchedMutation &m : kBadSchedules) {
        auto fn = m.mutate;
        c.push_back({m.what, m.want, [fn](F &f) { fn(f.cfg.schedule); }});
    }
    for (const OptMutation &m : kBadOptimizers) {
        auto fn = m.mutate;
        c.push_back({m.what, m.want, [fn](F &f) { fn(f.cfg.opt); }});
    }
    run_cases("ada_trainer_create", c);
}

// A trainer three steps into its run.
struct TrainerStep : ModelState {
    ada_trainer *tr = nullptr, *ptr;
    ada_step_info info;
    ada_step_info *pinfo = &info;
    const ada_batch *pbatch = &batch;
    TrainerStep() {
        ada_train_config c = train_config();
        c.clip = 1.0;
        REQUIRE(ada_trainer_create(&tr, m, &c) == ADA_OK);
        for (int t = 0; t < 3; t++) REQUIRE(ada_trainer_step(tr, &batch, &info) == ADA_OK);
        ptr = tr;
    }
    ~TrainerStep() { ada_trainer_free(tr); }
    void run_to_end() {
        while (tr->completed < tr->config.schedule.total)
            REQUIRE(ada_trainer_step(tr, &batch, &info) == ADA_OK);
    }
    void fill() { sentinel_obj(info); }
    void watch(Watch &w) const {
        watch_model(w);
        for (real *a : {tr->m1, tr->m2, tr->ibar, tr->ubar})
            w.raw(a, sizeof(real) * m->n_params);
        w.raw(tr->scores, sizeof(real) * m->n_triplets);
        w.obj(tr->completed);
        w.obj(info);
    }
    ada_status call() { return ada_trainer_step(ptr, pbatch, pinfo); }
};

TEST_CASE("bad input: ada_trainer_step") {
    using F = TrainerStep;
    run_cases<F>(
        "ada_trainer_step",
        {
            {"trainer NULL", ADA_ERR_NULL, [](F &f) { f.ptr = nullptr; }},
            {"batch NULL", ADA_ERR_NULL, [](F &f) { f.pbatch = nullptr; }},
            {"info NULL", ADA_ERR_NULL, [](F &f) { f.pinfo = nullptr; }},
            {"batch.x NULL", ADA_ERR_NULL, [](F &f) { f.batch.x = nullptr; }},
            {"input of chain 1 NULL", ADA_ERR_NULL, [](F &f) { f.xs[1] = nullptr; }},
            {"targets NULL", ADA_ERR_NULL, [](F &f) { f.batch.y = nullptr; }},
            {"targets of chain 0 NULL", ADA_ERR_NULL, [](F &f) { f.ys[0] = nullptr; }},
            {"rows = 0", ADA_ERR_DIM, [](F &f) { f.batch.n = 0; }},
            {"rows > max_batch", ADA_ERR_DIM, [](F &f) { f.batch.n = kMaxBatch + 1; }},
            {"X NaN", ADA_ERR_NONFINITE, [](F &f) { f.x0[0] = (real)kNaN; }},
            {"X of chain 1 Inf", ADA_ERR_NONFINITE, [](F &f) { f.x1[9] = (real)-kInf; }},
            {"targets NaN", ADA_ERR_NONFINITE, [](F &f) { f.y0[2] = (real)kNaN; }},
            {"targets of chain 1 Inf", ADA_ERR_NONFINITE, [](F &f) { f.y1[3] = (real)kInf; }},
            {"lambda NaN", ADA_ERR_NONFINITE, [](F &f) { f.lam(1, 1) = (real)kNaN; }},
            {"past schedule.total", ADA_ERR_STATE, [](F &f) { f.run_to_end(); }},
        });
}

TEST_CASE("bad input: trainer parts and scores refuse NULL") {
    ada_step_info info;
    ada_batch b = {1, nullptr, nullptr, nullptr, nullptr};
    std::string marker = set_marker();
    CHECK(ada_trainer_gradients(nullptr, &b, &info) == ADA_ERR_NULL);
    CHECK(std::string(ada_last_error()) != marker);
    marker = set_marker();
    CHECK(ada_trainer_update(nullptr, &info) == ADA_ERR_NULL);
    CHECK(std::string(ada_last_error()) != marker);
    marker = set_marker();
    CHECK(ada_trainer_allocate(nullptr, &info) == ADA_ERR_NULL);
    CHECK(std::string(ada_last_error()) != marker);
    marker = set_marker();
    CHECK(ada_trainer_scores(nullptr) == ADA_ERR_NULL);
    CHECK(std::string(ada_last_error()) != marker);
    ada_trainer_free(nullptr);  // no-op
    ada_model_free(nullptr);
    TrainerStep s;
    marker = set_marker();
    CHECK(ada_trainer_update(s.tr, nullptr) == ADA_ERR_NULL);
    CHECK(std::string(ada_last_error()) != marker);
    marker = set_marker();
    CHECK(ada_trainer_allocate(s.tr, nullptr) == ADA_ERR_NULL);
    CHECK(std::string(ada_last_error()) != marker);
    marker = set_marker();
    CHECK(ada_trainer_gradients(s.tr, nullptr, &info) == ADA_ERR_NULL);
    CHECK(std::string(ada_last_error()) != marker);
}

// ================================================================ encoder ops

// N = 3 rows, d2 = 4 inputs, d1 = 5 outputs; every ld padded.
struct LinearForward {
    Vec X = randn_vec(201, 3 * 6), W = randn_vec(202, 5 * 5), b = randn_vec(203, 5), Y = Vec(3 * 7);
    ada_cmat x = ada_cmat_of(X.data(), 3, 4, 6), w = ada_cmat_of(W.data(), 5, 4, 5);
    ada_mat y = ada_mat_of(Y.data(), 3, 5, 7);
    const real *pb = b.data();
    void fill() { sentinel(Y); }
    void watch(Watch &wt) const { wt.vec(X); wt.vec(W); wt.vec(b); wt.vec(Y); }
    ada_status call() { return ada_linear_forward(y, x, w, pb); }
};

TEST_CASE("bad input: ada_linear_forward") {
    using F = LinearForward;
    run_cases<F>("ada_linear_forward",
                 {
                     {"y NULL", ADA_ERR_NULL, [](F &f) { f.y.data = nullptr; }},
                     {"x NULL", ADA_ERR_NULL, [](F &f) { f.x.data = nullptr; }},
                     {"W NULL", ADA_ERR_NULL, [](F &f) { f.w.data = nullptr; }},
                     {"N = 0", ADA_ERR_DIM, [](F &f) { f.x.rows = 0; }},
                     {"d2 = 0", ADA_ERR_DIM, [](F &f) { f.x.cols = 0; }},
                     {"d1 = -1", ADA_ERR_DIM, [](F &f) { f.w.rows = -1; }},
                     {"W.cols != d2", ADA_ERR_DIM, [](F &f) { f.w.cols = 3; }},
                     {"y.rows != N", ADA_ERR_DIM, [](F &f) { f.y.rows = 2; }},
                     {"y.cols != d1", ADA_ERR_DIM, [](F &f) { f.y.cols = 4; }},
                     {"x.ld < d2", ADA_ERR_DIM, [](F &f) { f.x.ld = 3; }},
                     {"W.ld < d2", ADA_ERR_DIM, [](F &f) { f.w.ld = 3; }},
                     {"y.ld < d1", ADA_ERR_DIM, [](F &f) { f.y.ld = 4; }},
                     {"x NaN", ADA_ERR_NONFINITE, [](F &f) { f.X[7] = (real)kNaN; }},
                     {"x Inf", ADA_ERR_NONFINITE, [](F &f) { f.X[2 * 6 + 3] = (real)kInf; }},
                     {"NaN in the padding of x (ignored)", ADA_OK, [](F &f) { f.X[4] = (real)kNaN; }},
                     {"b NULL (no bias)", ADA_OK, [](F &f) { f.pb = nullptr; }},
                 });
}

struct LinearBackward {
    Vec X = randn_vec(211, 3 * 6), W = randn_vec(212, 5 * 5), dY = randn_vec(213, 3 * 7), dX = Vec(3 * 6),
        dW = Vec(5 * 6), db = Vec(5);
    ada_cmat x = ada_cmat_of(X.data(), 3, 4, 6), w = ada_cmat_of(W.data(), 5, 4, 5),
             dy = ada_cmat_of(dY.data(), 3, 5, 7);
    ada_mat dx = ada_mat_of(dX.data(), 3, 4, 6), dw = ada_mat_of(dW.data(), 5, 4, 6);
    real *pdb = db.data();
    void fill() { sentinel(dX); sentinel(dW); sentinel(db); }
    void watch(Watch &wt) const { wt.vec(X); wt.vec(W); wt.vec(dY); wt.vec(dX); wt.vec(dW); wt.vec(db); }
    ada_status call() { return ada_linear_backward(dx, dw, pdb, dy, x, w); }
};

TEST_CASE("bad input: ada_linear_backward") {
    using F = LinearBackward;
    run_cases<F>("ada_linear_backward",
                 {
                     {"dy NULL", ADA_ERR_NULL, [](F &f) { f.dy.data = nullptr; }},
                     {"x NULL", ADA_ERR_NULL, [](F &f) { f.x.data = nullptr; }},
                     {"W NULL", ADA_ERR_NULL, [](F &f) { f.w.data = nullptr; }},
                     {"N = 0", ADA_ERR_DIM, [](F &f) { f.x.rows = 0; }},
                     {"dy.rows != N", ADA_ERR_DIM, [](F &f) { f.dy.rows = 4; }},
                     {"dy.cols != d1", ADA_ERR_DIM, [](F &f) { f.dy.cols = 6; }},
                     {"dx.cols != d2", ADA_ERR_DIM, [](F &f) { f.dx.cols = 5; }},
                     {"dW.rows != d1", ADA_ERR_DIM, [](F &f) { f.dw.rows = 4; }},
                     {"dx.ld < d2", ADA_ERR_DIM, [](F &f) { f.dx.ld = 3; }},
                     {"dW.ld < d2", ADA_ERR_DIM, [](F &f) { f.dw.ld = 2; }},
                     {"dy.ld < d1", ADA_ERR_DIM, [](F &f) { f.dy.ld = 4; }},
                     {"dy NaN", ADA_ERR_NONFINITE, [](F &f) { f.dY[8] = (real)kNaN; }},
                     {"dx NULL (no input gradient), its shape unchecked", ADA_OK,
                      [](F &f) { f.dx = ada_mat_of(nullptr, 0, 0, 0); }},
                     {"dW NULL (W frozen), its shape unchecked", ADA_OK,
                      [](F &f) { f.dw = ada_mat_of(nullptr, 0, 0, 0); }},
                     {"db NULL (b frozen or none)", ADA_OK, [](F &f) { f.pdb = nullptr; }},
                 });
}

// N = 3 rows, C = 4 columns.
struct LayerNormForward {
    Vec X = randn_vec(221, 3 * 6), Y = Vec(3 * 5), mean = Vec(3), rstd = Vec(3), gamma = randn_vec(222, 4),
        beta = randn_vec(223, 4);
    ada_cmat x = ada_cmat_of(X.data(), 3, 4, 6);
    ada_mat y = ada_mat_of(Y.data(), 3, 4, 5);
    real *pmean = mean.data(), *prstd = rstd.data();
    const real *pgamma = gamma.data(), *pbeta = beta.data();
    double eps = 1e-12;
    void fill() { sentinel(Y); sentinel(mean); sentinel(rstd); }
    void watch(Watch &wt) const {
        for (const Vec *v : {&X, &Y, &mean, &rstd, &gamma, &beta}) wt.vec(*v);
    }
    ada_status call() { return ada_layernorm_forward(y, pmean, prstd, x, pgamma, pbeta, eps); }
};

TEST_CASE("bad input: ada_layernorm_forward") {
    using F = LayerNormForward;
    run_cases<F>("ada_layernorm_forward",
                 {
                     {"y NULL", ADA_ERR_NULL, [](F &f) { f.y.data = nullptr; }},
                     {"mean NULL", ADA_ERR_NULL, [](F &f) { f.pmean = nullptr; }},
                     {"rstd NULL", ADA_ERR_NULL, [](F &f) { f.prstd = nullptr; }},
                     {"x NULL", ADA_ERR_NULL, [](F &f) { f.x.data = nullptr; }},
                     {"gamma NULL", ADA_ERR_NULL, [](F &f) { f.pgamma = nullptr; }},
                     {"beta NULL", ADA_ERR_NULL, [](F &f) { f.pbeta = nullptr; }},
                     {"N = 0", ADA_ERR_DIM, [](F &f) { f.x.rows = 0; }},
                     {"C = 0", ADA_ERR_DIM, [](F &f) { f.x.cols = 0; }},
                     {"y.rows != N", ADA_ERR_DIM, [](F &f) { f.y.rows = 2; }},
                     {"y.cols != C", ADA_ERR_DIM, [](F &f) { f.y.cols = 5; }},
                     {"x.ld < C", ADA_ERR_DIM, [](F &f) { f.x.ld = 3; }},
                     {"y.ld < C", ADA_ERR_DIM, [](F &f) { f.y.ld = 2; }},
                     {"y is x", ADA_ERR_RANGE, [](F &f) { f.y = ada_mat_of(f.X.data(), 3, 4, 6); }},
                     {"eps = 0", ADA_ERR_RANGE, [](F &f) { f.eps = 0; }},
                     {"eps = -1e-5", ADA_ERR_RANGE, [](F &f) { f.eps = -1e-5; }},
                     {"eps NaN", ADA_ERR_RANGE, [](F &f) { f.eps = kNaN; }},
                     {"eps Inf", ADA_ERR_RANGE, [](F &f) { f.eps = kInf; }},
                     {"x NaN", ADA_ERR_NONFINITE, [](F &f) { f.X[6 + 1] = (real)kNaN; }},
                     {"x -Inf (last entry)", ADA_ERR_NONFINITE, [](F &f) { f.X[2 * 6 + 3] = (real)-kInf; }},
                     {"NaN in the padding of x (ignored)", ADA_OK, [](F &f) { f.X[5] = (real)kNaN; }},
                 });
}

struct LayerNormBackward {
    Vec X = randn_vec(231, 3 * 6), dY = randn_vec(232, 3 * 5), dX = Vec(3 * 4), gamma = randn_vec(233, 4),
        mean = randn_vec(234, 3), rstd = Vec(3, (real)1.5), dgamma = Vec(4), dbeta = Vec(4);
    ada_cmat x = ada_cmat_of(X.data(), 3, 4, 6), dy = ada_cmat_of(dY.data(), 3, 4, 5);
    ada_mat dx = ada_mat_of(dX.data(), 3, 4, 4);
    real *pdgamma = dgamma.data(), *pdbeta = dbeta.data();
    const real *pgamma = gamma.data(), *pmean = mean.data(), *prstd = rstd.data();
    void fill() { sentinel(dX); sentinel(dgamma); sentinel(dbeta); }
    void watch(Watch &wt) const {
        for (const Vec *v : {&X, &dY, &dX, &gamma, &mean, &rstd, &dgamma, &dbeta}) wt.vec(*v);
    }
    ada_status call() { return ada_layernorm_backward(dx, pdgamma, pdbeta, dy, x, pgamma, pmean, prstd); }
};

TEST_CASE("bad input: ada_layernorm_backward") {
    using F = LayerNormBackward;
    run_cases<F>("ada_layernorm_backward",
                 {
                     {"dx NULL", ADA_ERR_NULL, [](F &f) { f.dx.data = nullptr; }},
                     {"dy NULL", ADA_ERR_NULL, [](F &f) { f.dy.data = nullptr; }},
                     {"x NULL", ADA_ERR_NULL, [](F &f) { f.x.data = nullptr; }},
                     {"gamma NULL", ADA_ERR_NULL, [](F &f) { f.pgamma = nullptr; }},
                     {"mean NULL", ADA_ERR_NULL, [](F &f) { f.pmean = nullptr; }},
                     {"rstd NULL", ADA_ERR_NULL, [](F &f) { f.prstd = nullptr; }},
                     {"N = -2", ADA_ERR_DIM, [](F &f) { f.x.rows = -2; }},
                     {"dy.rows != N", ADA_ERR_DIM, [](F &f) { f.dy.rows = 2; }},
                     {"dx.cols != C", ADA_ERR_DIM, [](F &f) { f.dx.cols = 3; }},
                     {"dy.ld < C", ADA_ERR_DIM, [](F &f) { f.dy.ld = 3; }},
                     {"dx.ld < C", ADA_ERR_DIM, [](F &f) { f.dx.ld = 3; }},
                     {"dy Inf", ADA_ERR_NONFINITE, [](F &f) { f.dY[5] = (real)kInf; }},
                     {"dgamma and dbeta NULL (frozen)", ADA_OK, [](F &f) { f.pdgamma = f.pdbeta = nullptr; }},
                 });
}

// B = 2 sequences, T = 3 tokens, H = 2 heads of D = 2: (B·T) x C = 6 x 4 views.
struct AttentionForward {
    Vec Qb = randn_vec(241, 6 * 5), Kb = randn_vec(242, 6 * 6), Vb = randn_vec(243, 6 * 4), Out = Vec(6 * 7),
        att = Vec(2 * 2 * 3 * 3);
    std::vector<uint8_t> mask = {1, 1, 0, 1, 0, 0};
    ada_cmat q = ada_cmat_of(Qb.data(), 6, 4, 5), k = ada_cmat_of(Kb.data(), 6, 4, 6), v = ada_cmat_of(Vb.data(), 6, 4, 4);
    ada_mat out = ada_mat_of(Out.data(), 6, 4, 7);
    real *patt = att.data();
    const uint8_t *pmask = mask.data();
    int B = 2, T = 3, H = 2;
    void fill() { sentinel(Out); sentinel(att); }
    void watch(Watch &wt) const {
        for (const Vec *x : {&Qb, &Kb, &Vb, &Out, &att}) wt.vec(*x);
        wt.vec(mask);
    }
    ada_status call() { return ada_attention_forward(out, patt, q, k, v, pmask, B, T, H); }
};

TEST_CASE("bad input: ada_attention_forward") {
    using F = AttentionForward;
    run_cases<F>("ada_attention_forward",
                 {
                     {"out NULL", ADA_ERR_NULL, [](F &f) { f.out.data = nullptr; }},
                     {"att NULL", ADA_ERR_NULL, [](F &f) { f.patt = nullptr; }},
                     {"q NULL", ADA_ERR_NULL, [](F &f) { f.q.data = nullptr; }},
                     {"k NULL", ADA_ERR_NULL, [](F &f) { f.k.data = nullptr; }},
                     {"v NULL", ADA_ERR_NULL, [](F &f) { f.v.data = nullptr; }},
                     {"B = 0", ADA_ERR_DIM, [](F &f) { f.B = 0; }},
                     {"T = -1", ADA_ERR_DIM, [](F &f) { f.T = -1; }},
                     {"H = 0", ADA_ERR_DIM, [](F &f) { f.H = 0; }},
                     {"B·T overflows int", ADA_ERR_DIM, [](F &f) { f.B = 1 << 30; }},
                     {"H = 3 does not divide C = 4", ADA_ERR_DIM, [](F &f) { f.H = 3; }},
                     {"B·T != q.rows", ADA_ERR_DIM, [](F &f) { f.T = 2; }},
                     {"k.cols != C", ADA_ERR_DIM, [](F &f) { f.k.cols = 2; }},
                     {"v.rows != B·T", ADA_ERR_DIM, [](F &f) { f.v.rows = 5; }},
                     {"out.cols != C", ADA_ERR_DIM, [](F &f) { f.out.cols = 6; }},
                     {"q.ld < C", ADA_ERR_DIM, [](F &f) { f.q.ld = 3; }},
                     {"k.ld < C", ADA_ERR_DIM, [](F &f) { f.k.ld = 3; }},
                     {"v.ld < C", ADA_ERR_DIM, [](F &f) { f.v.ld = 2; }},
                     {"out.ld < C", ADA_ERR_DIM, [](F &f) { f.out.ld = 3; }},
                     {"key_mask = 2", ADA_ERR_RANGE, [](F &f) { f.mask[4] = 2; }},
                     {"a sequence all padding", ADA_ERR_RANGE, [](F &f) { f.mask[3] = 0; }},
                     {"q NaN", ADA_ERR_NONFINITE, [](F &f) { f.Qb[5 + 2] = (real)kNaN; }},
                     {"k Inf", ADA_ERR_NONFINITE, [](F &f) { f.Kb[5 * 6 + 3] = (real)kInf; }},
                     {"v NaN", ADA_ERR_NONFINITE, [](F &f) { f.Vb[0] = (real)kNaN; }},
                     {"NaN in the padding of q (ignored)", ADA_OK, [](F &f) { f.Qb[4] = (real)kNaN; }},
                     {"key_mask NULL (every token real)", ADA_OK, [](F &f) { f.pmask = nullptr; }},
                 });
}

struct AttentionBackward {
    Vec Qb = randn_vec(251, 6 * 5), Kb = randn_vec(252, 6 * 4), Vb = randn_vec(253, 6 * 6), dOut = randn_vec(254, 6 * 4),
        dQ = Vec(6 * 4), dK = Vec(6 * 5), dV = Vec(6 * 6), att = Vec(2 * 2 * 3 * 3, (real)(1.0 / 3)), datt = Vec(3 * 3);
    ada_cmat q = ada_cmat_of(Qb.data(), 6, 4, 5), k = ada_cmat_of(Kb.data(), 6, 4, 4), v = ada_cmat_of(Vb.data(), 6, 4, 6),
             dout = ada_cmat_of(dOut.data(), 6, 4, 4);
    ada_mat dq = ada_mat_of(dQ.data(), 6, 4, 4), dk = ada_mat_of(dK.data(), 6, 4, 5), dv = ada_mat_of(dV.data(), 6, 4, 6);
    const real *patt = att.data();
    real *pdatt = datt.data();
    int B = 2, T = 3, H = 2;
    void fill() { sentinel(dQ); sentinel(dK); sentinel(dV); sentinel(datt); }
    void watch(Watch &wt) const {
        for (const Vec *x : {&Qb, &Kb, &Vb, &dOut, &dQ, &dK, &dV, &att, &datt}) wt.vec(*x);
    }
    ada_status call() { return ada_attention_backward(dq, dk, dv, pdatt, dout, q, k, v, patt, B, T, H); }
};

TEST_CASE("bad input: ada_attention_backward") {
    using F = AttentionBackward;
    run_cases<F>("ada_attention_backward",
                 {
                     {"dq NULL", ADA_ERR_NULL, [](F &f) { f.dq.data = nullptr; }},
                     {"dk NULL", ADA_ERR_NULL, [](F &f) { f.dk.data = nullptr; }},
                     {"dv NULL", ADA_ERR_NULL, [](F &f) { f.dv.data = nullptr; }},
                     {"datt NULL", ADA_ERR_NULL, [](F &f) { f.pdatt = nullptr; }},
                     {"dout NULL", ADA_ERR_NULL, [](F &f) { f.dout.data = nullptr; }},
                     {"q NULL", ADA_ERR_NULL, [](F &f) { f.q.data = nullptr; }},
                     {"att NULL", ADA_ERR_NULL, [](F &f) { f.patt = nullptr; }},
                     {"H = 3 does not divide C = 4", ADA_ERR_DIM, [](F &f) { f.H = 3; }},
                     {"B = 3: B·T != q.rows", ADA_ERR_DIM, [](F &f) { f.B = 3; }},
                     {"dout.rows != B·T", ADA_ERR_DIM, [](F &f) { f.dout.rows = 7; }},
                     {"dk.cols != C", ADA_ERR_DIM, [](F &f) { f.dk.cols = 3; }},
                     {"dq.ld < C", ADA_ERR_DIM, [](F &f) { f.dq.ld = 3; }},
                     {"dv.ld < C", ADA_ERR_DIM, [](F &f) { f.dv.ld = 1; }},
                     {"dout.ld < C", ADA_ERR_DIM, [](F &f) { f.dout.ld = 2; }},
                     {"dout NaN", ADA_ERR_NONFINITE, [](F &f) { f.dOut[9] = (real)kNaN; }},
                 });
}

// B = 2 sequences, T = 3 tokens, C = 4; V = 5 words, P = 4 positions, Y = 2 types.
struct EmbeddingForward {
    Vec Word = randn_vec(261, 5 * 6), Pos = randn_vec(262, 4 * 4), Type = randn_vec(263, 2 * 5), Out = Vec(6 * 5);
    std::vector<int32_t> ids = {0, 4, 2, 2, 1, 3}, type_ids = {0, 0, 1, 1, 1, 0};
    ada_cmat word = ada_cmat_of(Word.data(), 5, 4, 6), pos = ada_cmat_of(Pos.data(), 4, 4, 4),
             type = ada_cmat_of(Type.data(), 2, 4, 5);
    ada_mat out = ada_mat_of(Out.data(), 6, 4, 5);
    const int32_t *pids = ids.data(), *ptypes = type_ids.data();
    int B = 2, T = 3;
    void fill() { sentinel(Out); }
    void watch(Watch &wt) const {
        for (const Vec *x : {&Word, &Pos, &Type, &Out}) wt.vec(*x);
        wt.vec(ids);
        wt.vec(type_ids);
    }
    ada_status call() { return ada_embedding_forward(out, pids, ptypes, B, T, word, pos, type); }
};

TEST_CASE("bad input: ada_embedding_forward") {
    using F = EmbeddingForward;
    run_cases<F>("ada_embedding_forward",
                 {
                     {"out NULL", ADA_ERR_NULL, [](F &f) { f.out.data = nullptr; }},
                     {"ids NULL", ADA_ERR_NULL, [](F &f) { f.pids = nullptr; }},
                     {"word NULL", ADA_ERR_NULL, [](F &f) { f.word.data = nullptr; }},
                     {"pos NULL", ADA_ERR_NULL, [](F &f) { f.pos.data = nullptr; }},
                     {"type NULL", ADA_ERR_NULL, [](F &f) { f.type.data = nullptr; }},
                     {"B = 0", ADA_ERR_DIM, [](F &f) { f.B = 0; }},
                     {"T = 0", ADA_ERR_DIM, [](F &f) { f.T = 0; }},
                     {"B·T overflows int", ADA_ERR_DIM, [](F &f) { f.B = 1 << 30; }},
                     {"C = 0", ADA_ERR_DIM, [](F &f) { f.word.cols = 0; }},
                     {"T > P", ADA_ERR_DIM, [](F &f) { f.B = 1, f.T = 6, f.pos.rows = 4; }},
                     {"V = 0", ADA_ERR_DIM, [](F &f) { f.word.rows = 0; }},
                     {"pos.cols != C", ADA_ERR_DIM, [](F &f) { f.pos.cols = 3; }},
                     {"type.cols != C", ADA_ERR_DIM, [](F &f) { f.type.cols = 5; }},
                     {"out.rows != B·T", ADA_ERR_DIM, [](F &f) { f.out.rows = 5; }},
                     {"word.ld < C", ADA_ERR_DIM, [](F &f) { f.word.ld = 3; }},
                     {"pos.ld < C", ADA_ERR_DIM, [](F &f) { f.pos.ld = 3; }},
                     {"out.ld < C", ADA_ERR_DIM, [](F &f) { f.out.ld = 3; }},
                     {"ids = -1", ADA_ERR_RANGE, [](F &f) { f.ids[3] = -1; }},
                     {"ids = V", ADA_ERR_RANGE, [](F &f) { f.ids[5] = 5; }},
                     {"type_ids = Y", ADA_ERR_RANGE, [](F &f) { f.type_ids[1] = 2; }},
                     {"type_ids NULL (all 0)", ADA_OK, [](F &f) { f.ptypes = nullptr; }},
                 });
}

struct EmbeddingBackward {
    Vec dOut = randn_vec(271, 6 * 5), dWord = Vec(5 * 6), dPos = Vec(4 * 4), dType = Vec(2 * 5);
    std::vector<int32_t> ids = {0, 4, 2, 2, 1, 3}, type_ids = {0, 0, 1, 1, 1, 0};
    ada_cmat dout = ada_cmat_of(dOut.data(), 6, 4, 5);
    ada_mat dword = ada_mat_of(dWord.data(), 5, 4, 6), dpos = ada_mat_of(dPos.data(), 4, 4, 4),
            dtype = ada_mat_of(dType.data(), 2, 4, 5);
    const int32_t *pids = ids.data(), *ptypes = type_ids.data();
    int B = 2, T = 3;
    void fill() { sentinel(dWord); sentinel(dPos); sentinel(dType); }
    void watch(Watch &wt) const {
        for (const Vec *x : {&dOut, &dWord, &dPos, &dType}) wt.vec(*x);
        wt.vec(ids);
        wt.vec(type_ids);
    }
    ada_status call() { return ada_embedding_backward(dword, dpos, dtype, dout, pids, ptypes, B, T); }
};

TEST_CASE("bad input: ada_embedding_backward") {
    using F = EmbeddingBackward;
    const ada_mat frozen = ada_mat_of(nullptr, 0, 0, 0);
    run_cases<F>("ada_embedding_backward",
                 {
                     {"dout NULL", ADA_ERR_NULL, [](F &f) { f.dout.data = nullptr; }},
                     {"ids NULL", ADA_ERR_NULL, [](F &f) { f.pids = nullptr; }},
                     {"B = -3", ADA_ERR_DIM, [](F &f) { f.B = -3; }},
                     {"dout.rows != B·T", ADA_ERR_DIM, [](F &f) { f.dout.rows = 5; }},
                     {"dout.ld < C", ADA_ERR_DIM, [](F &f) { f.dout.ld = 3; }},
                     {"dword.cols != C", ADA_ERR_DIM, [](F &f) { f.dword.cols = 5; }},
                     {"dword.ld < C", ADA_ERR_DIM, [](F &f) { f.dword.ld = 3; }},
                     {"dpos.rows < T", ADA_ERR_DIM, [](F &f) { f.dpos.rows = 2; }},
                     {"dtype.ld < C", ADA_ERR_DIM, [](F &f) { f.dtype.ld = 2; }},
                     {"ids = V", ADA_ERR_RANGE, [](F &f) { f.ids[0] = 5; }},
                     {"type_ids = -1", ADA_ERR_RANGE, [](F &f) { f.type_ids[4] = -1; }},
                     {"dout NaN", ADA_ERR_NONFINITE, [](F &f) { f.dOut[5 + 2] = (real)kNaN; }},
                     {"dword NULL (frozen): ids only need be non-NULL", ADA_OK,
                      [frozen](F &f) { f.dword = frozen, f.ids[0] = 99; }},
                     {"dpos, dtype NULL (frozen)", ADA_OK, [frozen](F &f) { f.dpos = f.dtype = frozen; }},
                     {"type_ids NULL (all 0)", ADA_OK, [](F &f) { f.ptypes = nullptr; }},
                 });
}

// The message names what is wrong: the position and value of an id, the sequence without a real token.
TEST_CASE("bad input: encoder ops' messages name the position and the value") {
    EmbeddingForward e;
    e.ids[4] = 7;
    CHECK(e.call() == ADA_ERR_RANGE);
    CHECK(std::string(ada_last_error()) ==
          "ada_embedding_forward: ids[4] = 7 (sequence 1, token 1), allowed: 0..4");
    AttentionForward a;
    a.mask[3] = 0;
    CHECK(a.call() == ADA_ERR_RANGE);
    CHECK(std::string(ada_last_error()) ==
          "ada_attention_forward: sequence 1 has no real token (key_mask all 0), needs at least one 1");
}

}  // namespace

// test_ops.cpp: one table of ops × shapes (op_harness.h), every row through
// the same checks:
//   gradient    central differences in double (grad_check.h: metric
//               test::grad_error, bar 1e-6) of every gradient the backward
//               gives, at tight and at padded leading dimensions (double build);
//   accumulate  a backward into pre-filled gradients gives prefill + gradient
//               (a loss's overwritten seed gives the gradient), within 16 ulps
//               of the entries' magnitude;
//   strides     padded leading dimensions give the tight results (within 16
//               ulps), read no padding (NaN there) and write none;
//   bad input   a NULL, a bad dimension, a bad ld: a non-OK status, and every
//               byte of every tensor untouched;
//   no alloc    forward + backward allocate nothing (plain build).
// Adding an op is one row of the table in ops_table().
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "grad_check.h"
#include "op_harness.h"
#include "support/alloc_counter.h"
extern "C" {
#include "activation.h"
#include "adapted_layer.h"
#include "loss.h"
#include "orth_reg.h"
}

namespace {

using namespace ops;

// ---------------------------------------------------------------- the table

constexpr real kScale = (real)0.8;
constexpr real kOrthWeight = (real)0.37;

// The adapted layer (adapted_layer.h); shape {N, d2, d1, r}.
Op layer_op(const char *name, ada_form form) {
    const bool svd = form == ADA_FORM_SVD;
    auto adapter = [form, svd](Inst &I) {
        return ada_adapter{form, I["P"].c(), svd ? I["lam"].ptr : nullptr, I.keep.data(), I["Q"].c(), kScale};
    };
    auto forward = [adapter](Inst &I) {
        const ada_adapter ad = adapter(I);
        const ada_layer_cache cache = {I["H"].m(), I["G"].m()};
        return ada_layer_forward(I["Y"].m(), &cache, I["X"].c(), I["W0"].c(), I["bias"].ptr, &ad);
    };
    auto backward = [adapter, svd](Inst &I) {
        const ada_adapter ad = adapter(I);
        const ada_layer_cache cache = {I["H"].m(), I["G"].m()};
        const ada_layer_grads g = {I["dX"].m(), I["dP"].m(), svd ? I["dlam"].ptr : nullptr, I["dQ"].m()};
        return ada_layer_backward(&g, I["dG"].m(), I["R"].c(), I["X"].c(), I["W0"].c(), &ad, &cache);
    };
    auto declare = [svd](Inst &I, const Shape &s) {
        const int n = s[0], d2 = s[1], d1 = s[2], r = s[3];
        const unsigned both = kFwd | kBwd | kLdArg | kShaped;
        I.add("X", n, d2, kIn, both);
        I.add("W0", d1, d2, kConst, both, 0.5);
        I.add("bias", 1, d1, kConst, kFwd | kNullable | kContig, 0.3);
        I.add("P", d1, r, kIn, both, 0.6);
        if (svd) I.add("lam", 1, r, kIn, kFwd | kBwd | kContig);
        I.add("Q", r, d2, kIn, both, 0.6);
        I.add("Y", n, d1, kOut, kFwd | kLdArg | kShaped);
        I.add("H", n, r, kOut, both);
        I.add("G", n, r, kOut, both);
        I.add("R", n, d1, kConst, kBwd | kLdArg | kShaped);  // dY: the seed of Σ Y ⊙ R
        I.add("dG", n, r, kScratch, kBwd | kLdArg | kShaped);
        I.add("dX", n, d2, kGrad, kBwd | kNullable | kLdArg | kShaped, 1.0, "X");
        I.add("dP", d1, r, kGrad, kBwd | kLdArg | kShaped, 1.0, "P");
        if (svd) I.add("dlam", 1, r, kGrad, kBwd | kContig, 1.0, "lam");
        I.add("dQ", r, d2, kGrad, kBwd | kLdArg | kShaped, 1.0, "Q");
        I.keep.assign((size_t)r, 1);
        I.keep[1] = 0;  // one masked triplet: its gradients must come out right too
    };
    return {name, {{5, 7, 6, 5}, {4, 5, 7, 4}, {1, 3, 2, 2}}, declare, forward, backward,
            seeded(forward, "Y", "R")};
}

// Eq. 4, one factor (orth_reg.h): left P (d x r) or right Q (r x d); shape {d, r}.
Op orth_op(const char *name, bool left, ada_orth_norm norm) {
    auto call = [left, norm](Inst &I, real *grad) {
        Tensor &M = I["M"], &dM = I["dM"];
        return left ? ada_orth_left(&I.value, grad, dM.ld_arg, M.ptr, M.ld_arg, M.rows_arg, M.cols, norm,
                                    kOrthWeight, I["work"].ptr)
                    : ada_orth_right(&I.value, grad, dM.ld_arg, M.ptr, M.ld_arg, M.rows_arg, M.cols, norm,
                                     kOrthWeight, I["work"].ptr);
    };
    auto forward = [call](Inst &I) { return call(I, nullptr); };
    auto declare = [left](Inst &I, const Shape &s) {
        const int d = s[0], r = s[1], rows = left ? d : r, cols = left ? r : d;
        I.add("M", rows, cols, kIn, kFwd | kBwd | kLdArg | kShaped, 0.5);
        I.add("work", r, r, kScratch, kFwd | kBwd | kContig);
        I.add("dM", rows, cols, kGrad, kBwd | kNullable | kLdArg, 1.0, "M");
    };
    return {name, {{7, 4}, {3, 5}, {8, 3}, {2, 5}}, declare, forward,
            [call](Inst &I) { return call(I, I["dM"].ptr); },
            [forward](Inst &I) {
                REQUIRE(forward(I) == ADA_OK);
                return (double)kOrthWeight * I.value;
            }};
}

// The task losses (loss.h): the value, and dY overwritten; shape {N, d}. Y, T and
// dY share the one ld the call takes (Y's).
Op loss_op(const char *name, ada_loss_kind kind) {
    const bool ce = kind == ADA_LOSS_CROSS_ENTROPY;
    auto call = [kind, ce](Inst &I, real *dY) {
        Tensor &Y = I["Y"];
        return ce ? ada_cross_entropy_loss(&I.value, dY, Y.ptr, I.labels.data(), Y.rows_arg, Y.cols, Y.ld_arg)
                  : ada_squared_error_loss(&I.value, dY, Y.ptr, I["T"].ptr, Y.rows_arg, Y.cols, Y.ld_arg, kind);
    };
    auto forward = [call](Inst &I) { return call(I, nullptr); };
    auto declare = [ce](Inst &I, const Shape &s) {
        const int n = s[0], d = s[1];
        I.add("Y", n, d, kIn, kFwd | kBwd | kLdArg | kShaped, 1.5);
        if (!ce) I.add("T", n, d, kConst, kFwd | kBwd | kSharedLd);
        I.add("dY", n, d, kGrad, kBwd | kNullable | kOverwrite | kSharedLd, 1.0, "Y");
        for (int i = 0; i < n; i++) I.labels.push_back((int32_t)((3 * i + 2) % d));
    };
    return {name, {{4, 5}, {1, 3}, {6, 2}}, declare, forward,
            [call](Inst &I) { return call(I, I["dY"].ptr); },
            [forward](Inst &I) {
                REQUIRE(forward(I) == ADA_OK);
                return I.value;
            }};
}

// The activations (activation.h), the backward with the forward's output A
// (with_a) or recomputing f'(Z); shape {n}.
Op activation_op(const char *name, ada_activation act, bool with_a) {
    auto forward = [act](Inst &I) { return ada_activation_forward(I["A"].ptr, I["Z"].ptr, (size_t)I["Z"].cols, act); };
    auto backward = [act, with_a](Inst &I) {
        return ada_activation_backward(I["dZ"].ptr, I["dA"].ptr, I["Z"].ptr, with_a ? I["A"].ptr : nullptr,
                                       (size_t)I["Z"].cols, act);
    };
    auto declare = [](Inst &I, const Shape &s) {
        I.add("Z", 1, s[0], kIn, kFwd | kBwd | kContig, 1.5);
        I.add("A", 1, s[0], kOut, kFwd | kContig);
        I.add("dA", 1, s[0], kConst, kBwd | kContig);  // the seed of Σ A ⊙ dA
        I.add("dZ", 1, s[0], kGrad, kBwd | kContig, 1.0, "Z");
    };
    Op op{name, {{48}, {1}}, declare, forward, backward, seeded(forward, "A", "dA")};
    op.adjust = [](Inst &I) {  // every input well away from ReLU's kink (|z| >= 0.05 >> h)
        for (real &z : I["Z"].buf) z = z >= 0 ? z + (real)0.05 : z - (real)0.05;
    };
    return op;
}

const std::vector<Op> &ops_table() {
    static const std::vector<Op> table = {
        layer_op("layer svd", ADA_FORM_SVD),
        layer_op("layer lora", ADA_FORM_LORA),
        orth_op("orth left squared", true, ADA_ORTH_SQUARED),
        orth_op("orth left plain", true, ADA_ORTH_PLAIN),
        orth_op("orth right squared", false, ADA_ORTH_SQUARED),
        orth_op("orth right plain", false, ADA_ORTH_PLAIN),
        loss_op("loss mse", ADA_LOSS_MSE),
        loss_op("loss sse", ADA_LOSS_SSE),
        loss_op("loss cross-entropy", ADA_LOSS_CROSS_ENTROPY),
        activation_op("activation identity", ADA_ACT_IDENTITY, true),
        activation_op("activation relu", ADA_ACT_RELU, true),
        activation_op("activation gelu (from A)", ADA_ACT_GELU, true),
        activation_op("activation gelu (erf)", ADA_ACT_GELU, false),
        activation_op("activation tanh", ADA_ACT_TANH, true),
    };
    return table;
}

}  // namespace

// ---------------------------------------------------------------- the harness

namespace {

const real kNaN = std::numeric_limits<real>::quiet_NaN();
const real kOutPad = (real)3.25;  // what the padding of outputs and gradients holds
const double kUlps = 16 * std::numeric_limits<real>::epsilon();

// The instance of op at shape s: inputs N(0, std²) drawn in row order (so a
// padded instance holds the tight one's values), NaN in their padding;
// outputs and scratch 0 with kOutPad padding; gradients 0, or pre-filled with
// N(0, 1) from another stream. pad > 0 gives every non-vector tensor
// ld = cols + pad + (its index mod 3), so no two views share a stride by luck.
Inst build(const Op &op, const Shape &s, int pad, bool prefill, uint64_t seed) {
    Inst I;
    op.declare(I, s);
    ada_rng rng, fill;
    ada_rng_seed(&rng, seed);
    ada_rng_seed(&fill, seed + 7777);
    for (size_t k = 0; k < I.t.size(); k++) {
        Tensor &t = I.t[k];
        const bool input = t.role == kIn || t.role == kConst;
        t.ld = t.cols + ((t.flags & kContig) || pad == 0 ? 0 : pad + (int)(k % 3));
        if (t.flags & kSharedLd) t.ld = I.t[0].ld;
        t.buf.assign((size_t)t.rows * t.ld, input ? kNaN : kOutPad);
        for (int i = 0; i < t.rows; i++) {
            real *row = t.buf.data() + (size_t)i * t.ld;
            if (input) ada_rng_fill_normal(&rng, row, (size_t)t.cols, 0.0, t.std);
            else if (t.role == kGrad && prefill) ada_rng_fill_normal(&fill, row, (size_t)t.cols, 0.0, 1.0);
            else std::fill(row, row + t.cols, (real)0);
        }
        t.ptr = t.buf.data();
        t.rows_arg = t.rows;
        t.ld_arg = t.ld;
    }
    if (op.adjust) op.adjust(I);
    return I;
}

std::vector<size_t> logical_index(const Tensor &t) {
    std::vector<size_t> idx;
    for (int i = 0; i < t.rows; i++)
        for (int j = 0; j < t.cols; j++) idx.push_back((size_t)i * t.ld + j);
    return idx;
}

Vec logical(const Tensor &t) {
    Vec v;
    for (size_t at : logical_index(t)) v.push_back(t.buf[at]);
    return v;
}

// Every byte an op could write: the tensors and the scalar output.
std::vector<unsigned char> snapshot(const Inst &I) {
    std::vector<unsigned char> out;
    auto add = [&out](const void *p, size_t n) {
        const unsigned char *b = static_cast<const unsigned char *>(p);
        out.insert(out.end(), b, b + n);
    };
    for (const Tensor &t : I.t) add(t.buf.data(), t.buf.size() * sizeof(real));
    add(&I.value, sizeof I.value);
    return out;
}

// The padding bytes of every tensor.
std::vector<unsigned char> padding(const Inst &I) {
    std::vector<unsigned char> out;
    for (const Tensor &t : I.t)
        for (int i = 0; i < t.rows; i++)
            for (int j = t.cols; j < t.ld; j++) {
                const unsigned char *b = reinterpret_cast<const unsigned char *>(&t.buf[(size_t)i * t.ld + j]);
                out.insert(out.end(), b, b + sizeof(real));
            }
    return out;
}

void run(const Op &op, Inst &I) {
    REQUIRE_MESSAGE(op.forward(I) == ADA_OK, std::string(ada_last_error()));
    REQUIRE_MESSAGE(op.backward(I) == ADA_OK, std::string(ada_last_error()));
}

// max_i |got_i − want_i| / max(max_i scale_i, tiny): deviation against the entries' size.
double rel_dev(const Vec &got, const Vec &want, const Vec &scale) {
    double dev = 0, top = 1e-30;
    for (size_t i = 0; i < got.size(); i++) {
        dev = std::max(dev, std::fabs((double)got[i] - want[i]));
        top = std::max(top, std::fabs((double)scale[i]));
    }
    return dev / top;
}

std::string label(const Op &op, const Shape &s, const char *tensor = "") {
    std::string out = std::string(op.name) + " [";
    for (size_t i = 0; i < s.size() && s[i]; i++) out += (i ? "," : "") + std::to_string(s[i]);
    return out + "] " + tensor;
}

// Runs check(op, shape, seed) for every row and shape of the table.
template <class F> void for_each_case(F check) {
    uint64_t seed = 1000;
    for (const Op &op : ops_table())
        for (const Shape &s : op.shapes) check(op, s, seed++);
}

}  // namespace

#ifdef ADA_DOUBLE
// In float, central differences cannot resolve 1e-6: the double build checks.
TEST_CASE("ops: central-difference gradient of every op, tight and padded strides") {
    for_each_case([](const Op &op, const Shape &s, uint64_t seed) {
        for (int pad : {0, 2}) {
            Inst I = build(op, s, pad, false, seed);
            run(op, I);
            for (const Tensor &g : I.t) {
                if (g.role != kGrad) continue;
                Tensor &x = I.t[(size_t)g.grad_of];
                auto numeric = gradcheck::fd_at(x.buf.data(), logical_index(x), [&] { return op.loss(I); });
                std::string what = label(op, s, g.name) + (pad ? " padded" : "");
                gradcheck::check_one(what.c_str(), test::grad_error(logical(g), numeric));
            }
        }
    });
}
#endif

TEST_CASE("ops: a backward into pre-filled gradients gives prefill + gradient") {
    for_each_case([](const Op &op, const Shape &s, uint64_t seed) {
        Inst zero = build(op, s, 2, false, seed), filled = build(op, s, 2, true, seed);
        const Inst before = filled;
        run(op, zero);
        run(op, filled);
        for (size_t k = 0; k < zero.t.size(); k++) {
            if (zero.t[k].role != kGrad) continue;
            const bool overwrite = zero.t[k].flags & kOverwrite;
            Vec g = logical(zero.t[k]), p = logical(before.t[k]), want(g.size()), scale(g.size());
            for (size_t i = 0; i < g.size(); i++) {
                want[i] = overwrite ? g[i] : p[i] + g[i];
                scale[i] = std::fabs(g[i]) + (overwrite ? 0 : std::fabs(p[i]));
            }
            INFO(label(op, s, zero.t[k].name));
            CHECK(rel_dev(logical(filled.t[k]), want, scale) <= kUlps);
        }
    });
}

TEST_CASE("ops: padded strides give the tight results and leave the padding alone") {
    for_each_case([](const Op &op, const Shape &s, uint64_t seed) {
        Inst tight = build(op, s, 0, false, seed), padded = build(op, s, 2, false, seed);
        const std::vector<unsigned char> pad_before = padding(padded);
        run(op, tight);
        run(op, padded);
        INFO(label(op, s));
        CHECK(padding(padded) == pad_before);
        CHECK(std::fabs(padded.value - tight.value) <= kUlps * std::fabs(tight.value));
        for (size_t k = 0; k < tight.t.size(); k++) {
            Vec want = logical(tight.t[k]), scale = want;
            INFO(tight.t[k].name);
            CHECK(rel_dev(logical(padded.t[k]), want, scale) <= kUlps);
        }
    });
}

// One corruption of one tensor for one call: the call refuses and writes nothing.
void check_refused(const Op &op, const Shape &s, uint64_t seed, bool backward, size_t k, int kind) {
    static const char *const kinds[3] = {"NULL", "bad ld", "bad dimension (rows 0)"};
    Inst I = build(op, s, 2, true, seed);
    if (backward) REQUIRE(op.forward(I) == ADA_OK);  // the backward reads the forward's cache
    Tensor &t = I.t[k];
    if (kind == 0) t.ptr = nullptr;
    if (kind == 1) t.ld_arg = t.cols - 1;
    if (kind == 2) t.rows_arg = 0;
    const std::vector<unsigned char> before = snapshot(I);
    ada_status st = backward ? op.backward(I) : op.forward(I);
    INFO(label(op, s, t.name) << (backward ? " backward, " : " forward, ") << kinds[kind] << ": \""
                              << ada_last_error() << "\"");
    CHECK(st != ADA_OK);
    CHECK(snapshot(I) == before);
}

TEST_CASE("ops: a NULL, a bad dimension, a bad ld: refused, every output untouched") {
    for_each_case([](const Op &op, const Shape &s, uint64_t seed) {
        Inst shape = build(op, s, 2, true, seed);
        for (bool backward : {false, true}) {
            int cases = 0;
            for (size_t k = 0; k < shape.t.size(); k++) {
                const unsigned f = shape.t[k].flags;
                if (!(f & (backward ? kBwd : kFwd))) continue;
                if (!(f & kNullable)) check_refused(op, s, seed, backward, k, 0), cases++;
                if (f & kLdArg) check_refused(op, s, seed, backward, k, 1), cases++;
                if (f & kShaped) check_refused(op, s, seed, backward, k, 2), cases++;
            }
            INFO(label(op, s) << (backward ? " backward" : " forward"));
            CHECK(cases > 0);
        }
    });
}

TEST_CASE("ops: forward and backward allocate nothing") {
    if (!alloc_counter::available()) {
        MESSAGE("allocation counter off under AddressSanitizer: the plain build checks");
        return;
    }
    for_each_case([](const Op &op, const Shape &s, uint64_t seed) {
        Inst I = build(op, s, 2, false, seed);
        run(op, I);  // warm-up (first BLAS calls)
        alloc_counter::start();
        ada_status fwd = op.forward(I), bwd = op.backward(I);
        alloc_counter::Counts c = alloc_counter::stop();
        INFO(label(op, s));
        CHECK(fwd == ADA_OK);
        CHECK(bwd == ADA_OK);
        CHECK(c.ours == 0);
    });
}

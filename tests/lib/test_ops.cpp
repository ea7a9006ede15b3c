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
#include <utility>

#include "grad_check.h"
#include "op_harness.h"
#include "support/alloc_counter.h"
extern "C" {
#include "activation.h"
#include "adapted_layer.h"
#include "attention.h"
#include "embedding.h"
#include "layernorm.h"
#include "linear.h"
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

// The dense layer (linear.h), trainable (W, b with gradients) or frozen (W, b
// fixed, dW and db NULL: only dx); shape {N, d2, d1}.
Op linear_op(const char *name, bool trainable) {
    auto forward = [](Inst &I) { return ada_linear_forward(I["y"].m(), I["x"].c(), I["W"].c(), I["b"].ptr); };
    auto backward = [trainable](Inst &I) {
        const ada_mat frozen = ada_mat_of(nullptr, 0, 0, 0);
        return ada_linear_backward(I["dx"].m(), trainable ? I["dW"].m() : frozen, trainable ? I["db"].ptr : nullptr,
                                   I["R"].c(), I["x"].c(), I["W"].c());
    };
    auto declare = [trainable](Inst &I, const Shape &s) {
        const int n = s[0], d2 = s[1], d1 = s[2];
        const unsigned both = kFwd | kBwd | kLdArg | kShaped;
        const Role param = trainable ? kIn : kConst;
        I.add("x", n, d2, kIn, both);
        I.add("W", d1, d2, param, both, 0.5);
        I.add("b", 1, d1, param, kFwd | kNullable | kContig, 0.3);
        I.add("y", n, d1, kOut, kFwd | kLdArg | kShaped);
        I.add("R", n, d1, kConst, kBwd | kLdArg | kShaped);  // dy: the seed of Σ y ⊙ R
        I.add("dx", n, d2, kGrad, kBwd | kNullable | kLdArg | kShaped, 1.0, "x");
        if (trainable) {
            I.add("dW", d1, d2, kGrad, kBwd | kNullable | kLdArg | kShaped, 1.0, "W");
            I.add("db", 1, d1, kGrad, kBwd | kNullable | kContig, 1.0, "b");
        }
    };
    return {name, {{5, 7, 6}, {1, 3, 2}, {4, 1, 5}, {70, 3, 66}}, declare, forward, backward,
            seeded(forward, "y", "R")};
}

constexpr double kNormEps = 1e-12;  // BERT's layer_norm_eps

// LayerNorm over each row (layernorm.h); shape {N, C}. Not C = 2: there x̂ = ±1
// whatever x, so the gradient in x is ~0 and central differences measure only noise.
Op layernorm_op(const char *name) {
    auto forward = [](Inst &I) {
        return ada_layernorm_forward(I["y"].m(), I["mean"].ptr, I["rstd"].ptr, I["x"].c(), I["gamma"].ptr,
                                     I["beta"].ptr, kNormEps);
    };
    auto backward = [](Inst &I) {
        return ada_layernorm_backward(I["dx"].m(), I["dgamma"].ptr, I["dbeta"].ptr, I["R"].c(), I["x"].c(),
                                      I["gamma"].ptr, I["mean"].ptr, I["rstd"].ptr);
    };
    auto declare = [](Inst &I, const Shape &s) {
        const int n = s[0], c = s[1];
        I.add("x", n, c, kIn, kFwd | kBwd | kLdArg | kShaped, 1.5);
        I.add("gamma", 1, c, kIn, kFwd | kBwd | kContig);
        I.add("beta", 1, c, kIn, kFwd | kContig);
        I.add("y", n, c, kOut, kFwd | kLdArg | kShaped);
        I.add("mean", 1, n, kOut, kFwd | kBwd | kContig);
        I.add("rstd", 1, n, kOut, kFwd | kBwd | kContig);
        I.add("R", n, c, kConst, kBwd | kLdArg | kShaped);  // dy: the seed of Σ y ⊙ R
        I.add("dx", n, c, kGrad, kBwd | kLdArg | kShaped, 1.0, "x");
        I.add("dgamma", 1, c, kGrad, kBwd | kNullable | kContig, 1.0, "gamma");
        I.add("dbeta", 1, c, kGrad, kBwd | kNullable | kContig, 1.0, "beta");
    };
    return {name, {{5, 7}, {1, 3}, {6, 3}, {3, 70}}, declare, forward, backward, seeded(forward, "y", "R")};
}

// Multi-head self-attention (attention.h), with no key mask or with padded
// keys (sequence b ends in b mod T padding tokens); shape {B, T, H, D}.
Op attention_op(const char *name, bool padded) {
    auto forward = [padded](Inst &I) {
        const Shape &s = I.shape;
        return ada_attention_forward(I["out"].m(), I["att"].ptr, I["q"].c(), I["k"].c(), I["v"].c(),
                                     padded ? I.key_mask.data() : nullptr, s[0], s[1], s[2]);
    };
    auto backward = [](Inst &I) {
        const Shape &s = I.shape;
        return ada_attention_backward(I["dq"].m(), I["dk"].m(), I["dv"].m(), I["datt"].ptr, I["R"].c(), I["q"].c(),
                                      I["k"].c(), I["v"].c(), I["att"].ptr, s[0], s[1], s[2]);
    };
    auto declare = [](Inst &I, const Shape &s) {
        const int B = s[0], T = s[1], H = s[2], n = B * T, c = H * s[3];
        const unsigned both = kFwd | kBwd | kLdArg | kShaped;
        for (const char *x : {"q", "k", "v"}) I.add(x, n, c, kIn, both);
        I.add("out", n, c, kOut, kFwd | kLdArg | kShaped);
        I.add("att", B * H * T, T, kOut, kFwd | kBwd | kContig);
        I.add("R", n, c, kConst, kBwd | kLdArg | kShaped);  // dout: the seed of Σ out ⊙ R
        I.add("datt", T, T, kScratch, kBwd | kContig);
        I.add("dq", n, c, kGrad, kBwd | kLdArg | kShaped, 1.0, "q");
        I.add("dk", n, c, kGrad, kBwd | kLdArg | kShaped, 1.0, "k");
        I.add("dv", n, c, kGrad, kBwd | kLdArg | kShaped, 1.0, "v");
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) I.key_mask.push_back(t < T - b % T);
    };
    return {name, {{3, 5, 3, 2}, {2, 1, 2, 3}, {4, 4, 1, 5}, {2, 3, 2, 1}}, declare, forward, backward,
            seeded(forward, "out", "R")};
}

// BERT's embedding sum (embedding.h), with token types or type_ids NULL;
// shape {B, T, C, V}, P = T + 2 positions, 2 token types; the ids repeat.
Op embedding_op(const char *name, bool types) {
    auto forward = [types](Inst &I) {
        const Shape &s = I.shape;
        return ada_embedding_forward(I["out"].m(), I.ids.data(), types ? I.type_ids.data() : nullptr, s[0], s[1],
                                     I["word"].c(), I["pos"].c(), I["type"].c());
    };
    auto backward = [types](Inst &I) {
        const Shape &s = I.shape;
        return ada_embedding_backward(I["dword"].m(), I["dpos"].m(), I["dtype"].m(), I["R"].c(), I.ids.data(),
                                      types ? I.type_ids.data() : nullptr, s[0], s[1]);
    };
    auto declare = [](Inst &I, const Shape &s) {
        const int n = s[0] * s[1], c = s[2], V = s[3], P = s[1] + 2;
        const unsigned grad = kBwd | kNullable | kLdArg | kShaped;
        I.add("word", V, c, kIn, kFwd | kLdArg | kShaped);
        I.add("pos", P, c, kIn, kFwd | kLdArg | kShaped);
        I.add("type", 2, c, kIn, kFwd | kLdArg | kShaped);
        I.add("out", n, c, kOut, kFwd | kLdArg | kShaped);
        I.add("R", n, c, kConst, kBwd | kLdArg | kShaped);  // dout: the seed of Σ out ⊙ R
        I.add("dword", V, c, kGrad, grad, 1.0, "word");
        I.add("dpos", P, c, kGrad, grad, 1.0, "pos");
        I.add("dtype", 2, c, kGrad, grad, 1.0, "type");
        for (int i = 0; i < n; i++) {
            I.ids.push_back((int32_t)((5 * i + 3) % V));
            I.type_ids.push_back((int32_t)(i / 2 % 2));
        }
    };
    return {name, {{2, 5, 6, 7}, {1, 1, 3, 2}, {3, 2, 1, 4}}, declare, forward, backward,
            seeded(forward, "out", "R")};
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
        linear_op("linear", true),
        linear_op("linear frozen", false),
        layernorm_op("layernorm"),
        attention_op("attention", false),
        attention_op("attention padded", true),
        embedding_op("embedding", true),
        embedding_op("embedding type_ids NULL", false),
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
    I.shape = s;
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

// ---------------------------------------------------------------- forwards against independent references

namespace {

// Entry (i, j) of a tensor of an instance, as double.
double at(const Tensor &t, int i, int j) { return t.buf[(size_t)i * t.ld + j]; }

// The largest |got − want| / magnitude over a tensor's logical entries, against
// a reference in double: ref(i, j) gives {want, magnitude}, the magnitude the
// sum of the |terms| that make the entry (what its rounding error scales with).
double max_err(const Tensor &got, const std::function<std::pair<double, double>(int, int)> &ref) {
    double err = 0;
    for (int i = 0; i < got.rows; i++)
        for (int j = 0; j < got.cols; j++) {
            const std::pair<double, double> r = ref(i, j);
            err = std::max(err, std::fabs(at(got, i, j) - r.first) / std::max(r.second, 1e-300));
        }
    return err;
}

const double kEps = std::numeric_limits<real>::epsilon();

}  // namespace

TEST_CASE("ops: attention against a naive loop, padded keys exactly 0") {
    // The textbook definition, entry by entry in double: s_j = Σ_d q_id k_jd / sqrt(D)
    // over the real keys j, a = exp(s − max s) / Σ exp(s − max s), o_id = Σ_j a_j v_jd.
    for (bool padded : {false, true}) {
        const Op op = attention_op("attention", padded);
        for (const Shape &s : op.shapes) {
            Inst I = build(op, s, 2, false, 77);
            const int B = s[0], T = s[1], H = s[2], D = s[3];
            REQUIRE_MESSAGE(op.forward(I) == ADA_OK, ada_last_error());
            const Tensor &q = I["q"], &k = I["k"], &v = I["v"], &out = I["out"];
            const real *att = I["att"].ptr;
            std::vector<double> ref_out((size_t)B * T * H * D), mag_out(ref_out.size()), ref_att((size_t)B * H * T * T);
            for (int b = 0; b < B; b++)
                for (int h = 0; h < H; h++)
                    for (int i = 0; i < T; i++) {
                        std::vector<double> a(T, 0.0);
                        double top = -INFINITY, z = 0;
                        auto real_key = [&](int j) { return !padded || I.key_mask[(size_t)b * T + j]; };
                        for (int j = 0; j < T; j++) {
                            if (!real_key(j)) continue;
                            for (int d = 0; d < D; d++) a[j] += at(q, b * T + i, h * D + d) * at(k, b * T + j, h * D + d);
                            a[j] /= std::sqrt((double)D);
                            top = std::max(top, a[j]);
                        }
                        for (int j = 0; j < T; j++) z += real_key(j) ? std::exp(a[j] - top) : 0.0;
                        for (int j = 0; j < T; j++) {
                            a[j] = real_key(j) ? std::exp(a[j] - top) / z : 0.0;
                            ref_att[(((size_t)b * H + h) * T + i) * T + j] = a[j];
                            for (int d = 0; d < D; d++) {
                                const size_t o = ((size_t)(b * T + i) * H + h) * D + d;
                                ref_out[o] += a[j] * at(v, b * T + j, h * D + d);
                                mag_out[o] += a[j] * std::fabs(at(v, b * T + j, h * D + d));
                            }
                        }
                    }
            INFO(label(op, s) << (padded ? " padded" : ""));
            double att_dev = 0;
            for (size_t i = 0; i < ref_att.size(); i++) {
                att_dev = std::max(att_dev, std::fabs(att[i] - ref_att[i]));
                if (ref_att[i] == 0) CHECK(att[i] == 0);  // a padded key: exactly 0, not tiny
            }
            CHECK(att_dev <= 16 * kEps);  // probabilities <= 1: an absolute bound
            // rounding of a (16 ulps) and of the T-term sum
            CHECK(max_err(out, [&](int i, int j) {
                      const size_t o = (size_t)i * H * D + j;
                      return std::make_pair(ref_out[o], mag_out[o]);
                  }) <= (16 + 2 * T) * kEps);
        }
    }
}

TEST_CASE("ops: attention ignores the values and keys of padded tokens") {
    const Op op = attention_op("attention", true);
    const Shape s = {3, 5, 2, 3};
    Inst I = build(op, s, 1, false, 5), J = build(op, s, 1, false, 5);
    // Sequence 2 pads its last 2 tokens: give them other keys and values in J.
    for (int t = 3; t < 5; t++)
        for (int j = 0; j < 6; j++) {
            J["k"].buf[(size_t)(2 * 5 + t) * J["k"].ld + j] += 40;
            J["v"].buf[(size_t)(2 * 5 + t) * J["v"].ld + j] -= 7;
        }
    REQUIRE(op.forward(I) == ADA_OK);
    REQUIRE(op.forward(J) == ADA_OK);
    CHECK(logical(I["out"]) == logical(J["out"]));
    CHECK(logical(I["att"]) == logical(J["att"]));
}

TEST_CASE("ops: layernorm against a hand computation") {
    // Row 0: x = (2, 4, 6, 8): μ = 5, σ² = (9 + 1 + 1 + 9)/4 = 5; eps = 4 makes
    // sqrt(σ² + eps) = 3, so x̂ = (−1, −1/3, 1/3, 1) and with γ = (1, 2, 3, 0.5),
    // β = (0, 1, −1, 2): y = (−1, 1/3, 0, 2.5). Row 1: x = (1, 1, 1, 1): μ = 1,
    // σ² = 0, rstd = 1/sqrt(4) = 0.5, x̂ = 0, y = β.
    const int ld = 6;
    Vec x = {2, 4, 6, 8, NAN, NAN, 1, 1, 1, 1, NAN, NAN}, y(12, (real)9), mean(2), rstd(2);
    const Vec gamma = {1, 2, 3, (real)0.5}, beta = {0, 1, -1, 2};
    REQUIRE(ada_layernorm_forward(ada_mat_of(y.data(), 2, 4, ld), mean.data(), rstd.data(),
                                  ada_cmat_of(x.data(), 2, 4, ld), gamma.data(), beta.data(), 4.0) == ADA_OK);
    const double want[2][4] = {{-1, 1.0 / 3, 0, 2.5}, {0, 1, -1, 2}};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) CHECK(y[(size_t)i * ld + j] == doctest::Approx(want[i][j]).epsilon(4 * kEps));
    CHECK(y[4] == 9);  // the padding untouched
    CHECK(mean[0] == 5);
    CHECK(mean[1] == 1);
    CHECK(rstd[0] == doctest::Approx(1.0 / 3).epsilon(2 * kEps));
    CHECK(rstd[1] == (real)0.5);
}

TEST_CASE("ops: linear and embedding forwards against naive loops") {
    {
        const Op op = linear_op("linear", true);
        Inst I = build(op, {4, 5, 3}, 2, false, 9);
        REQUIRE(op.forward(I) == ADA_OK);
        const Tensor &x = I["x"], &W = I["W"], &b = I["b"];
        // y_ij = b_j + Σ_k x_ik W_jk
        CHECK(max_err(I["y"], [&](int i, int j) {
                  double s = at(b, 0, j), mag = std::fabs(s);
                  for (int k = 0; k < x.cols; k++) {
                      s += at(x, i, k) * at(W, j, k);
                      mag += std::fabs(at(x, i, k) * at(W, j, k));
                  }
                  return std::make_pair(s, mag);
              }) <= 2 * (x.cols + 1) * kEps);
    }
    {
        const Op op = embedding_op("embedding", true);
        const Shape s = {2, 5, 6, 7};
        Inst I = build(op, s, 2, false, 9);
        REQUIRE(op.forward(I) == ADA_OK);
        // out_nj = word[ids_n]_j + pos[n mod T]_j + type[type_ids_n]_j
        CHECK(max_err(I["out"], [&](int n, int j) {
                  const double w = at(I["word"], I.ids[(size_t)n], j), p = at(I["pos"], n % s[1], j),
                               y = at(I["type"], I.type_ids[(size_t)n], j);
                  return std::make_pair(w + p + y, std::fabs(w) + std::fabs(p) + std::fabs(y));
              }) <= 2 * kEps);
    }
}

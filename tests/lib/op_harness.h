// op_harness.h: the op registry of test_ops.cpp, in the spirit of ggml's
// test-backend-ops. An op is one table row: a name, its shapes, and four
// functions: declare (the tensors of one shape, with their roles), forward,
// backward, and the scalar loss whose gradient the backward computes. The
// harness builds the tensors (random inputs, padded leading dimensions) and
// runs every row through the same checks (test_ops.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "support/test_util.h"
extern "C" {
#include "matrix.h"
}

namespace ops {

using test::Vec;

// What a tensor is to the op.
enum Role { kIn, kConst, kOut, kGrad, kScratch };  // kIn: differentiated; kConst: fixed input

// When and how the op uses it (bit flags).
enum : unsigned {
    kFwd = 1,        // the forward reads or writes it (a corruption applies to the forward)
    kBwd = 2,        // the backward does
    kNullable = 4,   // NULL is an accepted value: no NULL corruption
    kLdArg = 8,      // the op passes this tensor's ld: the bad-ld corruption applies
    kShaped = 16,    // the op passes this tensor's rows: the bad-dimension corruption applies
    kContig = 32,    // a plain vector: never padded
    kOverwrite = 64, // a gradient the backward overwrites (a loss's seed), not accumulates
    kSharedLd = 128  // has the first tensor's ld (the op passes one ld for several)
};

struct Tensor {
    const char *name;
    int rows, cols;
    Role role;
    unsigned flags;
    int grad_of;     // kGrad: index of its input tensor
    double std;      // kIn, kConst: N(0, std²) entries
    int ld = 0;      // set by the harness
    Vec buf;
    real *ptr = nullptr;  // what the op passes (a corruption may set NULL)
    int rows_arg = 0, ld_arg = 0;  // what the op passes as rows and ld (corruptions change them)
    ada_mat m() { return ada_mat_of(ptr, rows_arg, cols, ld_arg); }
    ada_cmat c() const { return ada_cmat_of(ptr, rows_arg, cols, ld_arg); }
};

using Shape = std::array<int, 4>;

// One instance of an op at one shape: its tensors and the non-real extras.
struct Inst {
    std::vector<Tensor> t;
    std::vector<uint8_t> keep;     // keep flags (layers)
    std::vector<int32_t> labels;   // class labels (cross-entropy)
    std::vector<int32_t> ids, type_ids;  // token and token-type ids (embedding)
    std::vector<uint8_t> key_mask;       // 1 = real token, 0 = padding (attention)
    Shape shape{};                 // the shape declare() was given (ops that take dimensions as ints)
    double value = 0;              // a scalar output (a loss, a regulariser)
    int add(const char *name, int rows, int cols, Role role, unsigned flags, double std = 1.0,
            const char *grad_of = nullptr) {
        int of = -1;
        if (grad_of) of = (int)index(grad_of);
        Tensor x;
        x.name = name, x.rows = rows, x.cols = cols, x.role = role, x.flags = flags, x.grad_of = of, x.std = std;
        t.push_back(x);
        return (int)t.size() - 1;
    }
    size_t index(const char *name) const {
        for (size_t i = 0; i < t.size(); i++)
            if (std::strcmp(t[i].name, name) == 0) return i;
        FAIL("no tensor " << name);
        return 0;
    }
    Tensor &operator[](const char *name) { return t[index(name)]; }
};

struct Op {
    const char *name;
    std::vector<Shape> shapes;
    std::function<void(Inst &, const Shape &)> declare;
    std::function<ada_status(Inst &)> forward, backward;
    std::function<double(Inst &)> loss;             // runs the forward, returns the scalar
    std::function<void(Inst &)> adjust = nullptr;   // after the random fill (e.g. away from a kink)
};

// Σ out ⊙ seed over the logical entries, after the forward: the objective
// whose gradient a backward seeded with `seed` computes.
inline std::function<double(Inst &)> seeded(std::function<ada_status(Inst &)> forward,
                                             const char *out, const char *seed) {
    return [forward, out, seed](Inst &I) {
        REQUIRE(forward(I) == ADA_OK);
        const Tensor &y = I[out], &r = I[seed];
        double s = 0;
        for (int i = 0; i < y.rows; i++)
            for (int j = 0; j < y.cols; j++)
                s += (double)y.buf[(size_t)i * y.ld + j] * r.buf[(size_t)i * r.ld + j];
        return s;
    };
}

}  // namespace ops

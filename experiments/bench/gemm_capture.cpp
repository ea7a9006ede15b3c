// gemm_capture.cpp: the cblas_sgemm wrapper, the recorder and the replay.
#include "gemm_capture.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>

namespace bench {

namespace {
using SgemmFn = void (*)(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, float,
                         const float *, blasint, const float *, blasint, float, float *, blasint);

SgemmFn real_sgemm() {
    static SgemmFn fn = [] {
        auto f = reinterpret_cast<SgemmFn>(dlsym(RTLD_NEXT, "cblas_sgemm"));
        if (!f) {
            std::fprintf(stderr, "bench: cannot find OpenBLAS's cblas_sgemm (%s)\n", dlerror());
            std::abort();
        }
        return f;
    }();
    return fn;
}

thread_local GemmRecorder *active = nullptr;

// Elements a matrix of `rows` x `cols` (as stored) spans with leading dimension ld.
size_t extent(int rows, int cols, int ld) { return rows == 0 || cols == 0 ? 0 : (size_t)(rows - 1) * ld + cols; }

// Stored rows and columns of op's operand: row-major stores rows x cols,
// column-major the transpose.
size_t operand_extent(CBLAS_ORDER order, bool transposed, int rows, int cols, int ld) {
    if (transposed) std::swap(rows, cols);
    if (order == CblasColMajor) std::swap(rows, cols);
    return extent(rows, cols, ld);
}
}  // namespace

GemmRecorder::GemmRecorder() : outer_(active) { active = this; }

GemmRecorder::~GemmRecorder() { active = outer_; }

GemmRecorder *GemmRecorder::current() { return active; }

double GemmRecorder::flops() const {
    double f = 0;
    for (const auto &c : calls_) f += c.flops();
    return f;
}

GemmReplay::GemmReplay(const std::vector<GemmCall> &calls) {
    std::map<const void *, int> index;
    std::vector<size_t> sizes;
    auto buffer_for = [&](const void *p, size_t need) {
        auto it = index.find(p);
        int i = it == index.end() ? (index[p] = (int)sizes.size(), sizes.push_back(0), (int)sizes.size() - 1)
                                  : it->second;
        sizes[i] = std::max(sizes[i], need);
        return i;
    };
    for (const auto &g : calls) {
        Call c{g, 0, 0, 0};
        c.a = buffer_for(g.a, operand_extent(g.order, g.ta != CblasNoTrans, g.m, g.k, g.lda));
        c.b = buffer_for(g.b, operand_extent(g.order, g.tb != CblasNoTrans, g.k, g.n, g.ldb));
        c.c = buffer_for(g.c, operand_extent(g.order, false, g.m, g.n, g.ldc));
        calls_.push_back(c);
        flops_ += g.flops();
    }
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-0.01f, 0.01f);
    for (size_t s : sizes) {
        buffers_.emplace_back(std::max<size_t>(s, 1));
        for (auto &v : buffers_.back()) v = u(rng);
    }
}

void GemmReplay::run() {
    SgemmFn sgemm = real_sgemm();
    for (const auto &c : calls_) {
        const GemmCall &g = c.shape;
        sgemm(g.order, g.ta, g.tb, g.m, g.n, g.k, g.alpha, buffers_[c.a].data(), g.lda, buffers_[c.b].data(), g.ldb,
              g.beta, buffers_[c.c].data(), g.ldc);
    }
}

}  // namespace bench

// The library's every cblas_sgemm call: record, then forward.
extern "C" void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER order, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                            OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint m,
                            OPENBLAS_CONST blasint n, OPENBLAS_CONST blasint k, OPENBLAS_CONST float alpha,
                            OPENBLAS_CONST float *a, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *b,
                            OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float *c,
                            OPENBLAS_CONST blasint ldc) {
    if (bench::GemmRecorder *r = bench::GemmRecorder::current())
        r->record({order, ta, tb, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c});
    bench::real_sgemm()(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

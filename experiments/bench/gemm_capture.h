// gemm_capture.h: the GEMMs a piece of the library issues, recorded exactly.
//
// The benchmark binary defines cblas_sgemm itself (gemm_capture.cpp): every
// call of the library, which is linked statically into the binary, lands
// there; the wrapper records the call's shape while a GemmRecorder is alive
// and forwards to OpenBLAS's cblas_sgemm (found with dlsym(RTLD_NEXT)). So
// the FLOPs of a step are counted from the calls it really makes (2·M·N·K
// each), and GemmReplay runs exactly those calls again on buffers of the same
// sizes and the same sharing, to measure the sgemm rate of the same shapes.
// LAPACK's internal GEMMs (the SVDs) go through the Fortran sgemm_ and are
// not seen.
#pragma once

#include <cblas.h>

#include <vector>

namespace bench {

struct GemmCall {
    CBLAS_ORDER order;
    CBLAS_TRANSPOSE ta, tb;
    int m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const void *a, *b, *c;  // the caller's buffers: which calls share data
    double flops() const { return 2.0 * m * n * k; }
};

// Records every cblas_sgemm call on this thread while alive.
class GemmRecorder {
public:
    GemmRecorder();
    ~GemmRecorder();
    GemmRecorder(const GemmRecorder &) = delete;
    GemmRecorder &operator=(const GemmRecorder &) = delete;
    const std::vector<GemmCall> &calls() const { return calls_; }
    double flops() const;
    // The innermost recorder alive on this thread, or nullptr.
    static GemmRecorder *current();
    void record(const GemmCall &call) { calls_.push_back(call); }

private:
    std::vector<GemmCall> calls_;
    GemmRecorder *outer_;
};

// The recorded calls on private buffers (one per distinct caller buffer,
// sized for every call that uses it), filled with small random values.
class GemmReplay {
public:
    explicit GemmReplay(const std::vector<GemmCall> &calls);
    void run();  // every call once, through OpenBLAS directly
    double flops() const { return flops_; }

private:
    struct Call {
        GemmCall shape;
        int a, b, c;  // buffer indices
    };
    std::vector<Call> calls_;
    std::vector<std::vector<float>> buffers_;
    double flops_ = 0;
};

}  // namespace bench

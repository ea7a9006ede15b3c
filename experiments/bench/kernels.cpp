// kernels.cpp: the library's pieces alone, on random data of the shapes of
// one adapted d x d layer (or of the whole 4-layer model's arena).
#include "kernels.h"

#include <random>
#include <vector>

#include "support/alloc_counter.h"
#include "step_case.h"

extern "C" {
#include "adapted_layer.h"
#include "allocator.h"
#include "importance.h"
#include "lowrank_svd.h"
#include "orth_reg.h"
}

namespace bench {

namespace {

std::vector<real> random_values(size_t n, uint32_t seed, float scale = 0.1f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.f, scale);
    std::vector<real> v(n);
    for (auto &x : v) x = g(rng);
    return v;
}

// One adapted layer's operands: N x d input, d x d base, rank r factors.
struct LayerData {
    int n, d, r;
    std::vector<real> X, W0, bias, P, lam, Q, Y, H, G, dX, dP, dlam, dQ, dG, dY;
    std::vector<uint8_t> keep;
    LayerData(int d_, int r_, int n_)
        : n(n_), d(d_), r(r_), X(random_values((size_t)n * d, 1, 1.f)), W0(random_values((size_t)d * d, 2)),
          bias(random_values(d, 3)), P(random_values((size_t)d * r, 4)), lam(random_values(r, 5)),
          Q(random_values((size_t)r * d, 6)), Y((size_t)n * d), H((size_t)n * r), G((size_t)n * r),
          dX((size_t)n * d), dP((size_t)d * r), dlam(r), dQ((size_t)r * d), dG((size_t)n * r),
          dY(random_values((size_t)n * d, 7)), keep(r, 1) {}
    // The layer's views (adapted_layer.h); lam is NULL in the LoRA form.
    ada_adapter adapter(bool svd) const {
        return {svd ? ADA_FORM_SVD : ADA_FORM_LORA, ada_cmat_of(P.data(), d, r, r), svd ? lam.data() : nullptr,
                keep.data(), ada_cmat_of(Q.data(), r, d, d), 0.5f};
    }
    ada_layer_cache cache() { return {ada_mat_of(H.data(), n, r, r), ada_mat_of(G.data(), n, r, r)}; }
    ada_cmat input() const { return ada_cmat_of(X.data(), n, d, d); }
    ada_cmat base() const { return ada_cmat_of(W0.data(), d, d, d); }
};

class LayerWork : public Workload {
public:
    LayerWork(bool svd_form, bool backward, int d, int r, int n) : svd_(svd_form), backward_(backward), l_(d, r, n) {
        forward();  // the backward reads the saved H and G
    }
    void run() override { backward_ ? backward() : forward(); }

private:
    void forward() {
        LayerData &l = l_;
        const ada_adapter ad = l.adapter(svd_);
        const ada_layer_cache cache = l.cache();
        check(ada_layer_forward(ada_mat_of(l.Y.data(), l.n, l.d, l.d), &cache, l.input(), l.base(), l.bias.data(),
                                &ad),
              svd_ ? "svd forward" : "lora forward");
    }
    void backward() {
        LayerData &l = l_;
        const ada_adapter ad = l.adapter(svd_);
        const ada_layer_cache cache = l.cache();
        const ada_layer_grads grads = {ada_mat_of(l.dX.data(), l.n, l.d, l.d), ada_mat_of(l.dP.data(), l.d, l.r, l.r),
                                       svd_ ? l.dlam.data() : nullptr, ada_mat_of(l.dQ.data(), l.r, l.d, l.d)};
        check(ada_layer_backward(&grads, ada_mat_of(l.dG.data(), l.n, l.r, l.r),
                                 ada_cmat_of(l.dY.data(), l.n, l.d, l.d), l.input(), l.base(), &ad, &cache),
              svd_ ? "svd backward" : "lora backward");
    }
    bool svd_, backward_;
    LayerData l_;
};

// Eq. 4 for one layer: both factors, value and gradient.
class OrthWork : public Workload {
public:
    OrthWork(int d, int r)
        : d_(d), r_(r), P_(random_values((size_t)d * r, 1)), Q_(random_values((size_t)r * d, 2)),
          dP_((size_t)d * r), dQ_((size_t)r * d), work_((size_t)r * r) {}
    void run() override {
        double vp, vq;
        check(ada_orth_left(&vp, dP_.data(), r_, P_.data(), r_, d_, r_, ADA_ORTH_SQUARED, 0.1f, work_.data()), "orth");
        check(ada_orth_right(&vq, dQ_.data(), d_, Q_.data(), d_, r_, d_, ADA_ORTH_SQUARED, 0.1f, work_.data()), "orth");
        benchmark::DoNotOptimize(vp + vq);
    }

private:
    int d_, r_;
    std::vector<real> P_, Q_, dP_, dQ_, work_;
};

// Eqs. 10–12 over the arena of the 4-layer model in SVD form.
class ImportanceWork : public Workload {
public:
    explicit ImportanceWork(size_t n)
        : n_(n), w_(random_values(n, 1)), g_(random_values(n, 2)), ibar_(n), ubar_(n) {}
    void run() override {
        check(ada_importance_update(ibar_.data(), ubar_.data(), w_.data(), g_.data(), n_, 0.85f, 0.85f), "importance");
    }
    void report(benchmark::State &state, long iterations) override {
        // reads w, g, Ī, Ū and writes Ī, Ū: 6 reals per entry
        state.SetBytesProcessed((int64_t)(iterations * 6 * sizeof(real) * n_));
        state.SetItemsProcessed((int64_t)(iterations * n_));
    }

private:
    size_t n_;
    std::vector<real> w_, g_, ibar_, ubar_;
};

// Eq. 9 for the 4 layers (d x d, rank r).
class ScoresWork : public Workload {
public:
    ScoresWork(int d, int r)
        : d_(d), r_(r), ibar_(random_values(kLayers * layer_size(), 1)),
          ubar_(random_values(kLayers * layer_size(), 2)), S_(r) {}
    void run() override {
        for (int k = 0; k < kLayers; k++) {
            const real *ib = ibar_.data() + k * layer_size(), *ub = ubar_.data() + k * layer_size();
            const size_t lam = (size_t)d_ * r_, q = lam + r_;
            const ada_triplet_emas e = {ada_cmat_of(ib, d_, r_, r_), ada_cmat_of(ub, d_, r_, r_), ib + lam, ub + lam,
                                        ada_cmat_of(ib + q, r_, d_, d_), ada_cmat_of(ub + q, r_, d_, d_)};
            check(ada_triplet_scores(S_.data(), r_, ADA_FORM_SVD, ADA_IMPORTANCE_SENS_UNC, &e, nullptr), "scores");
        }
    }
    void report(benchmark::State &state, long iterations) override {
        state.SetItemsProcessed((int64_t)(iterations * kLayers * r_));  // triplets
        state.SetBytesProcessed((int64_t)(iterations * kLayers * 2 * sizeof(real) * layer_size()));
    }

private:
    size_t layer_size() const { return (size_t)2 * d_ * r_ + r_; }
    int d_, r_;
    std::vector<real> ibar_, ubar_, S_;
};

// Eq. 8: the top half of N random scores.
class AllocationWork : public Workload {
public:
    explicit AllocationWork(long n) : n_(n), scores_(random_values(n, 1, 1.f)), keep_(n), work_(n) {}
    void run() override {
        real threshold;
        check(ada_select_top_budget(keep_.data(), &threshold, scores_.data(), n_, n_ / 2, ADA_TIES_EXACT,
                                    work_.data()),
              "selection");
    }
    void report(benchmark::State &state, long iterations) override {
        state.SetItemsProcessed((int64_t)(iterations * n_));
    }

private:
    long n_;
    std::vector<real> scores_;
    std::vector<uint8_t> keep_;
    std::vector<int32_t> work_;
};

// The exact SVD of one d x d product B A of rank r.
class SvdWork : public Workload {
public:
    SvdWork(int d, int r, ref_svd_method method)
        : d_(d), r_(r), method_(method), B_(random_values((size_t)d * r, 1)), A_(random_values((size_t)r * d, 2)),
          U_((size_t)d * r), Vt_((size_t)r * d), sigma_(r) {
        check(ref_svd_workspace_create(&ws_, d, d, r), "svd workspace");
    }
    ~SvdWork() override { ref_svd_workspace_free(ws_); }
    void run() override {
        check(ref_lowrank_svd(U_.data(), r_, sigma_.data(), Vt_.data(), d_, B_.data(), r_, A_.data(), d_, d_, d_, r_,
                              method_, ws_),
              "svd");
    }

private:
    int d_, r_;
    ref_svd_method method_;
    std::vector<real> B_, A_, U_, Vt_, sigma_;
    ref_svd_workspace *ws_ = nullptr;
};

// ΔT training steps: one allocation period.
class StepWork : public Workload {
public:
    StepWork(const std::string &method, int d, int r, int batch) : case_(method, d, r, batch) {}
    void run() override {
        alloc_counter::start();
        for (int t = 0; t < kMaskEvery; t++) case_.step();
        const alloc_counter::Counts c = alloc_counter::stop();
        allocations_ += c.ours;
        blas_allocations_ += c.blas;
    }
    void reset() override {
        case_.times = PhaseTimes();
        allocations_ = blas_allocations_ = 0;
    }
    void report(benchmark::State &state, long) override {
        using benchmark::Counter;
        state.counters["step_time"] = Counter(kMaskEvery, Counter::kIsIterationInvariantRate | Counter::kInvert);
        const PhaseTimes &t = case_.times;
        for (int p = 0; p < PhaseTimes::kCount; p++)
            state.counters[std::string("ms_") + PhaseTimes::name(p)] = t.steps ? t.ms[p] / t.steps : 0;
        // heap allocations of the timed steps (after the warm-up's first ones)
        state.counters["allocations"] = (double)allocations_;
        state.counters["blas_allocations"] = (double)blas_allocations_;  // inside OpenBLAS
    }

private:
    StepCase case_;
    long allocations_ = 0, blas_allocations_ = 0;
};

std::string dims_name(int d, int r, int batch) {
    std::string s = "/d:" + std::to_string(d) + "/r0:" + std::to_string(r);
    return batch > 0 ? s + "/batch:" + std::to_string(batch) : s;
}

}  // namespace

void register_all(const Grid &g) {
    for (int d : g.d)
        for (int r : g.r0)
            for (int n : g.batch)
                for (bool svd : {true, false})
                    for (bool bwd : {false, true})
                        register_workload(std::string("layer_") + (bwd ? "backward" : "forward") + "/" +
                                              (svd ? "svd" : "lora") + dims_name(d, r, n),
                                          [=] { return std::make_unique<LayerWork>(svd, bwd, d, r, n); }, true);
    for (int d : g.d)
        for (int r : g.r0) {
            register_workload("orth" + dims_name(d, r, 0), [=] { return std::make_unique<OrthWork>(d, r); }, true);
            const size_t arena = (size_t)kLayers * (2 * (size_t)d * r + r);
            register_workload("importance" + dims_name(d, r, 0),
                              [=] { return std::make_unique<ImportanceWork>(arena); }, false);
            register_workload("scores" + dims_name(d, r, 0), [=] { return std::make_unique<ScoresWork>(d, r); },
                              false);
        }
    for (long n : g.triplets)
        register_workload("allocation/N:" + std::to_string(n), [=] { return std::make_unique<AllocationWork>(n); },
                          false);
    for (int d : g.svd_d)
        for (int r : g.r0)
            for (ref_svd_method m : {REF_SVD_FULL, REF_SVD_QR})
                register_workload(std::string("svd/") + ref_svd_method_name(m) + dims_name(d, r, 0),
                                  [=] { return std::make_unique<SvdWork>(d, r, m); }, false);
    for (const auto &method : g.methods)
        for (int d : g.d)
            for (int r : g.r0)
                for (int n : g.batch) {
                    if (method == "svd-proj-full" && d > g.max_full_svd_d) continue;
                    register_workload("step/" + method + dims_name(d, r, n),
                                      [=] { return std::make_unique<StepWork>(method, d, r, n); }, true);
                }
}

}  // namespace bench

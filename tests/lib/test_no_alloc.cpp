// test_no_alloc.cpp: "a training step allocates nothing", checked by counting.
// alloc_counter.h counts the calls of the malloc family on this thread; every
// method runs a first step, and the next steps (the library's step with the
// driver's hooks: mask steps with mask-jump's forwards and svd-proj's
// projections included, with the batch sampler) must make none outside
// OpenBLAS; likewise one forward and backward of the encoder's ops after a
// first. (OpenBLAS 0.3.21's SkylakeX/Cooperlake small-matrix sgemm kernels
// malloc a scratch buffer per call; that count is printed, not held to 0.)
#include <doctest/doctest.h>

#include <cstddef>
#include <memory>
#include <string>

#include "train/methods.h"
#include "config/run_config.h"
#include "train/projection_step.h"
#include "train/step_hooks.h"
#include "tasks/tasks.h"

#include "support/alloc_counter.h"

#include "support/test_util.h"

extern "C" {
#include "attention.h"
#include "embedding.h"
#include "layernorm.h"
#include "linear.h"
#include "trainer.h"
}

namespace {

void check(ada_status st) { REQUIRE_MESSAGE(st == ADA_OK, ada_last_error()); }

// Allocations made by `steps` training steps of `method` after its first
// step, on planted-linear with a mask every 2 steps (svd-proj: by `svd`).
long allocations_after_first_step(const std::string &method, long steps, const std::string &svd = "qr") {
    adalora::RunConfig cfg;
    cfg.method = method;
    cfg.seed = 3;
    cfg.task_opt.width = 8;
    cfg.task_opt.layers = 1;
    cfg.task_opt.train_rows = 64;
    cfg.task_opt.test_rows = 64;
    cfg.init_r = 4;
    cfg.target_r = 2;
    cfg.tinit = 2;
    cfg.tfinal = 4;
    cfg.deltaT = 2;
    cfg.total_step = 40;
    cfg.batch = 16;
    cfg.svd = svd;
    adalora::Task task = adalora::make_task(cfg);
    adalora::MethodSetup setup = adalora::setup_method(cfg, task);
    ada_model *model = nullptr;
    check(ada_model_create(&model, &setup.model));
    std::unique_ptr<ada_model, void (*)(ada_model *)> model_owner(model, ada_model_free);
    ada_trainer *tr = nullptr;
    check(ada_trainer_create(&tr, model, &setup.train));
    std::unique_ptr<ada_trainer, void (*)(ada_trainer *)> trainer_owner(tr, ada_trainer_free);
    std::unique_ptr<adalora::ProjectionStep> projection;
    if (setup.svd_proj) projection = std::make_unique<adalora::ProjectionStep>(model, tr, cfg.svd == "full");
    adalora::BatchSampler sampler(task.train, cfg.batch, 7);
    ada_step_info info{};
    long projections = 0;
    // The driver's step: the library's, with the driver's hooks (mask-jump's
    // forwards, svd-proj's projection).
    adalora::LoopState loop;
    double measure_seconds = 0;
    adalora::StepHooks hooks(model, nullptr, projection.get(), true, loop, measure_seconds);
    auto step = [&] {
        check(hooks.step(tr, sampler.next(), info));
        projections += info.action == ADA_ACTION_MASK && setup.svd_proj;
    };
    step();
    alloc_counter::start();
    for (long t = 0; t < steps; t++) step();
    const alloc_counter::Counts counts = alloc_counter::stop();
    if (setup.svd_proj) CHECK(projections > 0);  // the counted steps did project
    MESSAGE(method << " (svd " << svd << "): " << counts.blas << " allocations inside OpenBLAS in " << steps
                   << " steps");
    return counts.ours;
}

}  // namespace

TEST_CASE("no allocation: the counter sees an allocation") {
    if (!alloc_counter::available()) {
        MESSAGE("allocation counting is off under AddressSanitizer; the plain build checks this");
        return;
    }
    alloc_counter::start();
    auto p = std::make_unique<int[]>(100);  // operator new goes through malloc
    const alloc_counter::Counts counts = alloc_counter::stop();
    CHECK(p != nullptr);
    CHECK(counts.ours == 1);
    CHECK(counts.blas == 0);
}

TEST_CASE("no allocation: no method allocates in a training step after the first") {
    if (!alloc_counter::available()) {
        MESSAGE("allocation counting is off under AddressSanitizer; the plain build checks this");
        return;
    }
    for (std::string method : {"adalora", "lora", "lora-orth", "svd-lora", "prune-lora", "svd-proj"}) {
        CAPTURE(method);
        CHECK(allocations_after_first_step(method, 30) == 0);
    }
    CHECK(allocations_after_first_step("svd-proj", 30, "full") == 0);
}

TEST_CASE("no allocation: an encoder layer's ops, forward and backward") {
    if (!alloc_counter::available()) {
        MESSAGE("allocation counting is off under AddressSanitizer; the plain build checks this");
        return;
    }
    // A BERT-shaped chain on B = 2 sequences of T = 7 tokens, C = 12, H = 3:
    // embedding -> LayerNorm -> fused QKV projection (one (B·T) x 3C buffer;
    // attention reads q, k, v as column views of it, ld 3C) -> attention ->
    // output projection; then the backward in reverse, into the gradients.
    const int B = 2, T = 7, C = 12, H = 3, V = 11, P = 9, N = B * T;
    ada_rng rng;
    ada_rng_seed(&rng, 4);
    auto buf = [&rng](size_t n) { return test::randn(rng, n, 0.5); };
    test::Vec word = buf((size_t)V * C), pos = buf((size_t)P * C), type = buf((size_t)2 * C),
              gamma = buf((size_t)C), beta = buf((size_t)C), Wqkv = buf((size_t)3 * C * C), bqkv = buf((size_t)3 * C),
              Wo = buf((size_t)C * C), bo = buf((size_t)C), emb((size_t)N * C), h((size_t)N * C), mean((size_t)N),
              rstd((size_t)N), qkv((size_t)N * 3 * C), ctx((size_t)N * C), out((size_t)N * C), att((size_t)B * H * T * T),
              dout = buf((size_t)N * C), dctx((size_t)N * C), dqkv((size_t)N * 3 * C), dh((size_t)N * C),
              demb((size_t)N * C), dWqkv(Wqkv.size()), dbqkv(bqkv.size()), dWo(Wo.size()), dbo(bo.size()),
              dgamma((size_t)C), dbeta((size_t)C), dword(word.size()), dpos(pos.size()), dtype(type.size()),
              datt((size_t)T * T);
    std::vector<int32_t> ids((size_t)N), types((size_t)N, 0);
    for (int n = 0; n < N; n++) ids[(size_t)n] = (int32_t)((3 * n + 1) % V);
    std::vector<uint8_t> mask((size_t)N, 1);
    mask[(size_t)N - 1] = mask[(size_t)N - 2] = 0;  // the second sequence ends in 2 padding tokens
    auto m = [](test::Vec &v, int rows, int cols, int ld, int col0 = 0) { return ada_mat_of(v.data() + col0, rows, cols, ld); };
    auto c = [](const test::Vec &v, int rows, int cols, int ld, int col0 = 0) {
        return ada_cmat_of(v.data() + col0, rows, cols, ld);
    };
    auto pass = [&] {
        check(ada_embedding_forward(m(emb, N, C, C), ids.data(), types.data(), B, T, c(word, V, C, C), c(pos, P, C, C),
                                    c(type, 2, C, C)));
        check(ada_layernorm_forward(m(h, N, C, C), mean.data(), rstd.data(), c(emb, N, C, C), gamma.data(), beta.data(),
                                    1e-12));
        check(ada_linear_forward(m(qkv, N, 3 * C, 3 * C), c(h, N, C, C), c(Wqkv, 3 * C, C, C), bqkv.data()));
        check(ada_attention_forward(m(ctx, N, C, C), att.data(), c(qkv, N, C, 3 * C), c(qkv, N, C, 3 * C, C),
                                    c(qkv, N, C, 3 * C, 2 * C), mask.data(), B, T, H));
        check(ada_linear_forward(m(out, N, C, C), c(ctx, N, C, C), c(Wo, C, C, C), bo.data()));
        check(ada_linear_backward(m(dctx, N, C, C), m(dWo, C, C, C), dbo.data(), c(dout, N, C, C), c(ctx, N, C, C),
                                  c(Wo, C, C, C)));
        check(ada_attention_backward(m(dqkv, N, C, 3 * C), m(dqkv, N, C, 3 * C, C), m(dqkv, N, C, 3 * C, 2 * C),
                                     datt.data(), c(dctx, N, C, C), c(qkv, N, C, 3 * C), c(qkv, N, C, 3 * C, C),
                                     c(qkv, N, C, 3 * C, 2 * C), att.data(), B, T, H));
        check(ada_linear_backward(m(dh, N, C, C), m(dWqkv, 3 * C, C, C), dbqkv.data(), c(dqkv, N, 3 * C, 3 * C),
                                  c(h, N, C, C), c(Wqkv, 3 * C, C, C)));
        check(ada_layernorm_backward(m(demb, N, C, C), dgamma.data(), dbeta.data(), c(dh, N, C, C), c(emb, N, C, C),
                                     gamma.data(), mean.data(), rstd.data()));
        check(ada_embedding_backward(m(dword, V, C, C), m(dpos, P, C, C), m(dtype, 2, C, C), c(demb, N, C, C),
                                     ids.data(), types.data(), B, T));
    };
    pass();  // warm-up (first BLAS calls)
    alloc_counter::start();
    pass();
    const alloc_counter::Counts counts = alloc_counter::stop();
    MESSAGE("encoder ops: " << counts.blas << " allocations inside OpenBLAS");
    CHECK(counts.ours == 0);
}

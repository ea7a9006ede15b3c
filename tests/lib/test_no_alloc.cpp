// test_no_alloc.cpp: "a training step allocates nothing", checked by counting.
// alloc_counter.h counts the calls of the malloc family on this thread; every
// method runs a first step, and the next steps (the library's step with the
// driver's hooks: mask steps with mask-jump's forwards and svd-proj's
// projections included, with the batch sampler) must make none outside
// OpenBLAS. (OpenBLAS 0.3.21's SkylakeX/Cooperlake small-matrix sgemm kernels
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

extern "C" {
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

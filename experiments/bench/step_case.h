// step_case.h: one full training step of a method, exactly as the driver runs
// it (driver/run.cpp): the task, the method's configs (driver/methods.h), the
// batch sampler, ada_trainer_gradients → ada_trainer_update → svd-proj's
// projection when due → ada_trainer_allocate.
//
// The model is the planted-mlp task's 4-layer GELU MLP (d x d layers with
// biases, MSE). The schedule keeps the budget at b(T) = n·r0/2 from the first
// step (b(0) = b(T)) and masks every ΔT = 10 steps (the driver's default ΔT),
// so every ΔT steps adalora scores and selects and svd-proj projects.
#pragma once

#include <memory>
#include <string>

#include "base/lib_status.h"
#include "train/methods.h"
#include "train/projection_step.h"
#include "tasks/tasks.h"

extern "C" {
#include "trainer.h"
}

namespace bench {

constexpr int kLayers = 4;
constexpr int kMaskEvery = 10;  // ΔT

// Time of each phase, summed over steps (ms): the trainer's five and svd.
struct PhaseTimes {
    static constexpr int kCount = ADA_TIME_COUNT + 1;
    static const char *name(int p);  // "forward", ..., "allocation", "svd"
    double ms[kCount] = {0};
    long steps = 0;
};

class StepCase {
public:
    // method: adalora, lora, svd-lora, svd-proj (exact SVD by qr) or
    // svd-proj-full (by full); lora and svd-lora at rank r0.
    StepCase(const std::string &method, int d, int r0, int batch);
    ~StepCase();
    StepCase(const StepCase &) = delete;
    StepCase &operator=(const StepCase &) = delete;
    void step();  // one training step, its phase times added to times
    PhaseTimes times;

private:
    adalora::RunConfig cfg_;
    adalora::Task task_;
    adalora::MethodSetup setup_;
    ada_model *model_ = nullptr;
    ada_trainer *trainer_ = nullptr;
    std::unique_ptr<adalora::ProjectionStep> projection_;
    std::unique_ptr<adalora::BatchSampler> sampler_;
};

// The driver's status check (base/lib_status.h), for the benchmarks too.
using adalora::check;

}  // namespace bench

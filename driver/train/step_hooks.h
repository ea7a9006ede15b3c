// step_hooks.h: the driver's code inside the library's step
// (ada_trainer_step_hooked, trainer.h):
//   before_allocate  the trace of the weights, gradients and EMAs the
//                    allocation sees (Tracer::before_mask); --mask-jump's
//                    batch loss before a mask step
//   allocate         svd-proj's projection (projection_step.h), in place of
//                    the trainer's selection
//   after_step       --mask-jump's batch loss after the mask step
// A hook that throws ends the step; step() rethrows the exception.
#pragma once

#include <exception>

#include "train/projection_step.h"
#include "train/run_state.h"
#include "train/trace.h"

extern "C" {
#include "trainer.h"
}

namespace adalora {

class StepHooks {
public:
    // tracer and projection may be null. The time of mask-jump's forwards is
    // added to measure_seconds (not training), the projection's to loop.svd_ms,
    // the jumps to loop.jump_sum and loop.jumps.
    StepHooks(ada_model *m, Tracer *tracer, ProjectionStep *projection, bool mask_jump, LoopState &loop,
              double &measure_seconds);
    // One step of tr on batch; the library's status (ADA_ERR_NONFINITE for a
    // non-finite value); a hook's exception is rethrown.
    ada_status step(ada_trainer *tr, const ada_batch &batch, ada_step_info &info);

private:
    ada_model *model_;
    Tracer *tracer_;
    ProjectionStep *projection_;
    const bool mask_jump_;
    LoopState &loop_;
    double &measure_seconds_;
    const ada_batch *batch_ = nullptr;  // of the step in progress
    double loss_before_ = 0;            // mask-jump: NaN when this step is not measured
    std::exception_ptr error_;

    void before_allocate(const ada_trainer *tr);
    void allocate(ada_allocation *alloc);
    void after_step();
    double batch_task_loss();
    template <class F> static ada_status guarded(void *ctx, F f);
};

}  // namespace adalora

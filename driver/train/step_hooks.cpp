// step_hooks.cpp: trace, mask-jump and svd-proj inside the library's step.
#include "train/step_hooks.h"

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "base/lib_status.h"
#include "train/clock.h"

namespace adalora {

namespace {
using Clock = std::chrono::steady_clock;

// Whether the trainer masks at the end of its current step.
bool mask_step_due(const ada_trainer *tr) {
    long budget;
    ada_mask_action action;
    check(ada_trainer_schedule_now(tr, &budget, nullptr, &action), "schedule");
    return tr->config.prune && action == ADA_ACTION_MASK;
}
}  // namespace

StepHooks::StepHooks(ada_model *m, Tracer *tracer, ProjectionStep *projection, bool mask_jump, LoopState &loop,
                     double &measure_seconds)
    : model_(m), tracer_(tracer), projection_(projection), mask_jump_(mask_jump), loop_(loop),
      measure_seconds_(measure_seconds) {}

// Runs a hook's body; an exception is kept for step() and ends the library's step.
template <class F> ada_status StepHooks::guarded(void *ctx, F f) {
    StepHooks *self = static_cast<StepHooks *>(ctx);
    try {
        f(self);
        return ADA_OK;
    } catch (...) {
        self->error_ = std::current_exception();
        return ADA_ERR_STATE;
    }
}

ada_status StepHooks::step(ada_trainer *tr, const ada_batch &batch, ada_step_info &info) {
    batch_ = &batch;
    loss_before_ = NAN;
    error_ = nullptr;
    ada_step_hooks hooks{};
    hooks.ctx = this;
    hooks.before_allocate = [](void *ctx, ada_trainer *t, const ada_step_info *) {
        return guarded(ctx, [t](StepHooks *h) { h->before_allocate(t); });
    };
    if (projection_)
        hooks.allocate = [](void *ctx, ada_trainer *, ada_allocation *a) {
            return guarded(ctx, [a](StepHooks *h) { h->allocate(a); });
        };
    hooks.after_step = [](void *ctx, ada_trainer *, const ada_step_info *) {
        return guarded(ctx, [](StepHooks *h) { h->after_step(); });
    };
    ada_status st = ada_trainer_step_hooked(tr, &batch, &info, &hooks);
    if (error_) std::rethrow_exception(error_);
    return st;
}

void StepHooks::before_allocate(const ada_trainer *tr) {
    if (tracer_) tracer_->before_mask(tr->completed + 1);  // the weights and EMAs the allocation sees
    if (mask_jump_ && (projection_ ? projection_->due() : mask_step_due(tr))) {
        auto m0 = Clock::now();
        loss_before_ = batch_task_loss();
        measure_seconds_ += seconds_since(m0);
    }
}

void StepHooks::allocate(ada_allocation *alloc) {
    auto p0 = Clock::now();
    ProjectionStep::Result r = projection_->maybe_project();
    loop_.svd_ms += seconds_since(p0) * 1e3;
    alloc->masked = r.projected;
    alloc->threshold = r.threshold;
}

void StepHooks::after_step() {
    if (std::isnan(loss_before_)) return;
    auto m0 = Clock::now();
    loop_.jump_sum += batch_task_loss() - loss_before_;
    loop_.jumps++;
    measure_seconds_ += seconds_since(m0);
}

// Task loss of the current weights on the step's batch (no gradient).
double StepHooks::batch_task_loss() {
    double loss;
    check(ada_model_forward(model_, batch_, &loss, 0), "mask-jump forward");
    return loss;
}

}  // namespace adalora

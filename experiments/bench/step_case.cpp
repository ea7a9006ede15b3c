// step_case.cpp: building a method's training step and running it.
#include "step_case.h"

#include <chrono>
#include <stdexcept>

namespace bench {

const char *PhaseTimes::name(int p) {
    static const char *names[kCount] = {"forward", "backward", "optimizer", "importance", "allocation", "svd"};
    return names[p];
}

StepCase::StepCase(const std::string &method, int d, int r0, int batch) {
    const bool full_svd = method == "svd-proj-full";
    cfg_.task = "planted-mlp";
    cfg_.method = full_svd ? "svd-proj" : method;
    cfg_.svd = full_svd ? "full" : "qr";
    cfg_.task_opt.width = d;
    cfg_.task_opt.layers = kLayers;
    cfg_.task_opt.train_rows = batch;
    cfg_.task_opt.test_rows = 1;
    cfg_.batch = batch;
    cfg_.init_r = r0;
    cfg_.lora_r = r0;  // equal r0 for the fixed-rank methods
    cfg_.target_r = std::max(1, r0 / 2);
    cfg_.tinit = 0;
    cfg_.tfinal = 0;
    cfg_.deltaT = kMaskEvery;
    cfg_.total_step = 1000000000L;  // the benchmark may run many steps
    task_ = adalora::make_task(cfg_);
    setup_ = adalora::setup_method(cfg_, task_);
    setup_.train.schedule.b0 = setup_.train.schedule.bT;  // the final budget from the start
    check(ada_model_create(&model_, &setup_.model), "model");
    check(ada_trainer_create(&trainer_, model_, &setup_.train), "trainer");
    if (setup_.svd_proj) projection_ = std::make_unique<adalora::ProjectionStep>(model_, trainer_, full_svd);
    sampler_ = std::make_unique<adalora::BatchSampler>(task_.train, batch, 1);
}

StepCase::~StepCase() {
    projection_.reset();
    ada_trainer_free(trainer_);
    ada_model_free(model_);
}

void StepCase::step() {
    ada_step_info info{};
    check(ada_trainer_gradients(trainer_, &sampler_->next(), &info), "gradients");
    check(ada_trainer_update(trainer_, &info), "update");
    if (projection_) {
        auto t0 = std::chrono::steady_clock::now();
        projection_->maybe_project();
        times.ms[ADA_TIME_COUNT] +=
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    check(ada_trainer_allocate(trainer_, &info), "allocate");
    for (int p = 0; p < ADA_TIME_COUNT; p++) times.ms[p] += info.ms[p];
    times.steps++;
}

}  // namespace bench

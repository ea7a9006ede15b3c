// run_setup.h: what a training run is made of before its first step: the
// task, the method's model and trainer, svd-proj's projection, the batches
// (sampled, or replayed from --init-from / --dump-init) and the tracer.
#pragma once

#include <cstdint>
#include <memory>

#include "config/run_config.h"
#include "tasks/sentence_tasks.h"
#include "tasks/tasks.h"
#include "train/init_state.h"
#include "train/methods.h"
#include "train/projection_step.h"
#include "train/trace.h"

extern "C" {
#include "trainer.h"
}

namespace adalora {

class RunSetup {
public:
    // Builds everything in the order the run's numbers depend on (the model's
    // seed, the base, the sampler's stream); writes --dump-init and the trace's
    // initial state. Throws UsageError or std::runtime_error.
    explicit RunSetup(const RunConfig &cfg);
    RunSetup(const RunSetup &) = delete;
    RunSetup &operator=(const RunSetup &) = delete;

    // The batch of step t (1..T): replayed, or the sampler's next one.
    const ada_batch &batch(long t) { return replay ? replay->at(t - 1) : sampler->next(); }

    Task task;
    MethodSetup method;
    std::unique_ptr<ada_model, void (*)(ada_model *)> model_owner{nullptr, ada_model_free};
    EncoderPtr encoder{nullptr, ada_encoder_free};  // a sentence task's host; it owns `model`
    std::unique_ptr<ada_trainer, void (*)(ada_trainer *)> trainer_owner{nullptr, ada_trainer_free};
    ada_model *model = nullptr;
    ada_trainer *tr = nullptr;
    std::unique_ptr<ProjectionStep> projection;  // svd-proj only
    size_t params_initial = 0;                   // trainable parameters before the first step
    std::unique_ptr<BatchSampler> sampler;
    std::unique_ptr<BatchSet> replay;            // --init-from or --dump-init
    std::unique_ptr<Tracer> tracer;              // --trace
    uint64_t origin = 0;                         // origin_hash (checkpoint.h)

private:
    void create_model_and_trainer(const RunConfig &cfg);
    void prepare_batches_and_trace(const RunConfig &cfg);
};

}  // namespace adalora

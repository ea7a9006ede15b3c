// run_setup.cpp: a training run's parts, built before its first step.
#include "train/run_setup.h"

#include <stdexcept>
#include <string>

#include "train/checkpoint.h"
#include "base/lib_status.h"
#include "train/run_index.h"

namespace adalora {

RunSetup::RunSetup(const RunConfig &cfg) : task(make_task(cfg)), method(setup_method(cfg, task)) {
    create_model_and_trainer(cfg);
    sampler = std::make_unique<BatchSampler>(task.train, cfg.batch, cfg.seed ^ 0xba7c4e5ULL);
    prepare_batches_and_trace(cfg);
    origin = origin_hash(task, model);
}

void RunSetup::create_model_and_trainer(const RunConfig &cfg) {
    if (task.has_encoder()) {  // the adapters live in the encoder host (hosts/encoder.h)
        encoder = make_encoder(*task.encoder, method.model, method.model.max_batch, cfg.seed ^ 0xd20b0e7ULL);
        model = ada_encoder_model(encoder.get());
    } else {
        check(ada_model_create(&model, &method.model), "model");
        model_owner.reset(model);
    }
    apply_base(task, model);  // a pretrained base (digits) replaces the random one
    check(ada_trainer_create(&tr, model, &method.train), "trainer");
    trainer_owner.reset(tr);
    if (method.svd_proj) projection = std::make_unique<ProjectionStep>(model, tr, cfg.svd == "full");
    params_initial = ada_model_param_count(model, 0);
}

// --init-from replays a directory's state and batches; --dump-init writes the
// sampler's batches and the run then replays them, the very arrays dumped. A
// sentence task's indexes carry its "encoder" entry (the checkpoint hashed once).
void RunSetup::prepare_batches_and_trace(const RunConfig &cfg) {
    nlohmann::json encoder_entry;
    if (task.has_encoder() && (!cfg.dump_init.empty() || !cfg.trace.empty()))
        encoder_entry = encoder_index_json(cfg, *task.encoder);
    auto header = [&](const char *format) {
        nlohmann::json h = run_index_header(cfg, method, model, format);
        if (!encoder_entry.is_null()) h["encoder"] = encoder_entry;
        return h;
    };
    if (!cfg.init_from.empty()) {
        replay = std::make_unique<BatchSet>(load_init(cfg.init_from, header("adalora-init"), task.train, model));
    } else if (!cfg.dump_init.empty()) {
        replay = std::make_unique<BatchSet>(collect_batches(*sampler, task.train, cfg.total_step, cfg.batch));
        dump_init(cfg.dump_init, header("adalora-init"), model, *replay, encoder.get());
    }
    if (!cfg.trace.empty()) {
        tracer = std::make_unique<Tracer>(cfg.trace, cfg.trace_steps, header("adalora-trace"), model, tr);
        tracer->initial();
    }
}

}  // namespace adalora

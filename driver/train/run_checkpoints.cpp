// run_checkpoints.cpp: a run's checkpoints and its resumption.
#include "train/run_checkpoints.h"

#include "base/errors.h"
#include "train/config_json.h"
#include "train/run_dir.h"

namespace adalora {

Checkpointer::Checkpointer(const RunConfig &cfg, uint64_t origin) : cfg_(cfg), on_(checkpointing(cfg)) {
    ck_.config = config_json(cfg).dump();
    ck_.origin = origin;
}

bool Checkpointer::due(long t) const {
    return on_ && ((cfg_.save_every > 0 && t % cfg_.save_every == 0) || t == cfg_.stop_after || t == cfg_.total_step);
}

void Checkpointer::save(const ada_model *m, const ada_trainer *tr, const BatchSampler &sampler, const LoopState &loop,
                        double train_seconds) {
    capture(ck_.train, m, tr);
    ck_.sampler = sampler.rng_state();
    ck_.loop = loop;
    ck_.loop.train_seconds = train_seconds;
    serialize_checkpoint(ck_, bytes_);
    if (tr->completed == 0) create_run_dir(cfg_.out, bytes_);
    else save_checkpoint(cfg_.out, bytes_);
    saved_step_ = tr->completed;
}

std::string Checkpointer::kept_note() const {
    if (saved_step_ < 0) return "no checkpoint written (use --save-every N to keep one)";
    return "the last good checkpoint (step " + std::to_string(saved_step_) + ") is kept in " + cfg_.out;
}

void resume_from(const Checkpoint &c, uint64_t origin, ada_model *m, ada_trainer *tr, BatchSampler &sampler,
                 LoopState &loop, const std::string &dir) {
    if (c.origin != origin)
        throw UsageError("--resume " + dir + ": the frozen base or the task data differ from the checkpoint's (hash " +
                         std::to_string(c.origin) + ", now " + std::to_string(origin) + ")");
    restore(c.train, m, tr);
    sampler.set_rng_state(c.sampler);
    loop = c.loop;
}

}  // namespace adalora

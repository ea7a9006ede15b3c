// run_checkpoints.cpp: a run's checkpoints and its resumption.
#include "train/run_checkpoints.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/errors.h"
#include "train/config_json.h"
#include "train/run_dir.h"

namespace adalora {

Checkpointer::Checkpointer(const RunConfig &cfg, uint64_t origin, const std::string &blas)
    : cfg_(cfg), on_(checkpointing(cfg)) {
    ck_.config = config_json(cfg).dump();
    ck_.origin = origin;
    ck_.blas = blas;
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

namespace {
// Why the origin can differ: the planted tasks' data is the same bits under
// every BLAS, but digits' pretrained base is computed through BLAS and read
// back from its cache file, so only that file carries it to another node.
std::string origin_note(const Task &task) {
    if (task.pretrain_cache.empty() || !task.base_file.empty()) return "";
    return "; the pretrained base is the cache file " + task.pretrain_cache +
           " (copy it along with the run: without it the base is recomputed, and its bits depend on the BLAS "
           "configuration)";
}
}  // namespace

void resume_from(const Checkpoint &c, const Task &task, uint64_t origin, const std::string &blas, ada_model *m,
                 ada_trainer *tr, BatchSampler &sampler, LoopState &loop, const std::string &dir) {
    if (c.origin != origin)
        throw UsageError("--resume " + dir + ": the frozen base or the task data differ from the checkpoint's (hash " +
                         std::to_string(c.origin) + ", now " + std::to_string(origin) + ")" + origin_note(task));
    restore(c.train, m, tr);
    sampler.set_rng_state(c.sampler);
    loop = c.loop;
    if (c.blas == blas) return;
    std::fprintf(stderr,
                 "adalora: resuming under a different BLAS configuration (saved: %s, now: %s): the continuation is "
                 "not bit for bit\n",
                 c.blas.c_str(), blas.c_str());
    nlohmann::json changes = nlohmann::json::parse(loop.blas_changes);  // an array (check_consistent)
    changes.push_back({{"step", c.train.completed}, {"saved", c.blas}, {"now", blas}});
    loop.blas_changes = changes.dump();
}

}  // namespace adalora

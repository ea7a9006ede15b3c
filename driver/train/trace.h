// trace.h: --trace DIR --trace-steps LIST (README "Step traces"): for each
// traced step, every adapter tensor before and after masking, its gradient,
// the EMAs Ī and Ū, the triplet scores S, and the step's scalars, as .npy
// files with an index.json, so two implementations can be compared step by
// step with `adalora trace-diff`. Only the adapters are traced: every arena
// is read through ada_model_view, so an encoder host's head (its
// host_params, after the adapters in every arena) is left out.
//
// Step t = 0 is the initial state; t >= 1 the end of step t (1..T whatever
// the schedule convention). In the training loop: initial() before the
// first step, before_mask(t) between ada_trainer_update and the allocation,
// after_step(t, info) after it, finish() at the end (renames DIR into place).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/run_config.h"
#include "formats/staged_dir.h"

extern "C" {
#include "trainer.h"
}

namespace adalora {

// "0-20,50,100": steps and inclusive ranges within 0..total; sorted, each once.
// Empty text: every step 0..total. Throws UsageError naming the bad item.
std::vector<long> parse_trace_steps(const std::string &text, long total);

// The checks of --dump-init, --init-from, --trace and --trace-steps before
// any work: new directories free, steps valid, no conflicting pair.

void validate_crosscheck(const RunConfig &cfg);

class Tracer {
public:
    // header: run_index_header(..., "adalora-trace"); the directory is staged now.
    Tracer(const std::string &dir, const std::string &steps, nlohmann::json header, ada_model *m, ada_trainer *tr);
    bool traced(long t) const { return t >= 0 && (size_t)t < traced_.size() && traced_[t]; }
    void initial();
    void before_mask(long t);
    void after_step(long t, const ada_step_info &info);
    void finish();

private:
    ada_model *m_;
    ada_trainer *tr_;
    std::vector<char> traced_;
    StagedDir dir_;
    nlohmann::json index_, step_;  // step_: the entry of the step in progress
    std::vector<real> saved_scores_;

    void write(long t, int k, const std::string &kind, const real *data, std::vector<uint64_t> shape);
    void write_keep(long t, int k);
    // prefix + P/lam/Q + suffix of every module, from an arena laid out like the params.
    void write_arena(long t, const real *arena, const std::string &prefix, const std::string &suffix, bool p,
                     bool lam, bool q);
};

}  // namespace adalora

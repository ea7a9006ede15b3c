// memory_estimate.cpp: a run's memory, estimated from its options.
#include "train/memory_estimate.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "base/errors.h"

extern "C" {
#include "ada_common.h"
}

namespace adalora {

namespace {
struct Shape {
    double d_in, d_out;
};

// The modules of the task (tasks.h): planted-linear's six per layer, each its
// own chain; planted-mlp's and digits' one per layer in one chain.
std::vector<Shape> module_shapes(const RunConfig &cfg, bool &own_chains) {
    const double d = cfg.task_opt.width;
    std::vector<Shape> shapes;
    own_chains = cfg.task == "planted-linear";
    for (int l = 0; l < cfg.task_opt.layers; l++) {
        if (!own_chains) {
            shapes.push_back({std::max(d, 64.0), std::max(d, 64.0)});
            continue;
        }
        for (int j = 0; j < 6; j++) shapes.push_back({j == 5 ? 4 * d : d, j == 4 ? 4 * d : d});
    }
    return shapes;
}

std::string gib(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / (1024.0 * 1024.0 * 1024.0));
    return buf;
}
}  // namespace

double estimate_run_bytes(const RunConfig &cfg) {
    bool own_chains = false;
    const std::vector<Shape> shapes = module_shapes(cfg, own_chains);
    const double r = std::max(cfg.init_r, cfg.lora_r), batch = cfg.batch;
    const double rows = (double)cfg.task_opt.train_rows + cfg.task_opt.test_rows;
    double reals = 0, chain_in = 0, chain_out = 0;
    for (const Shape &s : shapes) {
        reals += s.d_out * s.d_in + s.d_out;                  // W0 and bias
        reals += 6 * r * (s.d_in + s.d_out + 1);              // adapter, gradients, moments, EMAs
        reals += 4 * batch * (s.d_in + s.d_out + r);          // activations and their gradients
        reals += own_chains ? 2 * s.d_out * s.d_in : 0;       // the planted teacher Δ* and its factors
        reals += 4 * r;                                       // scores, selection, patterns
        if (own_chains) reals += rows * (s.d_in + s.d_out);   // each module's own chain
        chain_in = std::max(chain_in, s.d_in);
        chain_out = std::max(chain_out, s.d_out);
    }
    if (!own_chains) reals += rows * (chain_in + chain_out) + shapes.size() * rows * chain_out;  // one chain
    return reals * sizeof(real);
}

double machine_memory_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? (double)pages * (double)page : 0;
}

void check_run_fits(const RunConfig &cfg) {
    // A sentence task's sizes come from its checkpoint, read later; there
    // ada_encoder_create's own allocation failure is the check (one line, exit 1).
    if (is_encoder_task(cfg.task)) return;
    const double need = estimate_run_bytes(cfg), have = machine_memory_bytes();
    if (have > 0 && need > have)
        throw UsageError("the run needs about " + gib(need) + " of memory (estimated from --width, --layers, --init_r, "
                         "--batch and the rows), more than this machine's " + gib(have));
}

}  // namespace adalora

// init_state.h: --dump-init and --init-from (README "Step traces"): a run's
// initial state (every module's W0, bias and adapter) and its exact
// mini-batches as .npy files with a self-describing index.json, so another
// implementation can start from our state and data, and we from theirs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tasks/tasks.h"

extern "C" {
#include "model.h"
}

namespace adalora {

// The mini-batches of a whole run, per chain [steps x rows x d], replayed in
// order; at() allocates nothing.
class BatchSet {
public:
    BatchSet(const Split &shape_of, long steps, int rows);  // zeros, shaped like the split's chains
    long steps() const { return steps_; }
    int rows() const { return rows_; }
    bool labelled() const { return labelled_; }
    const ada_batch &at(long i);  // batch of step i + 1

    std::vector<int> d_in, d_out;  // per chain
    std::vector<std::vector<real>> x, y;
    std::vector<std::vector<int32_t>> labels;

private:
    long steps_;
    int rows_;
    bool labelled_;
    std::vector<const real *> xs_, ys_;
    std::vector<const int32_t *> ls_;
    ada_batch batch_{};
};

// The first `steps` batches of the sampler.
BatchSet collect_batches(BatchSampler &sampler, const Split &split, long steps, int rows);

// Writes DIR (atomically): index.json (`header` plus the file names) and the .npy files.
void dump_init(const std::string &dir, const nlohmann::json &header, const ada_model *m, const BatchSet &batches);

// Reads DIR: refuses an index whose header disagrees with `header` (this
// run's) in anything but the config's output-only keys, writes the state into
// m (base, bias, adapter; every triplet kept) and returns the batches.
BatchSet load_init(const std::string &dir, const nlohmann::json &header, const Split &split, ada_model *m);

}  // namespace adalora

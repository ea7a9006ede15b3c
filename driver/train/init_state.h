// init_state.h: --dump-init and --init-from (README "Step traces"): a run's
// initial state (every module's W0, bias and adapter; a sentence task's
// adapters and classification head, its base being the checkpoint) and its
// exact mini-batches as .npy files with a self-describing index.json, so
// another implementation can start from our state and data, and we from
// theirs (--init-from: the MLP tasks only).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tasks/tasks.h"

extern "C" {
#include "encoder.h"
#include "model.h"
}

namespace adalora {

// The mini-batches of a whole run, replayed in order; at() allocates
// nothing. The MLP tasks: per chain [steps x rows x d]. A sentence task:
// `tokens`, steps * rows sentences (row i * rows + b is row b of step i + 1)
// padded to the longest of them; at() trims each step's batch to its own
// longest sentence, as the sampler does.
class BatchSet {
public:
    // Zeros shaped like the split's chains; a token split: no tokens yet (set_tokens).
    BatchSet(const Split &shape_of, long steps, int rows);
    long steps() const { return steps_; }
    int rows() const { return rows_; }
    bool labelled() const { return labelled_; }
    bool has_tokens() const { return tokens.seq > 0; }
    void set_tokens(TokenData data);  // steps * rows sentences
    const ada_batch &at(long i);      // batch of step i + 1

    std::vector<int> d_in, d_out;  // per chain
    std::vector<std::vector<real>> x, y;
    std::vector<std::vector<int32_t>> labels;
    TokenData tokens;  // a sentence task's

private:
    long steps_;
    int rows_;
    bool labelled_;
    std::vector<const real *> xs_, ys_;
    std::vector<const int32_t *> ls_;
    ada_batch batch_{};
    TokenBatch token_batch_;
};

// The first `steps` batches of the sampler.
BatchSet collect_batches(BatchSampler &sampler, const Split &split, long steps, int rows);

// Writes DIR (atomically): index.json (`header` plus the file names) and the
// .npy files. An MLP host: every module's W0, bias and adapter, each chain's
// batches. The encoder host (`encoder` not null): the adapters only (the frozen
// base is the checkpoint), the initial head and the token batches.
void dump_init(const std::string &dir, const nlohmann::json &header, const ada_model *m, const BatchSet &batches,
               ada_encoder *encoder = nullptr);

// Reads DIR: refuses an index whose header disagrees with `header` (this
// run's) in anything but the config's output-only keys, writes the state into
// m (base, bias, adapter; every triplet kept) and returns the batches.
BatchSet load_init(const std::string &dir, const nlohmann::json &header, const Split &split, ada_model *m);

}  // namespace adalora

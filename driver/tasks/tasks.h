// tasks.h: the tasks: the planted ones, generated from the seed with no
// files, and the real-data task digits (digits.h).
//
// planted-linear  n independent linear modules shaped like a transformer's:
//   L layers x {q, k, v, o, f1, f2} at width d (q, k, v, o: d x d; f1: 4d x d;
//   f2: d x 4d), each its own chain. The teacher is W0_k + Δ*_k with
//   Δ*_k = U_k diag(σ_k) V_kᵀ of planted rank r*_k (U, V orthonormal, so σ_k
//   is its exact spectrum). Inputs are white, so the expected loss of a
//   student is Σ_k ||Δ*_k − ΔW_k||²_F and the best loss at a total budget b
//   with at most r0 components per module is known (Eckart–Young): keep the b
//   globally largest σ's, at most r0 per module.
// planted-mlp  an L-layer GELU MLP teacher, the student's base plus a planted
//   low-rank Δ*_k per layer; no closed form.
// digits  handwritten digits: an MLP classifier pretrained on digits 0–4,
//   adapted to digits 5–9 (digits.h); no planted ranks, no oracle.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/run_config.h"

extern "C" {
#include "encoder.h"
#include "model.h"
#include "rng.h"
}

namespace adalora {

// The inputs and targets of one chain, row-major; every chain of a split has
// the same number of rows. Regression tasks fill y (rows x d_out);
// classification tasks (cross-entropy) fill labels (rows) instead.
struct ChainData {
    int d_in = 0, d_out = 0;
    std::vector<real> x, y;
    std::vector<int32_t> labels;
};

// A sentence task's split (sentence_tasks.h): `rows` sentences as token ids
// padded to seq tokens, their attention masks, and their labels
// (classification) or targets (regression, one per sentence).
struct TokenData {
    int seq = 0;
    std::vector<int32_t> ids;       // rows x seq
    std::vector<uint8_t> mask;      // rows x seq: 1 real token, 0 padding
    std::vector<int32_t> length;    // rows: real tokens
    std::vector<int32_t> labels;    // rows
    std::vector<real> targets;      // rows
};

struct Split {
    int rows = 0;
    std::vector<ChainData> chains;  // the MLP tasks
    TokenData tokens;               // the sentence tasks (tokens.seq > 0)
    bool has_tokens() const { return tokens.seq > 0; }
};

struct EncoderTask;  // sentence_tasks.h

struct Task {
    std::string name;
    std::vector<std::string> module_names;
    std::vector<ada_module_spec> specs;   // name pointers: call bind_names() after copying
    ada_loss_kind loss = ADA_LOSS_SSE;
    std::vector<int> planted_rank;
    Split train, test;
    Split dev;                            // the sentence tasks' development split (rows 0 otherwise)
    std::shared_ptr<const EncoderTask> encoder;  // the sentence tasks' pretrained encoder, else null
    // planted-linear: Δ*_k (d_out x d_in), its exact spectrum (descending) and
    // its left singular vectors U*_k (d_out x r*_k, row-major).
    std::vector<std::vector<real>> planted_delta;
    std::vector<std::vector<double>> planted_sigma;
    std::vector<std::vector<real>> planted_left;
    // A pretrained frozen base (digits): per module W0 (d_out x d_in,
    // row-major), written over the student's random base by apply_base().
    // Empty: the student keeps the base ada_model_create draws from the seed.
    std::vector<std::vector<real>> base;
    // --base-weights: per module the bias (d_out) to write too; empty keeps
    // the seeded one. base_file names the file ("" without one).
    std::vector<std::vector<real>> base_bias;
    std::string base_file;
    double pretrain_test_accuracy = 0;  // digits: the base on its own task's test rows
    std::string pretrain_cache;         // digits: the cache file of the base
    std::string pretrain_cache_status;  // digits: "hit", "built", "rebuilt (why)" (logged, not in summary.json)
    bool has_oracle() const { return !planted_sigma.empty(); }
    bool is_classification() const { return loss == ADA_LOSS_CROSS_ENTROPY; }
    bool has_encoder() const { return encoder != nullptr; }
    void bind_names();
};

struct Oracle {
    double loss = 0;        // expected loss of the best allocation
    std::vector<int> rank;  // components kept per module
};

// Builds the task named cfg.task. Throws UsageError for bad task options.
Task make_task(const RunConfig &cfg);

// Eckart–Young: the b globally largest planted σ's, at most r0 per module.
Oracle oracle_allocation(const Task &task, long budget, int r0);

// planted-linear: Σ_k ||Δ*_k − ΔW_k||²_F, the student's exact expected loss.
double expected_loss(const Task &task, const ada_model *m);

// Mean task loss of a model over a split, max_batch rows at a time.
double split_loss(ada_model *m, const Split &split);

// Classification: the fraction of rows whose label is the argmax of the last
// module's output (forward without gradient, max_batch rows at a time).
double split_accuracy(ada_model *m, const Split &split);

// Both from one forward per chunk (a forward with targets leaves the same
// outputs as one without: evaluation forwards never drop out), so the numbers
// equal split_loss's and split_accuracy's at half the cost. accuracy = false,
// or a split without class labels: NaN.
struct SplitMetrics {
    double loss, accuracy;
};
SplitMetrics split_metrics(ada_model *m, const Split &split, bool accuracy);

// Writes task.base and task.base_bias (when present) over the model's frozen
// base, module by module; call right after ada_model_create.
void apply_base(const Task &task, ada_model *m);

// Rows of a TokenData gathered into one encoder batch, trimmed to the longest
// sentence among them (padding is masked, so the trim changes no value but
// the time); `host` is what ada_batch.host points to.
class TokenBatch {
public:
    void reserve(int rows, int seq);
    // Rows row_of(0..n-1) of `data`; with targets, their labels or targets.
    void gather(const TokenData &data, int n, const std::function<size_t(int)> &row_of, bool with_targets);
    const ada_encoder_batch *host() const { return &host_; }

private:
    std::vector<int32_t> ids_, labels_;
    std::vector<uint8_t> mask_;
    std::vector<real> targets_;
    ada_encoder_batch host_{};
};

// Mini-batches of a split: the same row indices in every chain, drawn with
// replacement from a seeded stream; targets y, or labels for classification.
// The buffers are allocated once, so next() allocates nothing.
class BatchSampler {
public:
    BatchSampler(const Split &split, int rows, uint64_t seed);
    const ada_batch &next();
    // The whole position of the stream (draws are with replacement, so the
    // generator's state is the data cursor): saved and restored by checkpoints.
    const ada_rng &rng_state() const { return rng_; }
    void set_rng_state(const ada_rng &state) { rng_ = state; }
    // A sentence task: the split rows of the last batch next() drew (--dump-init).
    const std::vector<size_t> &token_rows() const { return token_rows_; }

private:
    const Split &split_;
    ada_rng rng_;
    std::vector<std::vector<real>> x_, y_;
    std::vector<std::vector<int32_t>> labels_;
    std::vector<const real *> xs_, ys_;
    std::vector<const int32_t *> ls_;
    ada_batch batch_{};
    TokenBatch tokens_;               // a sentence task's batch (batch_.host)
    std::vector<size_t> token_rows_;  // its rows
};

// --base-weights FILE: NAME.W0 [d_out, d_in] for every module of the task and
// optionally NAME.bias [d_out] (only for modules that have a bias) into
// task.base and task.base_bias; other tensors are ignored. A missing tensor,
// a wrong shape, a non-finite value or a W0/bias of a module the task does
// not have is a UsageError naming the file and tensor.
void load_base_weights(const std::string &path, Task &task);

}  // namespace adalora

// digits.h: the real-data task `digits`, a fine-tuning problem on the
// handwritten digits set (1,797 8x8 images, UCI optdigits as scikit-learn
// ships it; data/digits.csv.gz, see data/README.md).
//
//   data       each row: 64 pixel values 0..16, then the label 0..9; pixels
//              are scaled to [0, 1]. The rows of digits 0–4 and of digits 5–9
//              (the two halves) are each shuffled with a fixed seed and split
//              80/20 into train and test rows: the split never changes.
//   model      an MLP 64 → 64 (GELU) → 64 (GELU) → 10 (identity), no biases,
//              softmax cross-entropy over the 10 classes.
//   pretrain   the base is trained in full on digits 0–4 by the project's own
//              code: a LoRA-form model at full rank (r0 = 64 ≥ min(d_in, d_out)
//              of every module, so B A can be any update) from a seeded random
//              base, AdamW, then W0 + s·B A is folded into the new frozen base.
//              The base is cached in CACHE_DIR/digits-base-<key>.bin, keyed by
//              everything it depends on; a cache file that fails any check is
//              ignored and rebuilt.
//   adaptation digits 5–9 with the same 10-way head (labels 5..9), every method
//              starting from the frozen pretrained base (Task::base).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/run_config.h"
#include "tasks/tasks.h"

namespace adalora {

constexpr int kDigitsPixels = 64, kDigitsClasses = 10, kDigitsHidden = 64;

// The parsed file: rows x 64 pixels (0..16) and rows labels (0..9).
struct DigitsData {
    std::string path;
    int rows = 0;
    std::vector<uint8_t> pixels;
    std::vector<int32_t> labels;
    uint64_t checksum = 0;  // FNV-1a 64 of pixels and labels (part of the cache key)
};

// Reads a gzip CSV of rows "p0,...,p63,label". Throws UsageError (one line
// naming the file and the line) for a missing or unreadable file, a file that
// is not gzip or is truncated or corrupt, a row without exactly 65 fields, a
// field that is not an integer, a pixel outside 0..16 or a label outside 0..9.
DigitsData load_digits(const std::string &path);

// Row indices of the fixed split: pretraining (digits 0–4) and adaptation
// (digits 5–9), each 80% train, 20% test.
struct DigitsSplit {
    std::vector<int> pre_train, pre_test, train, test;
};
DigitsSplit split_digits(const DigitsData &data);

// The rows `index` as one chain: x = pixels / 16, labels as they are.
Split digits_rows(const DigitsData &data, const std::vector<int> &index);

// The MLP's modules (names "l0", "l1", "l2"; bind the names before use).
void digits_architecture(std::vector<std::string> &names, std::vector<ada_module_spec> &specs);

// The pretrained base: per module W0 (d_out x d_in, row-major).
struct PretrainedBase {
    std::vector<std::vector<real>> weights;
    double test_accuracy = 0;  // on the digits 0–4 test rows
    std::string cache_path;
    std::string cache_status;  // "hit", "built", "rebuilt (<reason>)", "not written (<reason>)"
};

// The cache file of a pretraining run of cfg over `data`: the file name
// carries the hash of the key (architecture, pretraining seed, steps,
// learning rate, batch, initialisation, precision, data checksum).
uint64_t digits_cache_key(const RunConfig &cfg, const DigitsData &data);
std::string digits_cache_path(const RunConfig &cfg, const DigitsData &data);

// The cached base when a valid cache file exists, else pretrains and writes
// the cache atomically (temp file + rename).
PretrainedBase digits_base(const RunConfig &cfg, const DigitsData &data, const DigitsSplit &split);

// Pretraining itself, no cache.
std::vector<std::vector<real>> pretrain_digits(const RunConfig &cfg, const Split &train);

// Reads a cache file; "" when it is valid (weights filled), else the reason
// it was refused. Writes one atomically; "" or the reason it failed.
std::string read_digits_cache(const std::string &path, uint64_t key, std::vector<std::vector<real>> &weights);
std::string write_digits_cache(const std::string &path, uint64_t key, const std::vector<std::vector<real>> &weights);

// The task `digits` (make_task dispatches here).
Task make_digits_task(const RunConfig &cfg);

}  // namespace adalora

// sentence_tasks.h: the sentence tasks, a pretrained BERT-family encoder
// (hosts/encoder.h) fine-tuned on real sentences:
//
//   sentiment-amazon, -imdb, -yelp  the UCI Sentiment Labelled Sentences
//       (Kotzias et al. 2015), 1,000 sentences each, 2 classes
//   vader-movies        VADER's 10,605 movie-review snippets (Hutto & Gilbert
//       2014), positive or negative by the sign of the mean human rating
//   vader-movies-score  the same snippets, the mean rating itself (regression)
//
// Splits are 80/10/10 train/dev/test, fixed (tasks/sentences.h), the same for
// every run and machine. Sentences become [CLS] ids [SEP] by the checkpoint's
// WordPiece tokenizer, truncated and padded to --max-seq.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "config/run_config.h"
#include "formats/bert_checkpoint.h"
#include "tasks/tasks.h"

extern "C" {
#include "encoder.h"
}

namespace adalora {

struct EncoderTask {
    BertCheckpoint checkpoint;
    unsigned targets = 0;   // bit t: kEncoderTargets[t] is adapted
    uint64_t layer_mask = 0; // bit l: layer l is adapted; 0: every layer (--layers-to-transform all)
    int n_outputs = 2;      // classes, or 1 (regression)
    int max_seq = 64;
    double dropout = 0;
    std::string data_file;  // where the sentences came from
    std::string data_package; // "NAME VERSION" of the make-deps asset it is from; "" with --sentence-data
    uint64_t split_seed = 0;  // the seeded shuffle of the 80/10/10 split (sentences.h)
};

// What a sentence task's run was trained and evaluated on, for its
// summary.json: the checkpoint (folder name, SHA-256 of model.safetensors),
// the data file (name, package and version, SHA-256) and the split (seed,
// rule, sizes); names rather than paths, so a record says the same on every
// machine.
nlohmann::json sentence_provenance(const Task &task);

// SHA-256 of a checkpoint's model.safetensors, as 64 hex digits.
std::string checkpoint_sha256(const BertCheckpoint &checkpoint);

// The task cfg.task names (is_encoder_task): the checkpoint, the tokenized
// splits, one module spec per adapted matrix (hosts/encoder.h order and names).
Task make_sentence_task(const RunConfig &cfg);

// --target-modules as a bit mask over kEncoderTargets ("all": the six).
unsigned encoder_target_mask(const std::string &target_modules);

// --layers-to-transform as a bit mask over a checkpoint's `layers` layers
// ("all": 0, every layer); refuses an index outside 0..layers-1 or a repeat.
uint64_t encoder_layer_mask(const std::string &layers_to_transform, int layers);

using EncoderPtr = std::unique_ptr<ada_encoder, void (*)(ada_encoder *)>;

// The encoder of a sentence task with the method's adapters (form, r0,
// alpha, scale, init, seed) and the checkpoint's weights, for batches of at
// most max_batch sentences.
EncoderPtr make_encoder(const EncoderTask &task, const ada_model_config &adapters, int max_batch, uint64_t dropout_seed);

}  // namespace adalora

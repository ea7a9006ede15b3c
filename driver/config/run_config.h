// run_config.h: what one training run is: the task, the method and every
// hyper-parameter (PEFT's AdaLoraConfig names), the errors the layers above
// report through main's exit codes, and the checks a configuration passes
// before anything is computed or written. Filled in by the command line
// (cli/options.h), a config file or a sweep cell; read by every layer above.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/errors.h"

namespace adalora {

struct TaskOptions {
    int width = 64;           // d of planted-linear, hidden width of planted-mlp
    int layers = 4;           // L
    std::string planted_ranks;// comma list, one per module; empty = drawn from the seed
    double noise = 0.0;       // std of the training targets' output noise
    int train_rows = 1024, test_rows = 1024;
    // digits (real data, digits.h)
    std::string data_dir = "data";          // holds digits.csv.gz
    std::string cache_dir = "build/cache";  // the pretrained bases
    long pretrain_steps = 3000;             // AdamW steps of the base on digits 0–4
    uint64_t pretrain_seed = 0;             // the base's random start and batches
    std::string base_weights;               // safetensors file of every module's W0 (and bias)
    // The sentence tasks (a pretrained BERT-family encoder, is_encoder_task)
    std::string model_dir;                  // HF checkpoint folder; "": build/assets/all-MiniLM-L6-v2
    std::string sentence_data;              // folder of the task's sentences; "": its asset
    std::string target_modules = "all";     // PEFT's names, comma list, or "all" (the six)
    std::string layers_to_transform = "all"; // layer indices, comma list, or "all" (PEFT's layers_to_transform)
    bool no_train_eval = false;             // leave the final pass over the training split out of summary.json
    int max_seq = 64;                       // tokens per sentence, [CLS] and [SEP] included
    double dropout = 0.1;                   // hidden-state and head dropout in training (BERT's 0.1)
    long eval_every = 0;                    // steps between dev-accuracy lines; 0: at the end only
};

struct RunConfig {
    std::string task = "planted-linear";
    std::string method = "adalora";
    uint64_t seed = 0;
    std::string out;
    // AdaLoraConfig names
    int init_r = 8, target_r = 2;
    long target_budget = 0;   // b(T); 0: n * target_r
    long tinit = 200, tfinal = 600, deltaT = 10, total_step = 2000;
    double beta1 = 0.85, beta2 = 0.85, orth_reg_weight = 0.1, lora_alpha = 8.0;
    // baselines and training
    int lora_r = 0;           // 0: target_r
    double lr = 5e-3, weight_decay = 0.0;
    double clip = -1.0;         // global gradient-norm bound; 0 off; -1: the preset's (original: 1.0)
    // Conventions (docs/SPEC.md §4): a preset, and the rows set explicitly
    // (option name without -- to value; absent: the preset's), see conventions.h.
    std::string convention = "paper";
    std::map<std::string, std::string> convention_rows;
    int batch = 32;
    std::string importance = "sens-unc";
    bool no_prune = false;
    bool hard_delete = false;   // adalora: a pruned triplet never comes back (revival ablation)
    std::string svd = "qr";
    long log_every = 10;
    bool mask_jump = false;     // measure the batch loss change of every mask step (2 extra forwards)
    std::string log = "auto";  // auto: a progress line on a terminal, plain lines otherwise
    std::string on_nonfinite = "stop";  // stop | skip-step (see README, numerical guard)
    // Checkpoints (train only, run_dir.h). Not in config_json: they change how
    // a run is carried out, never what it computes.
    long save_every = 0;      // steps between checkpoints; 0: none besides --stop-after's
    long stop_after = 0;      // end cleanly after this step with a checkpoint; 0: run to the end
    std::string resume;       // the run directory to continue
    TaskOptions task_opt;
    // Cross-checking other implementations (README "Step traces"); not part of
    // config_json: they choose what is written or read, not what is computed.
    std::string dump_init;    // --dump-init DIR: initial state and batches as .npy
    std::string init_from;    // --init-from DIR: start from such a directory
    std::string trace;        // --trace DIR: per-step tensors as .npy
    std::string trace_steps;  // --trace-steps LIST: "0-20,50,100" (default: every step)
};

// The sentence tasks fine-tune a pretrained encoder (tasks/sentence_tasks.h);
// the others are the MLP host's.
extern const std::vector<std::string> kEncoderTasks, kEncoderTargets;
bool is_encoder_task(const std::string &task);
// An encoder matrix's name "L.type" (L decimal without a leading zero, at most
// 6 digits; type one of kEncoderTargets): its layer and type index, or false.
bool split_encoder_module(const std::string &module, int *layer, size_t *type);

extern const std::vector<std::string> kTasks, kMethods, kImportance, kSvdMethods, kLogModes, kOnNonfinite;

// A config value (string, number or boolean) as command-line text; `key`
// names it in the UsageError for any other type.
std::string config_value_text(const nlohmann::json &v, const std::string &key);

// The checks of PEFT and more: target_r <= init_r, deltaT >= 1,
// tinit + tfinal < total_step, 0 < beta < 1, ... Throws UsageError naming the
// option and its allowed values.
void validate(const RunConfig &cfg);

}  // namespace adalora

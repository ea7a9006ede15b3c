// run_config.cpp: the allowed values and the checks of a run's configuration.
#include "config/run_config.h"
#include "base/util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "config/conventions.h"

namespace adalora {

const std::vector<std::string> kTasks = {"planted-linear", "planted-mlp", "digits", "sentiment-amazon",
                                         "sentiment-imdb", "sentiment-yelp", "vader-movies", "vader-movies-score"};
const std::vector<std::string> kEncoderTasks = {"sentiment-amazon", "sentiment-imdb", "sentiment-yelp", "vader-movies",
                                                "vader-movies-score"};
// PEFT's target_modules names of a BERT layer's six matrices (hosts/encoder.h order).
const std::vector<std::string> kEncoderTargets = {"query", "key", "value", "attention.output.dense",
                                                  "intermediate.dense", "output.dense"};

bool is_encoder_task(const std::string &task) {
    return std::find(kEncoderTasks.begin(), kEncoderTasks.end(), task) != kEncoderTasks.end();
}

bool split_encoder_module(const std::string &module, int *layer, size_t *type) {
    const size_t dot = module.find('.');
    if (dot == std::string::npos || dot == 0 || dot > 6 || (module[0] == '0' && dot > 1)) return false;
    for (size_t i = 0; i < dot; i++)
        if (module[i] < '0' || module[i] > '9') return false;
    const auto it = std::find(kEncoderTargets.begin(), kEncoderTargets.end(), module.substr(dot + 1));
    if (it == kEncoderTargets.end()) return false;
    *layer = std::stoi(module.substr(0, dot));
    *type = (size_t)(it - kEncoderTargets.begin());
    return true;
}
const std::vector<std::string> kMethods = {"adalora", "lora", "lora-orth", "svd-lora", "prune-lora", "svd-proj",
                                           "head-only"};
const std::vector<std::string> kImportance = {"sens-unc", "sens", "magnitude"};
const std::vector<std::string> kSvdMethods = {"full", "qr"};
const std::vector<std::string> kLogModes = {"auto", "lines", "progress", "quiet"};
const std::vector<std::string> kOnNonfinite = {"stop", "skip-step"};

namespace {

void require(bool ok, const std::string &message) {
    if (!ok) throw UsageError(message);
}

void require_member(const std::string &value, const std::vector<std::string> &allowed, const char *option) {
    for (const auto &a : allowed)
        if (a == value) return;
    throw UsageError(std::string(option) + " = '" + value + "': allowed values are " + join(allowed, ", "));
}

}  // namespace

std::string config_value_text(const nlohmann::json &j, const std::string &key) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_number_unsigned()) return std::to_string(j.get<uint64_t>());  // a seed above 2^63
    if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
    if (j.is_number()) return number_text(j.get<double>());
    if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
    throw UsageError("config: key '" + key + "' has an unsupported value type (allowed: string, number, boolean, array of those)");
}

namespace {

// The sentence tasks' options, and the features their runs do not have.
void validate_encoder_options(const RunConfig &c) {
    const TaskOptions &t = c.task_opt;
    require(t.max_seq >= 2 && t.max_seq <= 4096, "--max-seq = " + std::to_string(t.max_seq) + ": allowed 2..4096");
    require(std::isfinite(t.dropout) && t.dropout >= 0 && t.dropout < 1,
            "--dropout = " + number_text(t.dropout) + ": allowed 0 <= dropout < 1");
    require(t.eval_every >= 0, "--eval-every = " + std::to_string(t.eval_every) + ": must be >= 0 (0: at the end only)");
    if (t.target_modules != "all")
        for (const std::string &name : split_list(t.target_modules))
            require_member(name, kEncoderTargets, "--target-modules (or all)");
    if (!is_encoder_task(c.task)) {
        require(t.layers_to_transform == "all" && !t.no_train_eval,
                "--layers-to-transform and --no-train-eval: the sentence tasks only (task " + c.task + ")");
        return;
    }
    const std::string why = ": not available with the sentence task " + c.task + " (the MLP tasks only)";
    require(c.init_from.empty(), "--init-from" + why);  // --dump-init and --trace work (README "Step traces")
    require(t.base_weights.empty(), "--base-weights" + why + "; the encoder's base is --model");
    require(t.planted_ranks.empty(), "--planted-ranks" + why);
    require(c.save_every == 0 && c.stop_after == 0 && c.resume.empty(),
            "--save-every, --stop-after and --resume" + why + " (the dropout stream is not checkpointed)");
}

// --method head-only: the encoder frozen, no adapter, its classification head
// alone trains (PEFT's modules_to_save); no budget, so no schedule to check.
void validate_head_only(const RunConfig &c) {
    if (c.method != "head-only") return;
    require(is_encoder_task(c.task), "--method head-only: needs a sentence task (" + join(kEncoderTasks, ", ") +
                                         "); " + c.task + " has no classification head of its own");
    require(c.task_opt.target_modules == "all", "--target-modules = '" + c.task_opt.target_modules +
                                                    "': not available with --method head-only (it adapts no matrix)");
    require(c.trace.empty() && c.dump_init.empty(),
            "--trace and --dump-init: not available with --method head-only (they record the adapters; it has none)");
}

}  // namespace

void validate(const RunConfig &c) {
    require_member(c.task, kTasks, "--task");
    require_member(c.method, kMethods, "--method");
    require_member(c.importance, kImportance, "--importance");
    require_member(c.svd, kSvdMethods, "--svd");
    require_member(c.log, kLogModes, "--log");
    require(!c.out.empty(), "--out is required: the directory to write the run into");
    require(c.init_r >= 1, "--init_r = " + std::to_string(c.init_r) + ": must be >= 1");
    require(c.target_r >= 0 && c.target_r <= c.init_r,
            "--target_r = " + std::to_string(c.target_r) + ": allowed 0..init_r = " + std::to_string(c.init_r));
    require(c.target_budget >= 0, "--target-budget = " + std::to_string(c.target_budget) + ": must be >= 0 (0: n * target_r)");
    require(c.lora_r >= 0, "--lora_r = " + std::to_string(c.lora_r) + ": must be >= 0 (0: target_r)");
    require((c.method != "lora" && c.method != "lora-orth" && c.method != "svd-lora") || c.lora_r > 0 ||
                c.target_r > 0 || c.target_budget > 0,
            "--lora_r = 0 and --target_r = 0: a fixed-rank method needs a rank >= 1");
    require(c.total_step >= 1, "--total_step = " + std::to_string(c.total_step) + ": must be >= 1");
    require(c.tinit >= 0, "--tinit = " + std::to_string(c.tinit) + ": must be >= 0");
    require(c.tfinal >= 0, "--tfinal = " + std::to_string(c.tfinal) + ": must be >= 0");
    validate_head_only(c);
    require(c.method == "head-only" || c.tinit + c.tfinal < c.total_step,
            "--tinit + --tfinal = " + std::to_string(c.tinit + c.tfinal) + ": must be < --total_step = " +
                std::to_string(c.total_step));
    require(c.deltaT >= 1, "--deltaT = " + std::to_string(c.deltaT) + ": must be >= 1");
    require(c.beta1 > 0 && c.beta1 < 1, "--beta1 = " + number_text(c.beta1) + ": allowed 0 < beta1 < 1");
    require(c.beta2 > 0 && c.beta2 < 1, "--beta2 = " + number_text(c.beta2) + ": allowed 0 < beta2 < 1");
    require(std::isfinite(c.orth_reg_weight) && c.orth_reg_weight >= 0,
            "--orth_reg_weight = " + number_text(c.orth_reg_weight) + ": must be finite and >= 0");
    require(std::isfinite(c.lora_alpha) && c.lora_alpha > 0, "--lora_alpha = " + number_text(c.lora_alpha) + ": must be finite and > 0");
    require(std::isfinite(c.lr) && c.lr > 0, "--lr = " + number_text(c.lr) + ": must be finite and > 0");
    require(std::isfinite(c.weight_decay) && c.weight_decay >= 0,
            "--weight_decay = " + number_text(c.weight_decay) + ": must be finite and >= 0");
    require(c.clip == -1.0 || (std::isfinite(c.clip) && c.clip >= 0),
            "--clip = " + number_text(c.clip) + ": must be finite and >= 0 (0: off), or -1 (the convention's)");
    validate_conventions(c);
    require(c.batch >= 1 && c.batch <= 65536, "--batch = " + std::to_string(c.batch) + ": allowed 1..65536");
    require_member(c.on_nonfinite, kOnNonfinite, "--on-nonfinite");
    require(c.save_every >= 0, "--save-every = " + std::to_string(c.save_every) + ": must be >= 0 (0: no checkpoints)");
    require(c.stop_after >= 0 && c.stop_after < c.total_step,
            "--stop-after = " + std::to_string(c.stop_after) + ": allowed 0 (off) or 1..total_step-1 = " +
                std::to_string(c.total_step - 1));
    require(c.log_every >= 1, "--log-every = " + std::to_string(c.log_every) + ": must be >= 1");
    require(c.task_opt.width >= 1 && c.task_opt.width <= 8192, "--width = " + std::to_string(c.task_opt.width) + ": allowed 1..8192");
    require(c.task_opt.layers >= 1 && c.task_opt.layers <= 64, "--layers = " + std::to_string(c.task_opt.layers) + ": allowed 1..64");
    require(std::isfinite(c.task_opt.noise) && c.task_opt.noise >= 0, "--noise = " + number_text(c.task_opt.noise) + ": must be finite and >= 0");
    require(c.task_opt.train_rows >= 1, "--train-rows = " + std::to_string(c.task_opt.train_rows) + ": must be >= 1");
    require(c.task_opt.test_rows >= 1, "--test-rows = " + std::to_string(c.task_opt.test_rows) + ": must be >= 1");
    require(!c.task_opt.data_dir.empty(), "--data-dir is empty: the directory of digits.csv.gz");
    require(!c.task_opt.cache_dir.empty(), "--cache-dir is empty: the directory of the cached pretrained bases");
    require(c.task_opt.pretrain_steps >= 1 && c.task_opt.pretrain_steps <= 10000000,
            "--pretrain-steps = " + std::to_string(c.task_opt.pretrain_steps) + ": allowed 1..10000000");
    require(c.task != "digits" || c.task_opt.planted_ranks.empty(),
            "--planted-ranks: the digits task has no planted ranks (allowed only with planted-linear, planted-mlp)");
    validate_encoder_options(c);
    require(c.importance != "magnitude" || c.method == "adalora",
            "--importance = magnitude: only for --method adalora (the other methods have no lambda)");
}

}  // namespace adalora

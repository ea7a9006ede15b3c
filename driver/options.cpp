// options.cpp: train options, config files and their validation.
#include "options.h"

#include "conventions.h"
#include "toml_input.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace adalora {

const std::vector<std::string> kTasks = {"planted-linear", "planted-mlp", "digits"};
const std::vector<std::string> kMethods = {"adalora", "lora", "lora-orth", "svd-lora", "prune-lora", "svd-proj"};
const std::vector<std::string> kImportance = {"sens-unc", "sens", "magnitude"};
const std::vector<std::string> kSvdMethods = {"full", "qr"};
const std::vector<std::string> kLogModes = {"auto", "lines", "progress", "quiet"};
const std::vector<std::string> kOnNonfinite = {"stop", "skip-step"};

namespace {

std::string join(const std::vector<std::string> &v, const char *sep) {
    std::string s;
    for (size_t i = 0; i < v.size(); i++) s += (i ? sep : "") + v[i];
    return s;
}


// One scalar of a config file as command-line text.
std::string scalar_text(const toml::node &n, const std::string &key) {
    if (auto s = n.value_exact<std::string>()) return *s;
    if (auto i = n.value_exact<int64_t>()) return std::to_string(*i);
    if (auto d = n.value_exact<double>()) return number_text(*d);
    if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
    throw UsageError("config: key '" + key + "' has an unsupported value type (allowed: string, number, boolean, array of those)");
}


void push_key(std::vector<std::string> &tokens, CLI::App *cmd, const std::string &key,
              const std::string &value) {
    const CLI::Option *opt = cmd->get_option_no_throw("--" + key);
    if (!opt || key == "config" || key == "help")
        throw UsageError("config: unknown key '" + key + "' (see 'adalora " + cmd->get_name() + " --help')");
    tokens.push_back("--" + key + "=" + value);
}

std::vector<std::string> toml_tokens(const std::string &text, const std::string &path, CLI::App *cmd) {
    const toml::table table = parse_toml(text, path, "config " + path);
    std::vector<std::string> tokens;
    for (auto &&[k, node] : table) {
        std::string key(k.str());
        if (auto *arr = node.as_array()) {
            std::vector<std::string> items;
            for (auto &&item : *arr) items.push_back(scalar_text(item, key));
            push_key(tokens, cmd, key, join(items, ","));
        } else if (node.is_table()) {
            throw UsageError("config " + path + ": key '" + key + "' is a table; keys are flat (allowed: the train options)");
        } else {
            push_key(tokens, cmd, key, scalar_text(node, key));
        }
    }
    return tokens;
}

std::vector<std::string> json_tokens(const std::string &text, const std::string &path, CLI::App *cmd) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error &e) {
        throw UsageError("config " + path + ": JSON error at byte " + std::to_string(e.byte) + ": not valid JSON");
    } catch (const nlohmann::json::exception &e) {
        // Valid syntax the parser still refuses, such as a number beyond the
        // range of a double (found by the config fuzz target): its message
        // without the "[json.exception.out_of_range.406] " prefix.
        const std::string what = e.what();
        const size_t end = what.find("] ");
        throw UsageError("config " + path + ": JSON error: " + (end == std::string::npos ? what : what.substr(end + 2)));
    }
    if (!doc.is_object()) throw UsageError("config " + path + ": the top level must be an object");
    std::vector<std::string> tokens;
    for (auto &[key, value] : doc.items()) {
        if (value.is_array()) {
            std::vector<std::string> items;
            for (auto &item : value) items.push_back(config_value_text(item, key));
            push_key(tokens, cmd, key, join(items, ","));
        } else if (value.is_object()) {
            throw UsageError("config " + path + ": key '" + key + "' is an object; keys are flat (allowed: the train options)");
        } else {
            push_key(tokens, cmd, key, config_value_text(value, key));
        }
    }
    return tokens;
}

bool ends_with(const std::string &s, const std::string &tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void require(bool ok, const std::string &message) {
    if (!ok) throw UsageError(message);
}

void require_member(const std::string &value, const std::vector<std::string> &allowed, const char *option) {
    for (const auto &a : allowed)
        if (a == value) return;
    throw UsageError(std::string(option) + " = '" + value + "': allowed values are " + join(allowed, ", "));
}

}  // namespace

std::string number_text(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string config_value_text(const nlohmann::json &j, const std::string &key) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_number_unsigned()) return std::to_string(j.get<uint64_t>());  // a seed above 2^63
    if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
    if (j.is_number()) return number_text(j.get<double>());
    if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
    throw UsageError("config: key '" + key + "' has an unsupported value type (allowed: string, number, boolean, array of those)");
}

std::vector<std::string> config_file_tokens(const std::string &path, CLI::App *cmd) {
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;  // a directory opens but cannot be read
    if (!in || !std::filesystem::is_regular_file(path, ec))
        throw UsageError("--config " + path + ": cannot read the file");
    std::stringstream text;
    text << in.rdbuf();
    return config_text_tokens(text.str(), path, cmd);
}

std::vector<std::string> config_text_tokens(const std::string &text, const std::string &path, CLI::App *cmd) {
    if (ends_with(path, ".toml")) return toml_tokens(text, path, cmd);
    if (ends_with(path, ".json")) return json_tokens(text, path, cmd);
    throw UsageError("--config " + path + ": unknown file type (allowed: .toml, .json)");
}

void add_train_options(CLI::App *cmd, RunConfig &c) {
    // A flag given twice (config file, then command line) keeps the last value.
    cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    cmd->add_option("--config", "TOML or JSON file with the same keys as these options; flags override it");
    cmd->add_option("--task", c.task, "task: " + join(kTasks, ", "))->capture_default_str();
    cmd->add_option("--method", c.method, "method: " + join(kMethods, ", "))->capture_default_str();
    cmd->add_option("--seed", c.seed, "random seed of the task, the initialisation and the batches")
        ->check(CLI::Validator(
            [](std::string &v) { return v.rfind('-', 0) == 0 ? std::string("must be an integer >= 0") : std::string(); },
            "UINT64"))
        ->capture_default_str();
    cmd->add_option("--out", c.out, "output directory (must not exist; written atomically)");
    cmd->add_option("--init_r,--init-r", c.init_r, "initial rank r0 of every matrix")->capture_default_str();
    cmd->add_option("--target_r,--target-r", c.target_r, "target average rank: b(T) = n * target_r")->capture_default_str();
    cmd->add_option("--target-budget,--target_budget", c.target_budget, "b(T), the total kept triplets (0: n * target_r)")->capture_default_str();
    cmd->add_option("--tinit", c.tinit, "warm-up steps t_i")->capture_default_str();
    cmd->add_option("--tfinal", c.tfinal, "final fine-tuning steps t_f")->capture_default_str();
    cmd->add_option("--deltaT,--delta-t", c.deltaT, "steps between two mask steps")->capture_default_str();
    cmd->add_option("--total_step,--total-step", c.total_step, "total steps T")->capture_default_str();
    cmd->add_option("--beta1", c.beta1, "EMA rate of the sensitivity (Eq. 11)")->capture_default_str();
    cmd->add_option("--beta2", c.beta2, "EMA rate of the uncertainty (Eq. 12)")->capture_default_str();
    cmd->add_option("--orth_reg_weight,--orth-reg-weight", c.orth_reg_weight, "gamma of Eq. 4")->capture_default_str();
    cmd->add_option("--lora_alpha,--lora-alpha", c.lora_alpha, "alpha: scale s = alpha / r0")->capture_default_str();
    cmd->add_option("--lora_r,--lora-r", c.lora_r, "rank of lora, lora-orth and svd-lora (0: target_r)")->capture_default_str();
    cmd->add_option("--lr", c.lr, "AdamW learning rate")->capture_default_str();
    cmd->add_option("--weight_decay,--weight-decay", c.weight_decay, "AdamW decoupled weight decay")->capture_default_str();
    cmd->add_option("--clip", c.clip, "global gradient-norm bound (0: off; -1: the convention's, original 1.0)")
        ->capture_default_str();
    cmd->add_option("--convention", c.convention, "preset of the conventions table: paper, peft, original")
        ->capture_default_str();
    for (const auto &row : convention_rows()) {
        if (row.option == "clip") continue;  // a number of its own, above
        std::string help = "spec row " + row.rows + ": " + row.what + " (default: the convention's)";
        std::string underscored = row.option;
        for (char &ch : underscored) ch = ch == '-' ? '_' : ch;
        cmd->add_option_function<std::string>(
            "--" + row.option + ",--" + underscored,
            [&c, name = row.option](const std::string &v) { c.convention_rows[name] = v; }, help);
    }
    cmd->add_option("--batch", c.batch, "mini-batch rows")->capture_default_str();
    cmd->add_option("--importance", c.importance, "triplet score: " + join(kImportance, ", "))->capture_default_str();
    cmd->add_flag("--no-prune,--no_prune", c.no_prune, "adalora without pruning (SVD-LoRA at init_r)");
    cmd->add_flag("--hard-delete,--hard_delete", c.hard_delete,
                  "adalora: a pruned triplet is zeroed for good instead of masked (prune-lora always is)");
    cmd->add_option("--svd", c.svd, "svd-proj's exact SVD: " + join(kSvdMethods, ", "))->capture_default_str();
    cmd->add_option("--log-every,--log_every", c.log_every, "steps between metrics.csv rows")->capture_default_str();
    cmd->add_flag("--mask-jump,--mask_jump", c.mask_jump,
                  "measure the task-loss change each mask step causes on its batch (metrics.csv mask_jump)");
    cmd->add_option("--log", c.log, "stderr log: " + join(kLogModes, ", "))->capture_default_str();
    cmd->add_option("--on-nonfinite,--on_nonfinite", c.on_nonfinite,
                    "a NaN/Inf loss, gradient or parameter: stop (exit 3) or skip-step (discard that step's update)")
        ->capture_default_str();
    cmd->add_option("--width", c.task_opt.width, "task width d")->capture_default_str();
    cmd->add_option("--layers", c.task_opt.layers, "task layers L")->capture_default_str();
    cmd->add_option("--planted-ranks,--planted_ranks", c.task_opt.planted_ranks,
                    "comma list of planted ranks, one per module (default: drawn from the seed)");
    cmd->add_option("--noise", c.task_opt.noise, "std of the training targets' noise")->capture_default_str();
    cmd->add_option("--train-rows,--train_rows", c.task_opt.train_rows, "training rows")->capture_default_str();
    cmd->add_option("--test-rows,--test_rows", c.task_opt.test_rows, "test rows")->capture_default_str();
    cmd->add_option("--data-dir,--data_dir", c.task_opt.data_dir, "digits: directory of digits.csv.gz")->capture_default_str();
    cmd->add_option("--cache-dir,--cache_dir", c.task_opt.cache_dir, "digits: directory of the cached pretrained bases")
        ->capture_default_str();
    cmd->add_option("--pretrain-steps,--pretrain_steps", c.task_opt.pretrain_steps,
                    "digits: AdamW steps of the base on digits 0-4")->capture_default_str();
    cmd->add_option("--pretrain-seed,--pretrain_seed", c.task_opt.pretrain_seed,
                    "digits: seed of the base's random start and batches")
        ->check(CLI::Validator(
            [](std::string &v) { return v.rfind('-', 0) == 0 ? std::string("must be an integer >= 0") : std::string(); },
            "UINT64"))
        ->capture_default_str();
    cmd->add_option("--base-weights,--base_weights", c.task_opt.base_weights,
                    "safetensors file with NAME.W0 [d_out, d_in] (and optionally NAME.bias) per module: the frozen base "
                    "(planted tasks: the teacher's too); a run's adapter.safetensors qualifies");
}

void add_checkpoint_options(CLI::App *cmd, RunConfig &c) {
    cmd->add_option("--save-every,--save_every", c.save_every, "steps between checkpoints in the run directory (0: none)")
        ->capture_default_str();
    cmd->add_option("--stop-after,--stop_after", c.stop_after,
                    "end cleanly after this step with a checkpoint (0: run to total_step)")
        ->capture_default_str();
    cmd->add_option("--resume", c.resume, "continue the interrupted run in this directory (its options are kept)");
    // Hidden (no group): how the tests make one step non-finite on purpose.
    cmd->add_option("--inject-nonfinite", c.inject_nonfinite, "tests only")->group("");
}

void add_crosscheck_options(CLI::App *cmd, RunConfig &c) {
    cmd->add_option("--dump-init,--dump_init", c.dump_init,
                    "write the initial state and every mini-batch of the run as .npy files into this new directory");
    cmd->add_option("--init-from,--init_from", c.init_from,
                    "start from a --dump-init directory: its state and batches (its index must match this run)");
    cmd->add_option("--trace", c.trace, "write per-step tensors and scalars as .npy files into this new directory");
    cmd->add_option("--trace-steps,--trace_steps", c.trace_steps,
                    "steps to trace with --trace: comma list of steps and ranges, e.g. 0-20,50,100 (default: all)");
}

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
    require(c.tinit + c.tfinal < c.total_step,
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
    require(c.importance != "magnitude" || c.method == "adalora",
            "--importance = magnitude: only for --method adalora (the other methods have no lambda)");
}

}  // namespace adalora

// options.cpp: train options, config files and their validation.
#include "config/options.h"
#include "base/util.h"

#include "base/read_file.h"
#include "config/conventions.h"
#include "config/toml_input.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

namespace adalora {

namespace {


// A config file's value as JSON (TOML scalars and arrays of them), so both
// formats go through the same type check.
nlohmann::json toml_value(const toml::node &n, const std::string &path, const std::string &key) {
    if (auto *arr = n.as_array()) {
        nlohmann::json items = nlohmann::json::array();
        for (auto &&item : *arr) {
            if (item.is_array() || item.is_table())
                throw UsageError("config " + path + ": key '" + key + "' holds a nested array or table (allowed: scalars)");
            items.push_back(toml_value(item, path, key));
        }
        return items;
    }
    if (n.is_table()) throw UsageError("config " + path + ": key '" + key + "' is a table; keys are flat (allowed: the train options)");
    if (auto v = n.value_exact<std::string>()) return *v;
    if (auto v = n.value_exact<int64_t>()) return *v;
    if (auto v = n.value_exact<double>()) return *v;
    if (auto v = n.value_exact<bool>()) return *v;
    throw UsageError("config " + path + ": key '" + key + "' has an unsupported value type (allowed: string, number, boolean, array of those)");
}

// "--key=value" for one key of a config file, its value of the key's type.
void push_key(std::vector<std::string> &tokens, CLI::App *cmd, const std::string &path, const std::string &key,
              const nlohmann::json &value) {
    const CLI::Option *opt = cmd->get_option_no_throw("--" + key);
    if (!opt || key == "config" || key == "help")
        throw UsageError("config: unknown key '" + key + "' (see 'adalora " + cmd->get_name() + " --help')");
    check_config_value(opt, key, value, "config " + path);
    if (!value.is_array()) {
        tokens.push_back("--" + key + "=" + config_value_text(value, key));
        return;
    }
    std::vector<std::string> items;
    for (const auto &item : value) items.push_back(config_value_text(item, key));
    tokens.push_back("--" + key + "=" + join(items, ","));
}

std::vector<std::string> toml_tokens(const std::string &text, const std::string &path, CLI::App *cmd) {
    const toml::table table = parse_toml(text, path, "config " + path);
    std::vector<std::string> tokens;
    for (auto &&[k, node] : table) {
        const std::string key(k.str());
        push_key(tokens, cmd, path, key, toml_value(node, path, key));
    }
    return tokens;
}

// nlohmann keeps the last of two equal keys; a config file may not repeat one.
nlohmann::json parse_json_unique(const std::string &text, const std::string &path) {
    std::vector<std::set<std::string>> seen;  // the keys of each open object
    auto unique_keys = [&](int, nlohmann::json::parse_event_t event, nlohmann::json &parsed) {
        if (event == nlohmann::json::parse_event_t::object_start) seen.emplace_back();
        else if (event == nlohmann::json::parse_event_t::object_end) seen.pop_back();
        else if (event == nlohmann::json::parse_event_t::key && !seen.back().insert(parsed.get<std::string>()).second)
            throw UsageError("config " + path + ": key '" + parsed.get<std::string>() + "' appears twice (allowed: each key once)");
        return true;
    };
    return nlohmann::json::parse(text, unique_keys);
}

std::vector<std::string> json_tokens(const std::string &text, const std::string &path, CLI::App *cmd) {
    nlohmann::json doc;
    try {
        doc = parse_json_unique(text, path);
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
        if (value.is_object())
            throw UsageError("config " + path + ": key '" + key + "' is an object; keys are flat (allowed: the train options)");
        push_key(tokens, cmd, path, key, value);
    }
    return tokens;
}

}  // namespace

// The type a key's value must have: a flag's is a boolean, an integer
// option's an integer, a real option's a number, any other's a string; an
// array (comma list) only for a string option. CLI11 itself would read
// "yes", 2 or -1 as a flag's value, and "20" as a number.
void check_config_value(const CLI::Option *opt, const std::string &key, const nlohmann::json &value,
                        const std::string &where) {
    // CLI11's type name, less the validators' descriptions after ':'.
    const std::string type = opt->get_expected_max() == 0 ? "BOOLEAN" : opt->get_type_name().substr(0, opt->get_type_name().find(':'));
    const bool flag = type == "BOOLEAN";
    const bool integer = !flag && (type.find("INT") != std::string::npos);
    const bool real = !flag && !integer && (type.find("FLOAT") != std::string::npos || type.find("NUMBER") != std::string::npos);
    const char *expected = flag ? "a boolean" : integer ? "an integer" : real ? "a number" : "a string";
    auto fits = [&](const nlohmann::json &v) {
        if (flag) return v.is_boolean();
        if (integer) return v.is_number_integer();
        if (real) return v.is_number();
        return v.is_string() || v.is_number();  // a number in a text option: a list item such as a rank
    };
    bool ok = value.is_array() ? !flag && !integer && !real && !value.empty() : fits(value);
    if (value.is_array())
        for (const auto &item : value) ok = ok && !item.is_array() && !item.is_object() && fits(item);
    if (!ok) {
        const std::string shown = value.dump();
        throw UsageError(where + ": key '" + key + "' = " + (shown.size() > 40 ? shown.substr(0, 40) + "..." : shown) +
                         ": expected " + expected);
    }
}

std::vector<std::string> config_file_tokens(const std::string &path, CLI::App *cmd) {
    return config_text_tokens(read_file(path, kTextFileLimit, "--config "), path, cmd);
}

std::vector<std::string> config_text_tokens(const std::string &text, const std::string &path, CLI::App *cmd) {
    if (ends_with(path, ".toml")) return toml_tokens(text, path, cmd);
    if (ends_with(path, ".json")) return json_tokens(text, path, cmd);
    throw UsageError("--config " + path + ": unknown file type (allowed: .toml, .json)");
}

namespace {

// A seed: CLI11 would read "-1" into a uint64 as 2^64 - 1.
CLI::Validator non_negative_integer() {
    return CLI::Validator(
        [](std::string &v) { return v.rfind('-', 0) == 0 ? std::string("must be an integer >= 0") : std::string(); },
        "UINT64");
}

// What runs: config file, task, method, seed, output directory.
void add_run_options(CLI::App *cmd, RunConfig &c) {
    cmd->add_option("--config", "TOML or JSON file with the same keys as these options; flags override it");
    cmd->add_option("--task", c.task, "task: " + join(kTasks, ", "))->capture_default_str();
    cmd->add_option("--method", c.method, "method: " + join(kMethods, ", "))->capture_default_str();
    cmd->add_option("--seed", c.seed, "random seed of the task, the initialisation and the batches")
        ->check(non_negative_integer())
        ->capture_default_str();
    cmd->add_option("--out", c.out, "output directory (must not exist; written atomically)");
}

// The ranks, the budget schedule (Eq. 14) and AdaLoRA's hyper-parameters.
void add_schedule_options(CLI::App *cmd, RunConfig &c) {
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
}

// The optimiser, and the conventions table's preset and rows (docs/SPEC.md §4).
void add_optimizer_options(CLI::App *cmd, RunConfig &c) {
    cmd->add_option("--lr", c.lr, "AdamW learning rate")->capture_default_str();
    cmd->add_option("--weight_decay,--weight-decay", c.weight_decay, "AdamW decoupled weight decay")->capture_default_str();
    cmd->add_option("--clip", c.clip, "global gradient-norm bound (0: off; -1: the convention's, original 1.0)")
        ->capture_default_str();
    cmd->add_option("--convention", c.convention, "preset of the conventions table: paper, peft, original")
        ->capture_default_str();
    for (const auto &row : convention_rows()) {
        if (row.option == "clip") continue;  // a number of its own, above
        std::string help = "docs/SPEC.md §4, row " + row.rows + ": " + row.what + " (default: the convention's)";
        std::string underscored = row.option;
        for (char &ch : underscored) ch = ch == '-' ? '_' : ch;
        cmd->add_option_function<std::string>(
            "--" + row.option + ",--" + underscored,
            [&c, name = row.option](const std::string &v) { c.convention_rows[name] = v; }, help);
    }
}

// The method's variants: batch, triplet score, pruning, svd-proj's SVD.
void add_method_options(CLI::App *cmd, RunConfig &c) {
    cmd->add_option("--batch", c.batch, "mini-batch rows")->capture_default_str();
    cmd->add_option("--importance", c.importance, "triplet score: " + join(kImportance, ", "))->capture_default_str();
    cmd->add_flag("--no-prune,--no_prune", c.no_prune, "adalora without pruning (SVD-LoRA at init_r)");
    cmd->add_flag("--hard-delete,--hard_delete", c.hard_delete,
                  "adalora: a pruned triplet is zeroed for good instead of masked (prune-lora always is)");
    cmd->add_option("--svd", c.svd, "svd-proj's exact SVD: " + join(kSvdMethods, ", "))->capture_default_str();
}

// What a run writes and how it reacts to a non-finite value.
void add_output_options(CLI::App *cmd, RunConfig &c) {
    cmd->add_option("--log-every,--log_every", c.log_every, "steps between metrics.csv rows")->capture_default_str();
    cmd->add_flag("--mask-jump,--mask_jump", c.mask_jump,
                  "measure the task-loss change each mask step causes on its batch (metrics.csv mask_jump)");
    cmd->add_option("--log", c.log, "stderr log: " + join(kLogModes, ", "))->capture_default_str();
    cmd->add_option("--on-nonfinite,--on_nonfinite", c.on_nonfinite,
                    "a NaN/Inf loss, gradient or parameter: stop (exit 3) or skip-step (discard that step's update)")
        ->capture_default_str();
}

// The task's shape and data (planted tasks, digits, a given base).
void add_task_options(CLI::App *cmd, RunConfig &c) {
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
        ->check(non_negative_integer())
        ->capture_default_str();
    cmd->add_option("--base-weights,--base_weights", c.task_opt.base_weights,
                    "safetensors file with NAME.W0 [d_out, d_in] (and optionally NAME.bias) per module: the frozen base "
                    "(planted tasks: the teacher's too); a run's adapter.safetensors qualifies");
    // The sentence tasks (a pretrained encoder)
    cmd->add_option("--model", c.task_opt.model_dir,
                    "sentence tasks: Hugging Face BERT checkpoint folder (default: build/assets/all-MiniLM-L6-v2 from make deps)");
    cmd->add_option("--sentence-data,--sentence_data", c.task_opt.sentence_data,
                    "sentence tasks: folder of the task's data file (default: its asset from make deps)");
    cmd->add_option("--target-modules,--target_modules", c.task_opt.target_modules,
                    "sentence tasks: adapted matrices, PEFT's names (" + join(kEncoderTargets, ", ") + ") or all")
        ->capture_default_str();
    cmd->add_option("--layers-to-transform,--layers_to_transform", c.task_opt.layers_to_transform,
                    "sentence tasks: the layers whose --target-modules are adapted, indices from 0 (PEFT's "
                    "layers_to_transform) or all")
        ->capture_default_str();
    cmd->add_flag("--no-train-eval,--no_train_eval", c.task_opt.no_train_eval,
                  "sentence tasks: skip the final pass over the training split (final_train_loss and "
                  "final_train_accuracy are null); the dev and test splits are always evaluated");
    cmd->add_option("--max-seq,--max_seq", c.task_opt.max_seq, "sentence tasks: tokens per sentence with [CLS] and [SEP]")
        ->capture_default_str();
    cmd->add_option("--dropout", c.task_opt.dropout, "sentence tasks: hidden-state and head dropout while training")
        ->capture_default_str();
    cmd->add_option("--eval-every,--eval_every", c.task_opt.eval_every,
                    "sentence tasks: steps between dev-accuracy lines (0: at the end only)")
        ->capture_default_str();
}

}  // namespace

void add_train_options(CLI::App *cmd, RunConfig &c) {
    // A flag given twice (config file, then command line) keeps the last value.
    cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    add_run_options(cmd, c);
    add_schedule_options(cmd, c);
    add_optimizer_options(cmd, c);
    add_method_options(cmd, c);
    add_output_options(cmd, c);
    add_task_options(cmd, c);
}

void add_checkpoint_options(CLI::App *cmd, RunConfig &c) {
    cmd->add_option("--save-every,--save_every", c.save_every, "steps between checkpoints in the run directory (0: none)")
        ->capture_default_str();
    cmd->add_option("--stop-after,--stop_after", c.stop_after,
                    "end cleanly after this step with a checkpoint (0: run to total_step)")
        ->capture_default_str();
    cmd->add_option("--resume", c.resume, "continue the interrupted run in this directory (its options are kept)");
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

}  // namespace adalora

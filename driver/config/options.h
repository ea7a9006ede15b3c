// options.h: the command line of `adalora train` (and of the commands that
// share its options), and config files (TOML or JSON, the same keys) read as
// command-line tokens. The run they describe is base/run_config.h.
// Hyper-parameters use PEFT's AdaLoraConfig names; dashed spellings are
// accepted too.
#pragma once

#include <string>
#include <vector>

#include "config/run_config.h"

#include <nlohmann/json.hpp>

namespace CLI { class App; class Option; }

namespace adalora {

// Registers the train options on `cmd`, bound to `cfg`.
void add_train_options(CLI::App *cmd, RunConfig &cfg);

// Registers --save-every, --stop-after and --resume (train only).
void add_checkpoint_options(CLI::App *cmd, RunConfig &cfg);

// Registers --dump-init, --init-from, --trace and --trace-steps (train only).
void add_crosscheck_options(CLI::App *cmd, RunConfig &cfg);

// Reads a TOML (.toml) or JSON (.json) config file into command-line tokens
// ("--key", "value"), refusing keys that `cmd` does not know. Flags placed
// after these tokens override them.
std::vector<std::string> config_file_tokens(const std::string &path, CLI::App *cmd);

// The same for the file's text already in memory (`path` picks the format by
// its extension and names the file in errors); the fuzz target's entry.
std::vector<std::string> config_text_tokens(const std::string &text, const std::string &path, CLI::App *cmd);

// Refuses (UsageError "<where>: key 'K' = V: expected a boolean|an integer|
// a number|a string") a config value whose JSON type is not the option's:
// config files, suites and imported adapters set typed values, never text
// for the command line to coerce.
void check_config_value(const CLI::Option *opt, const std::string &key, const nlohmann::json &value,
                        const std::string &where);

}  // namespace adalora

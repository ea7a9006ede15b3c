// fuzz_config.cpp: libFuzzer target of the config-file parser (TOML and JSON),
// taken as far as `adalora train` takes a config: its tokens, the command-line
// parse, and validate(). The first byte picks the format (even: TOML, odd:
// JSON); the rest is the file's text. CLI11's ParseError is the other refusal
// main turns into exit code 2.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_target.h"
#include "config/options.h"

namespace {

// The train subcommand, built once (its ~60 options dominate an input's
// cost); each input starts from the default config, and CLI11 clears the
// previous parse itself.
struct TrainCommand {
    CLI::App app;
    adalora::RunConfig cfg;
    CLI::App *train = app.add_subcommand("train");
    TrainCommand() { adalora::add_train_options(train, cfg); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    static TrainCommand cmd;
    const char *name = data[0] % 2 ? "fuzz.json" : "fuzz.toml";
    return fuzz::expect_value_or_usage_error(data + 1, size - 1, [name](const std::string &text) {
        cmd.cfg = adalora::RunConfig();
        std::vector<std::string> args = {"train"};
        for (std::string &t : adalora::config_text_tokens(text, name, cmd.train)) args.push_back(t);
        args.push_back("--out=fuzz-run");
        std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
        try {
            cmd.app.parse(args);
        } catch (const CLI::ParseError &) {
            return;  // a value of the wrong type or out of a flag's range
        }
        adalora::validate(cmd.cfg);
    });
}

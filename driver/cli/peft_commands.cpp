// peft_commands.cpp: the export and import subcommands.
#include "cli/peft_commands.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "formats/peft_format.h"
#include "formats/staged_dir.h"
#include "train/run.h"
#include "train/run_dir.h"

namespace adalora {

struct PeftCommands {
    CLI::App *export_cmd = nullptr, *import_cmd = nullptr;
    std::string run_dir, format = "peft", export_out, peft_dir, import_out;
};

std::shared_ptr<PeftCommands> add_peft_commands(CLI::App &app) {
    auto c = std::make_shared<PeftCommands>();
    c->export_cmd = app.add_subcommand("export", "write a run's adapter in PEFT's AdaLoRA format (an encoder run's: "
                                                 "BertForSequenceClassification's paths, task_type SEQ_CLS, the classifier)");
    c->export_cmd->add_option("run_dir", c->run_dir, "run directory (holds adapter.safetensors)")->required();
    c->export_cmd->add_option("--format", c->format, "output format: peft")->capture_default_str();
    c->export_cmd->add_option("--out", c->export_out, "directory for adapter_model.safetensors and adapter_config.json (must not exist)")
        ->required();
    c->import_cmd = app.add_subcommand("import", "read and check a PEFT AdaLoRA adapter directory");
    c->import_cmd->add_option("dir", c->peft_dir, "PEFT adapter directory")->required();
    c->import_cmd->add_option("--out", c->import_out,
                              "write adapter.safetensors (full init_r, pattern restored, the classifier as head.weight "
                              "and head.bias) and rank_pattern.json here");
    return c;
}

namespace {

// A run stopped with --stop-after has a checkpoint and no adapter yet.
void refuse_unfinished_run(const std::string &dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(fs::path(dir) / kIncompleteMarker, ec) && fs::exists(fs::path(dir) / kAdapterFileName, ec)) return;
    if (!fs::exists(fs::path(dir) / kCheckpointFile, ec)) return;  // not a run directory: the adapter's reader says so
    const Checkpoint ck = read_checkpoint((fs::path(dir) / kCheckpointFile).string());
    const auto config = nlohmann::json::parse(ck.config);
    throw UsageError("run " + dir + " is unfinished (stopped at step " + std::to_string(ck.train.completed) + " of " +
                     (config.contains("total_step") ? config["total_step"].dump() : std::string("?")) +
                     "): resume it first (adalora train --resume " + dir + ")");
}

int run_export(const PeftCommands &c) {
    if (c.format != "peft") throw UsageError("--format = '" + c.format + "': allowed values are peft");
    check_output_dir(c.export_out);
    refuse_unfinished_run(c.run_dir);
    const RunAdapter run = read_run_adapter(c.run_dir + "/" + kAdapterFileName);
    const PeftAdapter p = peft_from_run(run);
    write_dir_atomic(c.export_out, {{kPeftWeightsName, serialize_safetensors(p.weights)},
                                    {kPeftConfigName, p.config.dump(2) + "\n"}});
    size_t kept = 0;
    for (const auto &[key, flags] : p.config["rank_pattern"].items())
        for (const auto &f : flags) kept += f.get<bool>();
    std::printf("exported %zu modules, %zu of %zu triplets kept, to %s\n", run.modules.size(), kept,
                run.modules.size() * (size_t)run.r0, c.export_out.c_str());
    return 0;
}

int run_import(const PeftCommands &c) {
    if (!c.import_out.empty()) check_output_dir(c.import_out);
    const RunAdapter run = run_adapter_from(run_from_peft(c.peft_dir), c.peft_dir);
    const int r0 = run.r0;
    nlohmann::json pattern = nlohmann::json::object();
    size_t kept = 0;
    std::printf("PEFT AdaLoRA adapter %s: init_r %d, %zu modules, dtype %s\n", c.peft_dir.c_str(), r0,
                run.modules.size(), dtype_name(run.file.tensors.front().dtype));
    for (const std::string &name : run.modules) {
        const std::vector<int> idx = run.kept(name);
        std::vector<bool> flags((size_t)r0, false);
        for (int i : idx) flags[(size_t)i] = true;
        pattern[name] = flags;
        kept += idx.size();
        const Tensor &P = run.tensor(name, "P"), &Q = run.tensor(name, "Q");
        std::printf("  %-24s kept %3zu of %d   [%lld x %lld]\n", name.c_str(), idx.size(), r0, (long long)P.shape[0],
                    (long long)Q.shape[1]);
    }
    if (run.has_head()) {
        const Tensor &W = *run.file.find(kHeadWeightName);
        std::printf("  %-24s [%lld x %lld] and bias (PEFT's classifier)\n", "head", (long long)W.shape[0],
                    (long long)W.shape[1]);
    }
    std::printf("%zu of %zu triplets kept\n", kept, run.modules.size() * (size_t)r0);
    if (!c.import_out.empty()) {
        write_dir_atomic(c.import_out, {{kAdapterFileName, serialize_safetensors(run.file)}, {"rank_pattern.json", pattern.dump() + "\n"}});
        std::printf("wrote %s\n", c.import_out.c_str());
    }
    return 0;
}

}  // namespace

int run_peft_command(const PeftCommands &c) {
    if (*c.export_cmd) return run_export(c);
    if (*c.import_cmd) return run_import(c);
    return -1;
}

}  // namespace adalora

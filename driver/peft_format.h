// peft_format.h: adapters in Hugging Face PEFT's AdaLoRA format, and the
// `export` and `import` subcommands.
//
// PEFT's save_pretrained of an AdaLoRA adapter writes DIR/adapter_model.safetensors
// with, per target module PATH (its nn.ParameterDict entries, so no ".weight"):
//   base_model.model.PATH.lora_A  [r, d_in]   = Q, the kept rows
//   base_model.model.PATH.lora_B  [d_out, r]  = P, the kept columns
//   base_model.model.PATH.lora_E  [r, 1]      = λ, the kept entries
// where r is the module's kept rank (sum of its rank_pattern), and
// DIR/adapter_config.json, an AdaLoraConfig whose rank_pattern maps
// "PATH.lora_E" to init_r booleans. PEFT rebuilds each module at rank r but
// keeps ranknum = init_r, so its scale stays lora_alpha / (init_r + 1e-5).
#pragma once

#include <memory>
#include <string>

#include "adapter_file.h"

namespace CLI { class App; }

namespace adalora {

constexpr const char *kPeftWeightsName = "adapter_model.safetensors";
constexpr const char *kPeftConfigName = "adapter_config.json";

// A PEFT adapter in memory: the safetensors file and the config.
struct PeftAdapter {
    Safetensors weights;
    nlohmann::ordered_json config;
};

// The PEFT form of an SVD-form run adapter (UsageError for a LoRA-form one).
PeftAdapter peft_from_run(const RunAdapter &run);

// A PEFT adapter directory read and checked against its config: peft_type
// ADALORA, init_r, rank_pattern (init_r booleans per module), and every
// module's three tensors with shapes that match the pattern's sums; a missing
// or extra tensor, or a bad shape, is a UsageError naming the file.
// Returns the run-adapter layout (adapter_file.h) at full init_r: kept
// triplets at their places, pruned ones zero, keep flags from the pattern,
// no W0 or bias.
Safetensors run_from_peft(const std::string &dir);

struct PeftCommands;

// Registers `export` and `import` on the app; run_peft_command runs the one
// parsed (returns its exit code, or -1 when neither was chosen).
std::shared_ptr<PeftCommands> add_peft_commands(CLI::App &app);
int run_peft_command(const PeftCommands &cmds);

}  // namespace adalora

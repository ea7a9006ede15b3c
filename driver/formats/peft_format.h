// peft_format.h: adapters in Hugging Face PEFT's AdaLoRA format (the
// `export` and `import` subcommands are cli/peft_commands.h).
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
//
// PATH is the module's path in the model PEFT wraps. An MLP task's modules
// are named by their path ("l0.q"). An encoder run's module "L.type" (the
// sentence tasks: type one of kEncoderTargets) is BertForSequenceClassification's
//   bert.encoder.layer.L.attention.self.{query,key,value}  (query, key, value)
//   bert.encoder.layer.L.{attention.output.dense, intermediate.dense, output.dense}
// and its head (head.weight, head.bias) is the classifier PEFT saves through
// modules_to_save for task_type SEQ_CLS:
//   base_model.model.classifier.weight [K, C], base_model.model.classifier.bias [K]
#pragma once

#include <string>

#include "formats/adapter_file.h"

namespace adalora {

constexpr const char *kPeftWeightsName = "adapter_model.safetensors";
constexpr const char *kPeftConfigName = "adapter_config.json";

// A PEFT adapter in memory: the safetensors file and the config.
struct PeftAdapter {
    Safetensors weights;
    nlohmann::ordered_json config;
};

// The PEFT form of an SVD-form run adapter (UsageError for a LoRA-form one).
// An encoder run's (its config's task a sentence task) gets the paths above,
// task_type SEQ_CLS, modules_to_save ["classifier"], its head, and
// base_model_name_or_path: the run's --model, else the hub name of the
// default checkpoint (kDefaultBaseModel); UsageError if it lacks the head.
PeftAdapter peft_from_run(const RunAdapter &run);

// The hub name of the checkpoint build/assets/all-MiniLM-L6-v2 holds.
constexpr const char *kDefaultBaseModel = "sentence-transformers/all-MiniLM-L6-v2";

// PEFT's module path of an encoder module "L.type" (above); UsageError for
// another name.
std::string encoder_module_path(const std::string &module);
// The encoder module "L.type" of a BertForSequenceClassification path
// (above), or "" when `path` is not one.
std::string encoder_module_of(const std::string &path);

// A PEFT adapter directory read and checked against its config: peft_type
// ADALORA, init_r, rank_pattern (init_r booleans per module), and every
// module's three tensors with shapes that match the pattern's sums; a missing
// or extra tensor, or a bad shape, is a UsageError naming the file.
// Returns the run-adapter layout (adapter_file.h) at full init_r: kept
// triplets at their places, pruned ones zero, keep flags from the pattern,
// no W0 or bias; metadata scale = lora_alpha / (init_r + 1e-5), PEFT's.
// An adapter of BertForSequenceClassification (every module path under
// "bert.") gets our encoder's module names "L.type" in layer, then type
// order, and its classifier, when saved, as head.weight and head.bias.
Safetensors run_from_peft(const std::string &dir);

}  // namespace adalora

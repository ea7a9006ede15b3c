// adapter_file.h: a run's tensors, RUN_DIR/adapter.safetensors, and base
// weights read from a safetensors file (--base-weights).
//
// adapter.safetensors holds, per module NAME (at full rank r0, pruned
// triplets included, in the build's dtype: F32 for float, F64 for double):
//   SVD form   NAME.P [d_out, r0], NAME.lambda [r0], NAME.Q [r0, d_in]
//   LoRA form  NAME.B [d_out, r0], NAME.A [r0, d_in]
//   both       NAME.keep [r0] (1 kept, 0 pruned), NAME.W0 [d_out, d_in] and,
//              when the module has one, NAME.bias [d_out] (the frozen base)
// and, for a host with a trained classification head (the encoder: K
// outputs, hidden size C; PEFT's modules_to_save "classifier"):
//   head.weight [K, C], head.bias [K]
// and __metadata__: format "adalora-run", form "svd" or "lora", r0, modules
// (a JSON list of the names in model order), scale (s of Eq. 3) and config
// (the run's options as JSON). `adalora import` writes the same layout
// without W0 and bias.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/safetensors.h"

extern "C" {
#include "model.h"
}

namespace adalora {

constexpr const char *kAdapterFileName = "adapter.safetensors";
constexpr const char *kHeadWeightName = "head.weight";
constexpr const char *kHeadBiasName = "head.bias";

// The model's adapter, keep flags and base as above; `config` goes into the
// metadata. head_outputs: K of the host's head, whose K x C weights and K
// biases are the model's host parameters (std::logic_error unless they
// split so); 0 when the host has no parameters of its own.
Safetensors run_adapter_tensors(const ada_model *m, const nlohmann::json &config, int head_outputs);

// Removes the W0 and bias tensors (sweeps: the seed reproduces them, and a
// wide cell's base would dwarf everything else it writes).
void drop_base_tensors(Safetensors &adapter);

// A run's adapter.safetensors, checked: metadata present and well-formed,
// every module's adapter tensors present with shapes that agree.
struct RunAdapter {
    std::string path, form;
    int r0 = 0;
    std::vector<std::string> modules;
    nlohmann::json config;
    Safetensors file;

    // Tensor NAME.part, which must exist (UsageError naming the file otherwise).
    const Tensor &tensor(const std::string &module, const std::string &part) const;
    // The kept triplet indices of a module (its keep tensor, all 0 or 1).
    std::vector<int> kept(const std::string &module) const;
    // Whether the file carries a head (head.weight and head.bias, checked:
    // [K, C] and [K], K >= 1, both or neither).
    bool has_head() const { return file.find(kHeadWeightName) != nullptr; }
};
RunAdapter read_run_adapter(const std::string &path);
// The same checks on a file in memory; `path` names it in messages.
RunAdapter run_adapter_from(Safetensors file, const std::string &path);

// The metadata of a run adapter file.
std::map<std::string, std::string> run_adapter_metadata(const std::string &form, int r0,
                                                        const std::vector<std::string> &modules,
                                                        const nlohmann::json &config);

// A UsageError naming `file` unless t has exactly this shape.
void require_shape(const Tensor &t, const std::vector<int64_t> &shape, const std::string &file);

// Whether a tensor name is a frozen base's ("NAME.W0", "NAME.bias"; not the
// head's).
bool is_base_tensor(const std::string &name);

}  // namespace adalora

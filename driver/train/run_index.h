// run_index.h: the self-describing header of the --dump-init and --trace
// indexes: everything another implementation needs to rebuild the model and
// run the same steps without reading this code (README "Step traces").
#pragma once

#include <nlohmann/json.hpp>

#include "train/methods.h"
#include "config/run_config.h"
#include "tasks/sentence_tasks.h"

extern "C" {
#include "model.h"
}

namespace adalora {

// The header: the host ("mlp", or "encoder" for a sentence task), precision
// and dtype, form, r0, alpha, scale_eps, scale, the modules in order (name,
// index, d_in, d_out, and chain, position, has_bias, activation for the MLP
// or layer and type for the encoder), the MLP's chain rule, the loss and its
// normalisation, the optimizer, regulariser, allocation and schedule
// settings, every conventions row and the full config.
nlohmann::json run_index_header(const RunConfig &cfg, const MethodSetup &setup, const ada_model *m,
                                const std::string &format);

// A sentence task's "encoder" entry: the --model directory as given (the
// asset's when none was), the SHA-256 of its model.safetensors, the
// checkpoint's sizes, --max-seq, --dropout, the classes (1: regression) and
// the loss. Reads model.safetensors whole to hash it.
nlohmann::json encoder_index_json(const RunConfig &cfg, const EncoderTask &task);

// The first place where `a` and `b` differ, as "key.sub[2]" ("" when equal).
std::string json_first_difference(const nlohmann::json &a, const nlohmann::json &b, const std::string &path = "");

// A double for a JSON index: finite numbers as they are, NaN as null, ±inf as "inf"/"-inf".
nlohmann::json json_number(double v);

// The '<f8' or '<f4' of the build's real type.
const char *real_descr();

}  // namespace adalora

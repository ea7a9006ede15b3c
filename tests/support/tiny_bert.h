// tiny_bert.h: a tiny BERT checkpoint folder written by a test (config.json,
// model.safetensors in F32, F16 or BF16 with values known by construction,
// vocab.txt, tokenizer_config.json): the loader's tests and the sentence
// tasks' runs share it.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "formats/safetensors.h"
#include "support/test_sandbox.h"

namespace test {

using adalora::Dtype;
using Shapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// The tiny model: H 4, 2 heads, I 6, V 5, P 3, T 2, one layer.
inline nlohmann::json tiny_config() {
    return {{"architectures", {"BertModel"}}, {"model_type", "bert"}, {"hidden_size", 4}, {"num_hidden_layers", 1},
            {"num_attention_heads", 2}, {"intermediate_size", 6}, {"vocab_size", 5}, {"max_position_embeddings", 3},
            {"type_vocab_size", 2}, {"pad_token_id", 0}, {"layer_norm_eps", 1e-12}, {"hidden_act", "gelu"},
            {"position_embedding_type", "absolute"}, {"hidden_dropout_prob", 0.1}};
}

// BertModel's tensors for the tiny config, typed from the task's list (not
// from bert_tensor_shapes, which the first test checks against it).
inline const Shapes kTinyShapes = {
    {"embeddings.word_embeddings.weight", {5, 4}},
    {"embeddings.position_embeddings.weight", {3, 4}},
    {"embeddings.token_type_embeddings.weight", {2, 4}},
    {"embeddings.LayerNorm.weight", {4}},
    {"embeddings.LayerNorm.bias", {4}},
    {"encoder.layer.0.attention.self.query.weight", {4, 4}},
    {"encoder.layer.0.attention.self.query.bias", {4}},
    {"encoder.layer.0.attention.self.key.weight", {4, 4}},
    {"encoder.layer.0.attention.self.key.bias", {4}},
    {"encoder.layer.0.attention.self.value.weight", {4, 4}},
    {"encoder.layer.0.attention.self.value.bias", {4}},
    {"encoder.layer.0.attention.output.dense.weight", {4, 4}},
    {"encoder.layer.0.attention.output.dense.bias", {4}},
    {"encoder.layer.0.attention.output.LayerNorm.weight", {4}},
    {"encoder.layer.0.attention.output.LayerNorm.bias", {4}},
    {"encoder.layer.0.intermediate.dense.weight", {6, 4}},
    {"encoder.layer.0.intermediate.dense.bias", {6}},
    {"encoder.layer.0.output.dense.weight", {4, 6}},
    {"encoder.layer.0.output.dense.bias", {4}},
    {"encoder.layer.0.output.LayerNorm.weight", {4}},
    {"encoder.layer.0.output.LayerNorm.bias", {4}},
    {"pooler.dense.weight", {4, 4}},
    {"pooler.dense.bias", {4}},
};

inline size_t count_of(const std::vector<int64_t> &shape) {
    size_t n = 1;
    for (int64_t d : shape) n *= (size_t)d;
    return n;
}

// Element i of the k-th tiny tensor in the F32 files: k + i/64, exact in float.
inline float f32_value(size_t k, size_t i) { return (float)k + (float)i / 64; }

// 16-bit patterns and their values, decoded by hand (sign, exponent, fraction).
struct Half {
    uint16_t bits;
    double value;
};
inline const Half kF16[] = {{0x3C00, 1.0},   {0xC000, -2.0},         {0x3555, 1365.0 / 4096}, {0x0001, 0x1p-24},
                     {0x03FF, 1023 * 0x1p-24}, {0x7BFF, 65504.0}, {0x8000, -0.0},     {0x3800, 0.5}};
inline const Half kBF16[] = {{0x3F80, 1.0}, {0xC040, -3.0}, {0x4049, 3.140625}, {0x3E20, 0.15625}, {0x0000, 0.0}, {0xBF00, -0.5}};

// The bytes of a tensor of `dtype`: F32 values f32_value(k, i), or the
// half patterns cycled from element k on.
inline adalora::Tensor tiny_tensor(const std::string &name, const std::vector<int64_t> &shape, size_t k, Dtype dtype) {
    adalora::Tensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = shape;
    for (size_t i = 0; i < count_of(shape); i++) {
        if (dtype == Dtype::F32) {
            const float v = f32_value(k, i);
            t.bytes.append(reinterpret_cast<const char *>(&v), 4);
        } else {
            const uint16_t h = dtype == Dtype::F16 ? kF16[(k + i) % std::size(kF16)].bits : kBF16[(k + i) % std::size(kBF16)].bits;
            t.bytes.append(reinterpret_cast<const char *>(&h), 2);
        }
    }
    return t;
}

// A checkpoint directory's four files, written into a sandbox folder.
struct TinyCheckpoint {
    nlohmann::json config = tiny_config();
    nlohmann::json tokenizer;  // null: no tokenizer_config.json
    std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n";
    adalora::Safetensors weights;

    explicit TinyCheckpoint(Dtype dtype = Dtype::F32, const std::string &prefix = "") {
        for (size_t k = 0; k < kTinyShapes.size(); k++)
            weights.tensors.push_back(tiny_tensor(prefix + kTinyShapes[k].first, kTinyShapes[k].second, k, dtype));
    }
    adalora::Tensor &tensor(const std::string &name) {
        for (adalora::Tensor &t : weights.tensors)
            if (t.name == name) return t;
        FAIL("no tensor " << name);
        return weights.tensors.front();
    }
    std::string write(const test::Sandbox &box, const std::string &name = "ckpt") const {
        std::filesystem::create_directory(box.work / name);
        box.write(name + "/config.json", config.dump());
        if (!tokenizer.is_null()) box.write(name + "/tokenizer_config.json", tokenizer.dump());
        box.write(name + "/vocab.txt", vocab);
        box.write(name + "/model.safetensors", adalora::serialize_safetensors(weights));
        return (box.work / name).string();
    }
};

}  // namespace test

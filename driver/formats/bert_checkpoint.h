// bert_checkpoint.h: a Hugging Face BERT checkpoint directory (BertModel or
// BertForSequenceClassification as save_pretrained writes it, e.g.
// sentence-transformers' all-MiniLM-L6-v2), read and checked whole:
//
//   DIR/config.json            model_type "bert", the sizes, layer_norm_eps, hidden_act
//   DIR/model.safetensors      the weights, F32, F64, F16 or BF16 (converted to `real`)
//   DIR/tokenizer_config.json  the WordPiece tokenizer's flags (optional)
//   DIR/vocab.txt              the WordPiece vocabulary, one token a line
//
// Every refusal is one line (UsageError) naming the file and the problem.
// Tensors the encoder does not use (a classifier head, the position_ids and
// token_type_ids buffers, which are I64) are ignored, whatever their dtype.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "ada_common.h"
}

namespace adalora {

// config.json's fields under their BertConfig names: hidden_size,
// num_hidden_layers, num_attention_heads, intermediate_size, vocab_size,
// max_position_embeddings, type_vocab_size, pad_token_id, layer_norm_eps,
// hidden_act.
struct BertConfig {
    int hidden_size = 0, num_layers = 0, num_heads = 0, intermediate_size = 0, vocab_size = 0, max_positions = 0,
        type_vocab_size = 0, pad_token_id = 0;
    double layer_norm_eps = 0;
    std::string hidden_act;  // only "gelu" (erf) is accepted; others refused naming it
};

// From tokenizer_config.json (absent file or key = BERT's default).
struct TokenizerFlags {
    bool lowercase = true;             // do_lower_case
    bool strip_accents = true;         // strip_accents; JSON null = follow lowercase (HF rule)
    bool tokenize_chinese_chars = true;
    int model_max_length = 512;        // at most the config's max_position_embeddings
};

struct CheckpointTensor {
    std::vector<int64_t> shape;
    std::vector<real> data;  // row-major
};

struct BertCheckpoint {
    std::string dir;
    BertConfig config;
    TokenizerFlags tokenizer;
    std::string vocab_path;  // DIR/vocab.txt (checked to exist and be non-empty)
    // Every tensor BertModel needs (bert_tensor_shapes), by its HF name
    // without a leading "bert." (BertForSequenceClassification's files carry
    // it; both are accepted).
    std::map<std::string, CheckpointTensor> tensors;
};

// The names and shapes BertModel has for a config, in this order (H hidden,
// I intermediate, V vocab, P positions, T token types, L = 0..layers-1):
//   embeddings.word_embeddings.weight [V, H], .position_embeddings.weight [P, H],
//   .token_type_embeddings.weight [T, H], embeddings.LayerNorm.{weight,bias} [H];
//   per layer encoder.layer.L.:
//     attention.self.{query,key,value}.{weight [H, H], bias [H]},
//     attention.output.dense.{weight [H, H], bias [H]}, attention.output.LayerNorm.{weight,bias} [H],
//     intermediate.dense.{weight [I, H], bias [I]}, output.dense.{weight [H, I], bias [H]},
//     output.LayerNorm.{weight,bias} [H];
//   pooler.dense.{weight [H, H], bias [H]}.
// A Linear's weight is [out, in], as torch stores it.
std::vector<std::pair<std::string, std::vector<int64_t>>> bert_tensor_shapes(const BertConfig &c);

// Reads DIR/config.json, DIR/model.safetensors, DIR/tokenizer_config.json
// and DIR/vocab.txt. Refused with one line (UsageError): a missing file
// (tokenizer_config.json may be absent), a model_type other than "bert", an
// architectures list without a Bert* entry, a position_embedding_type other
// than "absolute", a missing, mistyped or non-positive config field
// (pad_token_id: 0..vocab_size-1), hidden_size not divisible by
// num_attention_heads, a hidden_act other than "gelu", a mistyped tokenizer
// flag, an empty vocab.txt or one with more tokens than vocab_size, a
// missing tensor, a needed tensor of a dtype other than F32, F64, F16, BF16,
// a wrong shape (name, expected, found), a non-finite value (after the
// conversion to `real`). Extra tensors are ignored. A model_max_length above
// max_position_embeddings (HF writes 1e30 for "no limit") is lowered to it.
BertCheckpoint load_bert_checkpoint(const std::string &dir);

}  // namespace adalora

// bert_checkpoint.cpp: see bert_checkpoint.h. The JSON files are small and
// read into nlohmann DOMs; the weights go through the safetensors reader,
// which takes F16 and BF16 here and leaves out the I64 buffers.
#include "formats/bert_checkpoint.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "base/errors.h"
#include "base/read_file.h"
#include "base/util.h"
#include "formats/safetensors.h"

namespace adalora {

namespace {

using Json = nlohmann::json;

Json read_json_object(const std::string &path) {
    Json j = Json::parse(read_file(path, kTextFileLimit), nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw UsageError(path + ": not a JSON object");
    return j;
}

// What `key` holds, for a message: its JSON text, or "missing".
std::string found_text(const Json &obj, const char *key) {
    return obj.contains(key) ? obj[key].dump() : std::string("missing");
}

// The integer obj[key], in lo..hi.
int int_field(const Json &obj, const char *key, int lo, int hi, const std::string &path) {
    const Json *v = obj.contains(key) ? &obj[key] : nullptr;
    if (v && v->is_number_integer() && v->get<int64_t>() >= lo && v->get<int64_t>() <= hi) return v->get<int>();
    throw UsageError(path + ": " + key + " is " + found_text(obj, key) + " (allowed: an integer " + std::to_string(lo) +
                     ".." + std::to_string(hi) + ")");
}

// The string obj[key], one of `allowed`.
std::string string_field(const Json &obj, const char *key, const std::vector<std::string> &allowed,
                         const std::string &path) {
    if (obj.contains(key) && obj[key].is_string())
        for (const std::string &a : allowed)
            if (obj[key] == a) return a;
    throw UsageError(path + ": " + key + " is " + found_text(obj, key) + " (allowed: \"" + join(allowed, "\", \"") +
                     "\")");
}

// The boolean obj[key]; `absent` when the key is absent (or null, when
// `null_is_absent`).
bool bool_field(const Json &obj, const char *key, bool absent, bool null_is_absent, const std::string &path) {
    if (!obj.contains(key) || (null_is_absent && obj[key].is_null())) return absent;
    if (obj[key].is_boolean()) return obj[key].get<bool>();
    throw UsageError(path + ": " + key + " is " + obj[key].dump() +
                     (null_is_absent ? " (allowed: true, false, null)" : " (allowed: true, false)"));
}

BertConfig read_config(const std::string &path) {
    const Json cfg = read_json_object(path);
    string_field(cfg, "model_type", {"bert"}, path);
    if (cfg.contains("architectures")) {
        bool bert = false;
        if (cfg["architectures"].is_array())
            for (const Json &a : cfg["architectures"]) bert = bert || (a.is_string() && a.get<std::string>().rfind("Bert", 0) == 0);
        if (!bert)
            throw UsageError(path + ": architectures is " + cfg["architectures"].dump() +
                             " (allowed: a list with a Bert* entry, such as [\"BertModel\"])");
    }
    if (cfg.contains("position_embedding_type")) string_field(cfg, "position_embedding_type", {"absolute"}, path);
    BertConfig c;
    c.hidden_size = int_field(cfg, "hidden_size", 1, INT_MAX, path);
    c.num_layers = int_field(cfg, "num_hidden_layers", 1, INT_MAX, path);
    c.num_heads = int_field(cfg, "num_attention_heads", 1, INT_MAX, path);
    c.intermediate_size = int_field(cfg, "intermediate_size", 1, INT_MAX, path);
    c.vocab_size = int_field(cfg, "vocab_size", 1, INT_MAX, path);
    c.max_positions = int_field(cfg, "max_position_embeddings", 1, INT_MAX, path);
    c.type_vocab_size = int_field(cfg, "type_vocab_size", 1, INT_MAX, path);
    c.pad_token_id = int_field(cfg, "pad_token_id", 0, c.vocab_size - 1, path);
    if (c.hidden_size % c.num_heads != 0)
        throw UsageError(path + ": hidden_size " + std::to_string(c.hidden_size) + " is not divisible by num_attention_heads " +
                         std::to_string(c.num_heads) + " (allowed: a multiple of it)");
    const Json *eps = cfg.contains("layer_norm_eps") ? &cfg["layer_norm_eps"] : nullptr;
    if (!eps || !eps->is_number() || !std::isfinite(eps->get<double>()) || !(eps->get<double>() > 0))
        throw UsageError(path + ": layer_norm_eps is " + found_text(cfg, "layer_norm_eps") +
                         " (allowed: a finite number > 0)");
    c.layer_norm_eps = eps->get<double>();
    c.hidden_act = string_field(cfg, "hidden_act", {"gelu"}, path);
    return c;
}

// tokenizer_config.json's flags (BERT's defaults when the file is absent),
// model_max_length at most max_positions.
TokenizerFlags read_tokenizer_flags(const std::string &path, int max_positions) {
    TokenizerFlags f;
    std::error_code ec;
    // A dangling link is not absent: read_file names it.
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
        const Json tok = read_json_object(path);
        f.lowercase = bool_field(tok, "do_lower_case", true, false, path);
        // HF's BasicTokenizer: strip_accents None strips exactly when lowercasing.
        f.strip_accents = bool_field(tok, "strip_accents", f.lowercase, true, path);
        f.tokenize_chinese_chars = bool_field(tok, "tokenize_chinese_chars", true, false, path);
        if (tok.contains("model_max_length")) {
            // transformers writes int(1e30) for "no limit"; any value above
            // max_positions means the model's own limit.
            const Json &m = tok["model_max_length"];
            const double v = m.is_number() ? m.get<double>() : 0;
            if (!(v >= 1) || (v <= max_positions && v != std::floor(v)))
                throw UsageError(path + ": model_max_length is " + m.dump() + " (allowed: an integer >= 1)");
            f.model_max_length = v > max_positions ? max_positions : (int)v;
        }
    }
    f.model_max_length = std::min(f.model_max_length, max_positions);
    return f;
}

// vocab.txt: one token a line, at least one, at most vocab_size (a token's
// id is its line number and must index the embedding).
void check_vocab(const std::string &path, int vocab_size) {
    const std::string text = read_file(path, kTextFileLimit);
    if (text.empty()) throw UsageError(path + ": empty (allowed: one WordPiece token a line)");
    size_t tokens = 0;
    for (char ch : text) tokens += ch == '\n';
    tokens += text.back() != '\n';
    if (tokens > (size_t)vocab_size)
        throw UsageError(path + ": " + std::to_string(tokens) + " tokens, more than the config's vocab_size " +
                         std::to_string(vocab_size));
}

// The tensors of bert_tensor_shapes from the weights file, converted to real.
std::map<std::string, CheckpointTensor> read_tensors(const std::string &path, const BertConfig &c) {
    Safetensors file = read_safetensors(path, DtypeSet::floats);
    std::map<std::string, Tensor *> by_name;
    for (Tensor &t : file.tensors) by_name[t.name] = &t;
    auto present = [&](const std::string &name) { return by_name.count(name) || file.skipped.count(name); };
    const std::string first = "embeddings.word_embeddings.weight";
    const std::string prefix = !present(first) && present("bert." + first) ? "bert." : "";
    std::map<std::string, CheckpointTensor> out;
    for (const auto &[name, shape] : bert_tensor_shapes(c)) {
        const std::string key = prefix + name;
        auto skipped = file.skipped.find(key);
        if (skipped != file.skipped.end())
            throw UsageError(path + ": tensor '" + key + "' has dtype " + skipped->second +
                             " (allowed: F32, F64, F16, BF16)");
        auto it = by_name.find(key);
        if (it == by_name.end())
            throw UsageError(path + ": tensor '" + key + "' is missing (a BertModel of config.json needs it)");
        Tensor &t = *it->second;
        if (t.shape != shape)
            throw UsageError(path + ": tensor '" + key + "' has shape " + shape_text(t.shape) + ", expected " +
                             shape_text(shape) + " (from config.json)");
        CheckpointTensor &ct = out[name];
        ct.shape = shape;
        ct.data = tensor_values(t);
        std::string().swap(t.bytes);  // one copy of the weights at a time
        for (size_t i = 0; i < ct.data.size(); i++)
            if (!std::isfinite(ct.data[i]))
                throw UsageError(path + ": tensor '" + key + "' element " + std::to_string(i) + " is " +
                                 number_text(ct.data[i]) + " (allowed: finite values in " +
                                 (sizeof(real) == 4 ? "float" : "double") + ")");
    }
    return out;
}

}  // namespace

std::vector<std::pair<std::string, std::vector<int64_t>>> bert_tensor_shapes(const BertConfig &c) {
    const int64_t H = c.hidden_size, I = c.intermediate_size;
    std::vector<std::pair<std::string, std::vector<int64_t>>> s = {
        {"embeddings.word_embeddings.weight", {c.vocab_size, H}},
        {"embeddings.position_embeddings.weight", {c.max_positions, H}},
        {"embeddings.token_type_embeddings.weight", {c.type_vocab_size, H}},
        {"embeddings.LayerNorm.weight", {H}},
        {"embeddings.LayerNorm.bias", {H}},
    };
    // A Linear: weight [out, in], bias [out].
    auto linear = [&](const std::string &name, int64_t out, int64_t in) {
        s.push_back({name + ".weight", {out, in}});
        s.push_back({name + ".bias", {out}});
    };
    auto layer_norm = [&](const std::string &name) {
        s.push_back({name + ".weight", {H}});
        s.push_back({name + ".bias", {H}});
    };
    for (int l = 0; l < c.num_layers; l++) {
        const std::string L = "encoder.layer." + std::to_string(l) + ".";
        for (const char *qkv : {"query", "key", "value"}) linear(L + "attention.self." + qkv, H, H);
        linear(L + "attention.output.dense", H, H);
        layer_norm(L + "attention.output.LayerNorm");
        linear(L + "intermediate.dense", I, H);
        linear(L + "output.dense", H, I);
        layer_norm(L + "output.LayerNorm");
    }
    linear("pooler.dense", H, H);
    return s;
}

BertCheckpoint load_bert_checkpoint(const std::string &dir) {
    BertCheckpoint b;
    b.dir = dir;
    b.config = read_config(dir + "/config.json");
    b.tokenizer = read_tokenizer_flags(dir + "/tokenizer_config.json", b.config.max_positions);
    b.vocab_path = dir + "/vocab.txt";
    check_vocab(b.vocab_path, b.config.vocab_size);
    b.tensors = read_tensors(dir + "/model.safetensors", b.config);
    return b;
}

}  // namespace adalora

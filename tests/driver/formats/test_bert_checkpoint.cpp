// test_bert_checkpoint.cpp: Hugging Face BERT checkpoints (formats/
// bert_checkpoint.h): tiny synthetic checkpoints written here in F32, F16 and
// BF16 with values known by construction, the "bert." prefix, the tokenizer
// flags, each refusal (one line naming the file and the problem), and, when
// `make deps` has installed it, the real all-MiniLM-L6-v2 against numbers
// printed by PyTorch.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/assets.h"
#include "formats/bert_checkpoint.h"
#include "formats/safetensors.h"
#include "support/test_files.h"
#include "support/test_sandbox.h"
#include "support/tiny_bert.h"

using adalora::BertCheckpoint;
using adalora::Dtype;
using test::TinyCheckpoint;
using test::kTinyShapes;
using test::count_of;
using test::f32_value;
using test::kF16;
using test::kBF16;
using test::tiny_config;
using test::Shapes;
using test::Half;
using test::tiny_tensor;

namespace {

// Loading `c` is refused with one line that starts with DIR/FILE: and holds
// each of `culprits`.
void check_refused(const TinyCheckpoint &c, const std::string &file, const std::vector<std::string> &culprits,
                   const std::function<void(const std::string &dir)> &spoil = nullptr) {
    test::Sandbox box;
    const std::string dir = c.write(box);
    if (spoil) spoil(dir);
    const std::string e = test::usage_error([&] { adalora::load_bert_checkpoint(dir); });
    CAPTURE(e);
    CHECK(e.rfind(dir + "/" + file + ": ", 0) == 0);
    CHECK(e.find('\n') == std::string::npos);
    for (const std::string &culprit : culprits) CHECK(e.find(culprit) != std::string::npos);
}

// Loads the tiny checkpoint `c` and checks every tensor's name and shape.
BertCheckpoint load_tiny(const TinyCheckpoint &c, const test::Sandbox &box) {
    const BertCheckpoint b = adalora::load_bert_checkpoint(c.write(box));
    REQUIRE(b.tensors.size() == kTinyShapes.size());
    for (const auto &[name, shape] : kTinyShapes) {
        CAPTURE(name);
        REQUIRE(b.tensors.count(name) == 1);
        CHECK(b.tensors.at(name).shape == shape);
        CHECK(b.tensors.at(name).data.size() == count_of(shape));
    }
    return b;
}

}  // namespace

TEST_CASE("bert_checkpoint: bert_tensor_shapes lists BertModel's tensors in order") {
    adalora::BertConfig c;
    c.hidden_size = 4, c.num_layers = 1, c.num_heads = 2, c.intermediate_size = 6, c.vocab_size = 5;
    c.max_positions = 3, c.type_vocab_size = 2;
    CHECK(adalora::bert_tensor_shapes(c) == kTinyShapes);
    c.num_layers = 3;
    const Shapes three = adalora::bert_tensor_shapes(c);
    REQUIRE(three.size() == 5 + 3 * 16 + 2);
    CHECK(three[5 + 2 * 16].first == "encoder.layer.2.attention.self.query.weight");
    CHECK(three[5 + 3 * 16 - 1].first == "encoder.layer.2.output.LayerNorm.bias");
}

TEST_CASE("bert_checkpoint: an F32 checkpoint loads with its config, BERT's tokenizer defaults and exact values") {
    test::Sandbox box;
    const TinyCheckpoint c;
    const BertCheckpoint b = load_tiny(c, box);
    CHECK(b.dir == (box.work / "ckpt").string());
    CHECK(b.vocab_path == (box.work / "ckpt" / "vocab.txt").string());
    CHECK(b.config.hidden_size == 4);
    CHECK(b.config.num_layers == 1);
    CHECK(b.config.num_heads == 2);
    CHECK(b.config.intermediate_size == 6);
    CHECK(b.config.vocab_size == 5);
    CHECK(b.config.max_positions == 3);
    CHECK(b.config.type_vocab_size == 2);
    CHECK(b.config.pad_token_id == 0);
    CHECK(b.config.layer_norm_eps == 1e-12);
    CHECK(b.config.hidden_act == "gelu");
    // No tokenizer_config.json: BERT's defaults, the length capped by P = 3.
    CHECK(b.tokenizer.lowercase);
    CHECK(b.tokenizer.strip_accents);
    CHECK(b.tokenizer.tokenize_chinese_chars);
    CHECK(b.tokenizer.model_max_length == 3);
    for (size_t k = 0; k < kTinyShapes.size(); k++) {
        const std::vector<real> &v = b.tensors.at(kTinyShapes[k].first).data;
        for (size_t i = 0; i < v.size(); i++) CHECK(v[i] == (real)f32_value(k, i));
    }
}

TEST_CASE("bert_checkpoint: F16 and BF16 checkpoints convert to real exactly") {
    for (Dtype dtype : {Dtype::F16, Dtype::BF16}) {
        CAPTURE(adalora::dtype_name(dtype));
        test::Sandbox box;
        const BertCheckpoint b = load_tiny(TinyCheckpoint(dtype), box);
        for (size_t k = 0; k < kTinyShapes.size(); k++) {
            const std::vector<real> &v = b.tensors.at(kTinyShapes[k].first).data;
            for (size_t i = 0; i < v.size(); i++) {
                const Half &h = dtype == Dtype::F16 ? kF16[(k + i) % std::size(kF16)] : kBF16[(k + i) % std::size(kBF16)];
                CHECK(v[i] == (real)h.value);
                CHECK(std::signbit(v[i]) == std::signbit(h.value));
            }
        }
    }
}

TEST_CASE("bert_checkpoint: the bert. prefix of BertForSequenceClassification is dropped; extra tensors are ignored") {
    TinyCheckpoint c(Dtype::F32, "bert.");
    c.config["architectures"] = {"BertForSequenceClassification"};
    c.weights.tensors.push_back(tiny_tensor("classifier.weight", {2, 4}, 99, Dtype::F32));
    c.weights.tensors.push_back(tiny_tensor("classifier.bias", {2}, 98, Dtype::BF16));
    adalora::Tensor ids;  // the position_ids buffer: I64, which the reader skips
    ids.name = "bert.embeddings.position_ids";
    ids.dtype = Dtype::F64;  // written as F64 bytes, then renamed I64 in the header below
    ids.shape = {1, 3};
    ids.bytes.assign(24, '\0');
    c.weights.tensors.push_back(ids);
    test::Sandbox box;
    const std::string dir = c.write(box);
    std::string file = test::read_file(dir + "/model.safetensors");
    const size_t at = file.find(R"("bert.embeddings.position_ids":{"dtype":"F64")");
    REQUIRE(at != std::string::npos);
    file.replace(file.find("F64", at), 3, "I64");
    box.write("ckpt/model.safetensors", file);
    const BertCheckpoint b = adalora::load_bert_checkpoint(dir);
    REQUIRE(b.tensors.size() == kTinyShapes.size());
    CHECK(b.tensors.count("classifier.weight") == 0);
    CHECK(b.tensors.at("pooler.dense.bias").data ==
          std::vector<real>{f32_value(22, 0), f32_value(22, 1), f32_value(22, 2), f32_value(22, 3)});
}

TEST_CASE("bert_checkpoint: tokenizer_config.json's flags, strip_accents null following do_lower_case") {
    TinyCheckpoint c;
    c.config["max_position_embeddings"] = 512;
    c.weights.tensors[1] = tiny_tensor(kTinyShapes[1].first, {512, 4}, 1, Dtype::F32);
    struct Case {
        nlohmann::json tok;
        bool lowercase, strip, chinese;
        int max_length;
    };
    const Case cases[] = {
        {{{"do_lower_case", true}, {"strip_accents", nullptr}, {"model_max_length", 512}}, true, true, true, 512},
        {{{"do_lower_case", false}, {"strip_accents", nullptr}}, false, false, true, 512},
        {{{"do_lower_case", false}}, false, false, true, 512},
        {{{"do_lower_case", true}, {"strip_accents", false}, {"tokenize_chinese_chars", false}}, true, false, false, 512},
        {{{"do_lower_case", false}, {"strip_accents", true}, {"model_max_length", 128}}, false, true, true, 128},
        // transformers writes int(1e30) for "no limit": the model's 512 positions are the limit
        {{{"model_max_length", 1e30}}, true, true, true, 512},
        {{{"model_max_length", 1000}}, true, true, true, 512},
    };
    for (const Case &k : cases) {
        CAPTURE(k.tok.dump());
        c.tokenizer = k.tok;
        test::Sandbox box;
        const BertCheckpoint b = adalora::load_bert_checkpoint(c.write(box));
        CHECK(b.tokenizer.lowercase == k.lowercase);
        CHECK(b.tokenizer.strip_accents == k.strip);
        CHECK(b.tokenizer.tokenize_chinese_chars == k.chinese);
        CHECK(b.tokenizer.model_max_length == k.max_length);
    }
}

TEST_CASE("bert_checkpoint: a missing file is refused naming it") {
    for (const char *file : {"config.json", "model.safetensors", "vocab.txt"}) {
        CAPTURE(file);
        check_refused(TinyCheckpoint(), file, {"cannot read the file"},
                      [&](const std::string &dir) { std::filesystem::remove(dir + "/" + file); });
    }
}

TEST_CASE("bert_checkpoint: config.json refusals name the field, its value and the allowed values") {
    auto with = [](const char *key, const nlohmann::json &value) {
        TinyCheckpoint c;
        if (value.is_discarded()) c.config.erase(key);
        else c.config[key] = value;
        return c;
    };
    const nlohmann::json absent(nlohmann::json::value_t::discarded);
    check_refused(with("model_type", "gpt2"), "config.json", {"model_type is \"gpt2\" (allowed: \"bert\")"});
    check_refused(with("model_type", absent), "config.json", {"model_type is missing"});
    check_refused(with("architectures", {"GPT2Model"}), "config.json", {"architectures is [\"GPT2Model\"]", "Bert*"});
    check_refused(with("architectures", "BertModel"), "config.json", {"architectures", "Bert*"});
    check_refused(with("position_embedding_type", "relative_key"), "config.json",
                  {"position_embedding_type is \"relative_key\" (allowed: \"absolute\")"});
    for (const char *key : {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
                            "max_position_embeddings", "type_vocab_size"}) {
        CAPTURE(key);
        check_refused(with(key, absent), "config.json", {std::string(key) + " is missing (allowed: an integer 1.."});
        check_refused(with(key, 0), "config.json", {std::string(key) + " is 0 (allowed: an integer 1.."});
        check_refused(with(key, -3), "config.json", {std::string(key) + " is -3"});
        check_refused(with(key, "4"), "config.json", {std::string(key) + " is \"4\""});
        check_refused(with(key, 4.5), "config.json", {std::string(key) + " is 4.5"});
    }
    check_refused(with("hidden_size", int64_t(3000000000)), "config.json", {"hidden_size is 3000000000 (allowed: an integer 1..2147483647)"});
    check_refused(with("pad_token_id", absent), "config.json", {"pad_token_id is missing (allowed: an integer 0..4)"});
    check_refused(with("pad_token_id", 5), "config.json", {"pad_token_id is 5 (allowed: an integer 0..4)"});
    check_refused(with("num_attention_heads", 3), "config.json",
                  {"hidden_size 4 is not divisible by num_attention_heads 3"});
    check_refused(with("layer_norm_eps", 0), "config.json", {"layer_norm_eps is 0 (allowed: a finite number > 0)"});
    check_refused(with("layer_norm_eps", absent), "config.json", {"layer_norm_eps is missing"});
    check_refused(with("hidden_act", "gelu_new"), "config.json", {"hidden_act is \"gelu_new\" (allowed: \"gelu\")"});
    check_refused(with("hidden_act", "relu"), "config.json", {"hidden_act is \"relu\""});
    check_refused(with("hidden_act", absent), "config.json", {"hidden_act is missing"});
    check_refused(TinyCheckpoint(), "config.json", {"not a JSON object"},
                  [](const std::string &dir) { std::ofstream(dir + "/config.json") << "{\"hidden_size\": 4,"; });
}

TEST_CASE("bert_checkpoint: tokenizer_config.json and vocab.txt refusals") {
    TinyCheckpoint c;
    c.tokenizer = {{"do_lower_case", "yes"}};
    check_refused(c, "tokenizer_config.json", {"do_lower_case is \"yes\" (allowed: true, false)"});
    c.tokenizer = {{"strip_accents", 1}};
    check_refused(c, "tokenizer_config.json", {"strip_accents is 1 (allowed: true, false, null)"});
    c.tokenizer = {{"model_max_length", 0}};
    check_refused(c, "tokenizer_config.json", {"model_max_length is 0"});
    c.tokenizer = {{"model_max_length", "512"}};
    check_refused(c, "tokenizer_config.json", {"model_max_length is \"512\""});
    c.tokenizer = nlohmann::json::array();
    check_refused(c, "tokenizer_config.json", {"not a JSON object"});
    c.tokenizer = nullptr;
    c.vocab = "";
    check_refused(c, "vocab.txt", {"empty"});
    c.vocab = "a\nb\nc\nd\ne\nf";  // 6 tokens, the last without a newline
    check_refused(c, "vocab.txt", {"6 tokens, more than the config's vocab_size 5"});
    c.vocab = "a\nb\nc\nd\ne\n";  // exactly 5 loads
    test::Sandbox box;
    CHECK(adalora::load_bert_checkpoint(c.write(box)).tensors.size() == kTinyShapes.size());
}

TEST_CASE("bert_checkpoint: model.safetensors refusals: a missing tensor, a wrong shape or dtype, a non-finite value") {
    const std::string q = "encoder.layer.0.attention.self.query.weight";
    SUBCASE("missing") {
        TinyCheckpoint c;
        c.weights.tensors.erase(c.weights.tensors.begin() + 20);  // encoder.layer.0.output.LayerNorm.bias
        check_refused(c, "model.safetensors", {"tensor 'encoder.layer.0.output.LayerNorm.bias' is missing"});
        TinyCheckpoint p(Dtype::F32, "bert.");
        p.weights.tensors.pop_back();
        check_refused(p, "model.safetensors", {"tensor 'bert.pooler.dense.bias' is missing"});
    }
    SUBCASE("shape") {
        TinyCheckpoint c;
        c.tensor(q) = tiny_tensor(q, {4, 5}, 0, Dtype::F32);
        check_refused(c, "model.safetensors", {"tensor '" + q + "' has shape [4, 5], expected [4, 4]"});
        c = TinyCheckpoint();
        c.config["num_hidden_layers"] = 2;  // the file has one layer
        check_refused(c, "model.safetensors", {"tensor 'encoder.layer.1.attention.self.query.weight' is missing"});
    }
    SUBCASE("dtype") {
        TinyCheckpoint c;
        c.tensor("pooler.dense.bias").dtype = Dtype::F64;  // 4 F32 = 2 elements of 8 bytes
        c.tensor("pooler.dense.bias").shape = {2};
        check_refused(c, "model.safetensors", {"tensor 'pooler.dense.bias' has dtype I32 (allowed: F32, F64, F16, BF16)"},
                      [](const std::string &dir) {
                          std::string f = test::read_file(dir + "/model.safetensors");
                          const size_t at = f.find(R"("pooler.dense.bias":{"dtype":"F64","shape":[2])");
                          REQUIRE(at != std::string::npos);
                          // I32 of shape [4]: same byte count, same header length
                          f.replace(f.find("F64", at), 3, "I32");
                          f.replace(f.find("[2]", at), 3, "[4]");
                          std::ofstream(dir + "/model.safetensors", std::ios::binary) << f;
                      });
        check_refused(c, "model.safetensors", {"'pooler.dense.bias' has dtype 'C64'", "allowed: F32, F64, F16, BF16"},
                      [](const std::string &dir) {
                          std::string f = test::read_file(dir + "/model.safetensors");
                          f.replace(f.find("F64", f.find(R"("pooler.dense.bias")")), 3, "C64");
                          std::ofstream(dir + "/model.safetensors", std::ios::binary) << f;
                      });
    }
    SUBCASE("non-finite") {
        TinyCheckpoint c;
        const float nan = NAN;
        std::memcpy(&c.tensor(q).bytes[4 * 7], &nan, 4);
        check_refused(c, "model.safetensors", {"tensor '" + q + "' element 7 is nan (allowed: finite values"});
        TinyCheckpoint h(Dtype::F16);
        const uint16_t inf = 0xFC00;
        std::memcpy(&h.tensor("embeddings.LayerNorm.weight").bytes[2 * 3], &inf, 2);
        check_refused(h, "model.safetensors", {"tensor 'embeddings.LayerNorm.weight' element 3 is -inf"});
    }
}

// The real checkpoint, when `make deps` installed it (build/assets, found
// from the test binary's folder like the driver finds it). The expected
// numbers were printed by PyTorch:
//   build/venv/bin/python -c "from safetensors.torch import load_file; t=load_file('build/assets/all-MiniLM-L6-v2/model.safetensors'); print(t['embeddings.word_embeddings.weight'][101,0].item().hex(), t['embeddings.word_embeddings.weight'][30521,383].item().hex(), t['embeddings.position_embeddings.weight'][511,383].item().hex(), t['encoder.layer.5.output.dense.weight'][383,1535].item().hex(), t['encoder.layer.0.attention.self.query.bias'][7].item().hex(), t['encoder.layer.0.attention.self.query.weight'][1,2].item().hex(), t['embeddings.LayerNorm.weight'][0].item().hex(), t['pooler.dense.weight'][0,0].item().hex(), t['embeddings.word_embeddings.weight'].double().sum().item())"
TEST_CASE("bert_checkpoint: the real all-MiniLM-L6-v2 (skipped without make deps)") {
    std::string dir;
    try {
        dir = adalora::find_asset("all-MiniLM-L6-v2");
    } catch (const adalora::UsageError &e) {
        MESSAGE("skipped: " << std::string(e.what()));
        return;
    }
    const BertCheckpoint b = adalora::load_bert_checkpoint(dir);
    CHECK(b.config.hidden_size == 384);
    CHECK(b.config.num_layers == 6);
    CHECK(b.config.num_heads == 12);
    CHECK(b.config.intermediate_size == 1536);
    CHECK(b.config.vocab_size == 30522);
    CHECK(b.config.max_positions == 512);
    CHECK(b.config.type_vocab_size == 2);
    CHECK(b.config.pad_token_id == 0);
    CHECK(b.config.layer_norm_eps == 1e-12);
    CHECK(b.tokenizer.lowercase);
    CHECK(b.tokenizer.strip_accents);  // null in the file: follows do_lower_case
    CHECK(b.tokenizer.model_max_length == 512);
    CHECK(b.tensors.size() == 5 + 6 * 16 + 2);
    auto at = [&](const std::string &name, size_t i) { return b.tensors.at(name).data.at(i); };
    // F32 in the file, so exact in both precisions.
    CHECK(at("embeddings.word_embeddings.weight", 101 * 384 + 0) == (real)-0x1.20ad1cp-6);
    CHECK(at("embeddings.word_embeddings.weight", 30521 * 384 + 383) == (real)0x1.2b80f2p-8);
    CHECK(at("embeddings.position_embeddings.weight", 511 * 384 + 383) == (real)-0x1.9e4p-8);
    CHECK(at("encoder.layer.5.output.dense.weight", 383 * 1536 + 1535) == (real)0x1.42feccp-10);
    CHECK(at("encoder.layer.0.attention.self.query.bias", 7) == (real)0x1.1dcdcep-3);
    CHECK(at("encoder.layer.0.attention.self.query.weight", 1 * 384 + 2) == (real)0x1.36e7bcp-4);  // [out, in]
    CHECK(at("embeddings.LayerNorm.weight", 0) == (real)0x1.32a6bcp-1);
    CHECK(at("pooler.dense.weight", 0) == (real)-0x1.efcp-7);
    double sum = 0;
    for (real v : b.tensors.at("embeddings.word_embeddings.weight").data) sum += v;
    CHECK(sum == doctest::Approx(138.05072214923592).epsilon(1e-9));
}

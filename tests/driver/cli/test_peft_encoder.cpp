// test_peft_encoder.cpp: an encoder run's adapter in PEFT's format
// (formats/peft_format.h) and `encoder-step --adapter` (cli/encoder_step.h),
// on the tiny checkpoint (tests/support/tiny_bert.h: H 4, I 6, one layer):
// the run's head.weight / head.bias, the export's key names and shapes
// (BertForSequenceClassification's paths, written out here by hand), the
// config PEFT reads, the head and adapters back bit for bit through import,
// keep flags applied as Eq. 3's mask, and hostile input refused in one line.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/adapter_file.h"
#include "formats/npy.h"
#include "formats/peft_format.h"
#include "support/test_files.h"
#include "support/test_sandbox.h"
#include "support/tiny_bert.h"

namespace fs = std::filesystem;
using adalora::Tensor;

namespace {

// The tiny checkpoint (ckpt/) with small weights, 0.3 sin(1.7 i + k) for
// element i of tensor k (its own values, k + i/64, saturate the pooler's
// tanh, so no adapter could move a logit), and 40 two-class sentences
// (data/); the options of a short AdaLoRA run on them: one layer, r0 2,
// b(T) = 1 per module.
std::string tiny_encoder_options(const test::Sandbox &box) {
    test::TinyCheckpoint ckpt;
    for (size_t k = 0; k < ckpt.weights.tensors.size(); k++) {
        Tensor &t = ckpt.weights.tensors[k];
        for (size_t i = 0; i < t.bytes.size() / 4; i++) {
            const float v = (float)(0.3 * std::sin(1.7 * (double)i + (double)k));
            std::memcpy(&t.bytes[i * 4], &v, 4);
        }
    }
    ckpt.write(box);
    fs::create_directories(box.work / "data/test/fixtures");
    nlohmann::json records = nlohmann::json::array();
    for (int i = 0; i < 40; i++) records.push_back({{"text", i % 2 ? "hello hello" : "bad"}, {"class", i % 2}});
    box.write("data/test/fixtures/amazon.json", records.dump());
    return "--task sentiment-amazon --model ckpt --sentence-data data --max-seq 3 --batch 4 --init_r 2 --target_r 1 "
           "--total_step 12 --tinit 2 --tfinal 4 --deltaT 2 --dropout 0 --convention peft --lr 0.05 --log quiet";
}

// BertForSequenceClassification's path of each of our six module types in layer 0, with [d_out, d_in].
struct Expected {
    const char *ours, *path;
    int64_t d_out, d_in;
};
const Expected kLayer0[] = {
    {"0.query", "bert.encoder.layer.0.attention.self.query", 4, 4},
    {"0.key", "bert.encoder.layer.0.attention.self.key", 4, 4},
    {"0.value", "bert.encoder.layer.0.attention.self.value", 4, 4},
    {"0.attention.output.dense", "bert.encoder.layer.0.attention.output.dense", 4, 4},
    {"0.intermediate.dense", "bert.encoder.layer.0.intermediate.dense", 6, 4},
    {"0.output.dense", "bert.encoder.layer.0.output.dense", 4, 6},
};

adalora::Safetensors read_st(const test::Sandbox &box, const std::string &path) {
    return adalora::read_safetensors((box.work / path).string());
}

void write_st(const test::Sandbox &box, const std::string &path, const adalora::Safetensors &f) {
    std::ofstream(box.work / path, std::ios::binary) << adalora::serialize_safetensors(f);
}

Tensor &tensor_of(adalora::Safetensors &f, const std::string &name) {
    for (Tensor &t : f.tensors)
        if (t.name == name) return t;
    FAIL("no tensor " << name);
    return f.tensors.front();
}

// Element i of a float or double tensor set to v.
void set_value(Tensor &t, size_t i, double v) {
    if (t.dtype == adalora::Dtype::F64) std::memcpy(&t.bytes[i * 8], &v, 8);
    else {
        const float f = (float)v;
        std::memcpy(&t.bytes[i * 4], &f, 4);
    }
}

std::vector<double> logits_of(const test::Sandbox &box, const std::string &dir) {
    return adalora::read_npy((box.work / dir / "logits.npy").string()).to_double();
}

}  // namespace

TEST_CASE("peft encoder: module paths, both ways, and names that are not an encoder's") {
    for (const Expected &e : kLayer0) {
        CAPTURE(e.ours);
        CHECK(adalora::encoder_module_path(e.ours) == e.path);
        CHECK(adalora::encoder_module_of(e.path) == e.ours);
    }
    CHECK(adalora::encoder_module_path("11.output.dense") == "bert.encoder.layer.11.output.dense");
    CHECK(adalora::encoder_module_of("bert.encoder.layer.11.attention.output.dense") == "11.attention.output.dense");
    for (const char *path : {"bert.encoder.layer.0.attention.self.output.dense", "bert.encoder.layer.0.query",
                             "bert.encoder.layer.01.attention.self.query", "bert.encoder.layer.x.output.dense",
                             "encoder.layer.0.attention.self.query", "bert.pooler.dense", "classifier"}) {
        CAPTURE(path);
        CHECK(adalora::encoder_module_of(path).empty());
    }
    for (const char *name : {"l0.q", "0.mlp", "00.query", "-1.query", "0", "query"}) {
        CAPTURE(name);
        CHECK(test::usage_error([&] { adalora::encoder_module_path(name); }).find("not an encoder module") !=
              std::string::npos);
    }
}

TEST_CASE("peft encoder: the run's head, the export's keys, shapes and config, and import back bit for bit") {
    test::Sandbox box;
    const std::string opts = tiny_encoder_options(box);
    test::Result r = box.run("train " + opts + " --out run");
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    const adalora::Safetensors run = read_st(box, "run/adapter.safetensors");
    // The head by name, [K, C] and [K]; it is not a frozen base tensor.
    REQUIRE(run.find("head.weight") != nullptr);
    CHECK(run.find("head.weight")->shape == std::vector<int64_t>{2, 4});
    CHECK(run.find("head.bias")->shape == std::vector<int64_t>{2});
    CHECK(run.find("host.params") == nullptr);
    CHECK_FALSE(adalora::is_base_tensor("head.bias"));
    adalora::Safetensors dropped = run;
    adalora::drop_base_tensors(dropped);
    CHECK(dropped.find("head.bias") != nullptr);

    REQUIRE(box.run("export run --format peft --out peft").code == 0);
    const adalora::Safetensors peft = read_st(box, "peft/adapter_model.safetensors");
    const nlohmann::json cfg = nlohmann::json::parse(test::read_text(box.work / "peft/adapter_config.json"));
    CHECK(cfg["task_type"] == "SEQ_CLS");
    CHECK(cfg["modules_to_save"] == nlohmann::json({"classifier"}));
    CHECK(cfg["base_model_name_or_path"] == "ckpt");
    CHECK(cfg["target_modules"] == nlohmann::json({"query", "key", "value", "attention.output.dense",
                                                   "intermediate.dense", "output.dense"}));
    CHECK(cfg["init_r"] == 2);
    CHECK(cfg["target_r"] == 1);
    CHECK(cfg["r"] == 8);  // LoraConfig's default: PEFT warns about any other
    size_t names = 0, kept_total = 0;
    for (const Expected &e : kLayer0) {
        CAPTURE(e.path);
        const std::string key = std::string("base_model.model.") + e.path;
        const nlohmann::json &flags = cfg["rank_pattern"][std::string(e.path) + ".lora_E"];
        REQUIRE(flags.size() == 2);
        int64_t k = 0;
        for (const auto &f : flags) k += f.get<bool>();
        kept_total += (size_t)k;
        REQUIRE(peft.find(key + ".lora_A") != nullptr);
        CHECK(peft.find(key + ".lora_A")->shape == std::vector<int64_t>{k, e.d_in});
        CHECK(peft.find(key + ".lora_B")->shape == std::vector<int64_t>{e.d_out, k});
        CHECK(peft.find(key + ".lora_E")->shape == std::vector<int64_t>{k, 1});
        names += 3;
    }
    CHECK(kept_total == 6);  // b(T) = 6 modules · target_r 1
    CHECK(cfg["rank_pattern"].size() == 6);
    REQUIRE(peft.find("base_model.model.classifier.weight") != nullptr);
    CHECK(peft.find("base_model.model.classifier.weight")->bytes == run.find("head.weight")->bytes);
    CHECK(peft.find("base_model.model.classifier.bias")->bytes == run.find("head.bias")->bytes);
    CHECK(peft.tensors.size() == names + 2);

    // import: our names in model order, the head and every kept triplet back bit for bit.
    r = box.run("import peft --out back");
    CAPTURE(r.out);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("head") != std::string::npos);
    CHECK(r.out.find("[2 x 4] and bias (PEFT's classifier)") != std::string::npos);
    const adalora::RunAdapter back = adalora::read_run_adapter((box.work / "back/adapter.safetensors").string());
    const adalora::RunAdapter ours = adalora::run_adapter_from(run, "run");
    CHECK(back.modules == std::vector<std::string>{"0.query", "0.key", "0.value", "0.attention.output.dense",
                                                   "0.intermediate.dense", "0.output.dense"});
    CHECK(back.file.find("head.weight")->bytes == run.find("head.weight")->bytes);
    CHECK(back.file.find("head.bias")->bytes == run.find("head.bias")->bytes);
    CHECK(std::stod(back.file.metadata.at("scale")) == doctest::Approx(8.0 / (2 + 1e-5)).epsilon(1e-12));
    for (const std::string &m : back.modules) {
        CAPTURE(m);
        const std::vector<int> kept = ours.kept(m);
        CHECK(back.kept(m) == kept);
        const std::vector<real> lam = adalora::tensor_values(ours.tensor(m, "lambda")),
                                lam2 = adalora::tensor_values(back.tensor(m, "lambda"));
        for (int i : kept) CHECK(lam2[(size_t)i] == lam[(size_t)i]);
    }
    // Exported again: the same files.
    REQUIRE(box.run("export back --out peft2").code == 0);
    CHECK(test::read_text(box.work / "peft2/adapter_model.safetensors") ==
          test::read_text(box.work / "peft/adapter_model.safetensors"));
}

TEST_CASE("peft encoder: target_modules is the exact paths when output.dense would also match attention.output.dense") {
    test::Sandbox box;
    const std::string opts = tiny_encoder_options(box);
    REQUIRE(box.run("train " + opts + " --target-modules output.dense --out run").code == 0);
    REQUIRE(box.run("export run --out peft").code == 0);
    const nlohmann::json cfg = nlohmann::json::parse(test::read_text(box.work / "peft/adapter_config.json"));
    CHECK(cfg["target_modules"] == nlohmann::json({"bert.encoder.layer.0.output.dense"}));
    REQUIRE(box.run("train " + opts + " --target-modules output.dense,attention.output.dense --out run2").code == 0);
    REQUIRE(box.run("export run2 --out peft2").code == 0);
    const nlohmann::json cfg2 = nlohmann::json::parse(test::read_text(box.work / "peft2/adapter_config.json"));
    CHECK(cfg2["target_modules"] == nlohmann::json({"attention.output.dense", "output.dense"}));
}

TEST_CASE("peft encoder: encoder-step --adapter loads the adapters, the keep flags (Eq. 3's mask) and the head") {
    test::Sandbox box;
    const std::string opts = tiny_encoder_options(box);
    REQUIRE(box.run("train " + opts + " --out run").code == 0);
    const std::string step = "encoder-step " + opts + " --rows 4 ";
    test::Result r = box.run(step + "--adapter run/adapter.safetensors --out a");
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    adalora::Safetensors file = read_st(box, "run/adapter.safetensors");
    const adalora::RunAdapter run = adalora::run_adapter_from(file, "run");
    // The dump's parameters are the file's.
    auto npy = [&](const std::string &dir, const std::string &name) {
        return adalora::read_npy((box.work / dir / (name + ".npy")).string()).to_double();
    };
    auto values = [&](const std::string &name) {
        std::vector<double> v;
        for (real x : adalora::tensor_values(*file.find(name))) v.push_back((double)x);
        return v;
    };
    CHECK(npy("a", "classifier.weight") == values("head.weight"));
    CHECK(npy("a", "classifier.bias") == values("head.bias"));
    CHECK(npy("a", "0.value.P") == values("0.value.P"));
    CHECK(npy("a", "0.value.lambda") == values("0.value.lambda"));
    const std::vector<double> logits = logits_of(box, "a");
    REQUIRE(logits.size() == 8);

    // Eq. 3: a masked triplet contributes nothing, whatever its λ; a kept one
    // with λ = 0 neither. So the logits stay when every pruned λ is set to 5
    // (keep 0), and when the mask is dropped (keep 1) with those λ zeroed;
    // they change when the mask is dropped with the λ at 5.
    adalora::Safetensors big = file, zeroed = file, unmasked = file;
    size_t pruned = 0;
    for (const std::string &m : run.modules) {
        const std::vector<int> kept = run.kept(m);
        for (size_t i = 0; i < 2; i++) {
            if (std::find(kept.begin(), kept.end(), (int)i) != kept.end()) continue;
            pruned++;
            set_value(tensor_of(big, m + ".lambda"), i, 5.0);
            set_value(tensor_of(zeroed, m + ".lambda"), i, 0.0);
            set_value(tensor_of(zeroed, m + ".keep"), i, 1.0);
            set_value(tensor_of(unmasked, m + ".lambda"), i, 5.0);
            set_value(tensor_of(unmasked, m + ".keep"), i, 1.0);
        }
    }
    REQUIRE(pruned == 6);
    write_st(box, "big.safetensors", big);
    write_st(box, "zeroed.safetensors", zeroed);
    write_st(box, "unmasked.safetensors", unmasked);
    REQUIRE(box.run(step + "--adapter big.safetensors --out b").code == 0);
    REQUIRE(box.run(step + "--adapter zeroed.safetensors --out z").code == 0);
    REQUIRE(box.run(step + "--adapter unmasked.safetensors --out u").code == 0);
    CHECK(logits_of(box, "b") == logits);
    CHECK(logits_of(box, "z") == logits);
    CHECK(logits_of(box, "u") != logits);
    // Without --adapter the parameters are random: other logits.
    REQUIRE(box.run(step + "--out p").code == 0);
    CHECK(logits_of(box, "p") != logits);
}

TEST_CASE("peft encoder: adapters that do not fit the run, and hostile files, are refused in one line") {
    test::Sandbox box;
    const std::string opts = tiny_encoder_options(box);
    REQUIRE(box.run("train " + opts + " --out run").code == 0);
    REQUIRE(box.run("train " + opts + " --target-modules query,value --out qv").code == 0);
    REQUIRE(box.run("export run --out peft").code == 0);
    const std::string step = "encoder-step " + opts + " --rows 2 ";
    const adalora::Safetensors file = read_st(box, "run/adapter.safetensors");
    using test::expect_usage_error;

    expect_usage_error(box, step + "--adapter nowhere.safetensors --out x", "nowhere.safetensors");
    expect_usage_error(box, step + "--adapter qv/adapter.safetensors --out x", "2 modules, but the run adapts 6");
    expect_usage_error(box, step + "--target-modules query --adapter qv/adapter.safetensors --out x",
                       "module '0.value' is not adapted in this run");
    expect_usage_error(box, step + "--init_r 3 --adapter run/adapter.safetensors --out x", "r0 = 2, but the run's is 3");
    expect_usage_error(box, step + "--lora_alpha 4 --adapter run/adapter.safetensors --out x", "scale s = ");
    expect_usage_error(box, step + "--method lora --lora_r 2 --adapter run/adapter.safetensors --out x",
                       "the adapter is svd-form, but --method lora is lora-form");
    {
        test::Result r = box.run(step + "--perturb 0.5 --adapter run/adapter.safetensors --out x");
        CHECK(r.code == 2);
        CHECK(r.err.find("--adapter") != std::string::npos);
        CHECK_FALSE(fs::exists(box.work / "x"));
    }
    adalora::Safetensors headless = file;
    headless.tensors.erase(std::remove_if(headless.tensors.begin(), headless.tensors.end(),
                                          [](const Tensor &t) { return t.name.rfind("head.", 0) == 0; }),
                           headless.tensors.end());
    write_st(box, "headless.safetensors", headless);
    expect_usage_error(box, step + "--adapter headless.safetensors --out x", "no 'head.weight' and 'head.bias'");
    expect_usage_error(box, "export headless-run --out x", "headless-run/adapter.safetensors");
    fs::create_directories(box.work / "headless-run");
    fs::copy_file(box.work / "headless.safetensors", box.work / "headless-run/adapter.safetensors");
    expect_usage_error(box, "export headless-run --out x", "an encoder run's adapter without 'head.weight'");
    adalora::Safetensors half = file;
    half.tensors.erase(std::find_if(half.tensors.begin(), half.tensors.end(),
                                    [](const Tensor &t) { return t.name == "head.bias"; }));
    write_st(box, "half.safetensors", half);
    expect_usage_error(box, step + "--adapter half.safetensors --out x", "come together");
    adalora::Safetensors wide = file;
    const std::vector<real> six(6, 0.5);
    tensor_of(wide, "head.bias") = adalora::make_tensor("head.bias", {3}, six.data());
    tensor_of(wide, "head.weight") = adalora::make_tensor("head.weight", {3, 2}, six.data());
    write_st(box, "wide.safetensors", wide);
    expect_usage_error(box, step + "--adapter wide.safetensors --out x", "'head.weight' has shape [3, 2], expected [2, 4]");
    adalora::Safetensors nan = file;
    set_value(tensor_of(nan, "head.weight"), 3, NAN);
    write_st(box, "nan.safetensors", nan);
    expect_usage_error(box, step + "--adapter nan.safetensors --out x", "'head.weight' holds NaN or Inf");

    // PEFT directories: a classifier that is not [K, C] + [K], half a
    // classifier, a path no BERT matrix has, a classifier beside MLP modules.
    const std::string weights = test::read_text(box.work / "peft/adapter_model.safetensors");
    const std::string config = test::read_text(box.work / "peft/adapter_config.json");
    auto variant = [&](const std::string &name, const adalora::Safetensors &w, const std::string &c) {
        fs::create_directories(box.work / name);
        write_st(box, name + "/adapter_model.safetensors", w);
        box.write(name + "/adapter_config.json", c);
    };
    const adalora::Safetensors parsed = adalora::parse_safetensors(weights, "peft");
    adalora::Safetensors bad_bias = parsed;
    tensor_of(bad_bias, "base_model.model.classifier.bias") =
        adalora::make_tensor("base_model.model.classifier.bias", {3}, six.data());
    variant("p-shape", bad_bias, config);
    expect_usage_error(box, "import p-shape --out x", "the classifier has weight [2, 4] and bias [3]");
    adalora::Safetensors no_bias = parsed;
    no_bias.tensors.erase(std::find_if(no_bias.tensors.begin(), no_bias.tensors.end(), [](const Tensor &t) {
        return t.name == "base_model.model.classifier.bias";
    }));
    variant("p-half", no_bias, config);
    expect_usage_error(box, "import p-half --out x", "'base_model.model.classifier.bias' is missing");
    adalora::Safetensors renamed = parsed;
    std::string cfg_renamed = config;
    for (Tensor &t : renamed.tensors) {
        const size_t at = t.name.find("attention.self.query");
        if (at != std::string::npos) t.name.replace(at, 20, "attention.self.quer");
    }
    const size_t at = cfg_renamed.find("attention.self.query.lora_E");
    REQUIRE(at != std::string::npos);
    cfg_renamed.replace(at, 20, "attention.self.quer");
    variant("p-path", renamed, cfg_renamed);
    expect_usage_error(box, "import p-path --out x",
                       "module 'bert.encoder.layer.0.attention.self.quer' is not an adaptable matrix");
    REQUIRE(box.run("train " + test::kTiny + " --seed 2 --out mlp").code == 0);
    REQUIRE(box.run("export mlp --out mlp-peft").code == 0);
    adalora::Safetensors mlp_head = read_st(box, "mlp-peft/adapter_model.safetensors");
    mlp_head.tensors.push_back(*parsed.find("base_model.model.classifier.weight"));
    mlp_head.tensors.push_back(*parsed.find("base_model.model.classifier.bias"));
    variant("p-mlp", mlp_head, test::read_text(box.work / "mlp-peft/adapter_config.json"));
    expect_usage_error(box, "import p-mlp --out x", "a classifier without BertForSequenceClassification's modules");
}

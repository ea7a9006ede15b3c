// test_sentence_run.cpp: the sentence tasks end to end through the driver
// binary, on a tiny checkpoint and a few hand-written sentences in a sandbox
// (no make deps needed): the run's files and summary, the fixed split, the
// kept-rank table, determinism, encoder-step's files, and the options the
// sentence tasks refuse.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "support/test_sandbox.h"
#include "support/tiny_bert.h"

namespace {

// 40 UCI-style records, labels alternating, words the tiny vocab partly knows.
std::string yelp_json() {
    nlohmann::json records = nlohmann::json::array();
    for (int i = 0; i < 40; i++)
        records.push_back({{"text", (i % 2 ? "hello there " : "awful, ") + std::to_string(i)}, {"class", i % 2}});
    return records.dump();
}

// The sandbox's checkpoint (ckpt/) and data (data/test/fixtures/yelp.json).
std::string sentence_options(const test::Sandbox &box) {
    test::TinyCheckpoint ckpt;
    ckpt.write(box);
    std::filesystem::create_directories(box.work / "data/test/fixtures");
    box.write("data/test/fixtures/yelp.json", yelp_json());
    return "--task sentiment-yelp --model ckpt --sentence-data data --max-seq 3 --batch 4 --init_r 2 --target_r 1 "
           "--total_step 12 --tinit 2 --tfinal 4 --deltaT 2 --dropout 0.1 --eval-every 4 --log quiet";
}

nlohmann::json summary_of(const test::Sandbox &box, const std::string &run) {
    return nlohmann::json::parse(test::read_text(box.work / run / "summary.json"));
}

// `train ARGS --out RUN`, which must succeed: its stderr and summary.json.
struct Trained {
    std::string err;
    nlohmann::json summary;
};
Trained train_ok(const test::Sandbox &box, const std::string &args, const std::string &run) {
    test::Result r = box.run("train " + args + " --out " + run);
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    return {r.err, summary_of(box, run)};
}

// The train, dev and test accuracies are there, each in [0, 1].
void check_accuracies(const nlohmann::json &s) {
    for (const char *key : {"final_dev_accuracy", "final_test_accuracy", "final_train_accuracy"}) {
        CAPTURE(key);
        REQUIRE(s.contains(key));
        CHECK(s[key].get<double>() >= 0.0);
        CHECK(s[key].get<double>() <= 1.0);
    }
}

}  // namespace

TEST_CASE("sentence task: a run on a tiny checkpoint writes dev.csv, the dev and test accuracies and the kept ranks") {
    test::Sandbox box;
    const std::string opts = sentence_options(box);
    const Trained r = train_ok(box, opts + " --log lines", "run");
    const nlohmann::json &s = r.summary;
    CHECK(s["sentences"] == nlohmann::json({{"train", 32}, {"dev", 4}, {"test", 4}}));  // 80/10/10 of 40
    check_accuracies(s);
    // One layer, all six matrices, b(T) = 6 · target_r = 6 triplets kept.
    const nlohmann::json &by_layer = s["kept_rank_by_layer"];
    REQUIRE(by_layer.size() == 6);
    int kept = 0;
    for (const auto &[type, ranks] : by_layer.items()) {
        REQUIRE(ranks.size() == 1);
        kept += ranks[0].get<int>();
    }
    CHECK(kept == 6);
    CHECK(by_layer.contains("intermediate.dense"));
    // Σ (d1 + d2 + 1) · init_r over q, k, v, o (4 x 4) and the FFN's 6 x 4 and
    // 4 x 6; the head every method trains is not counted (the paper's # params).
    CHECK(s["trainable_params_initial"] == (4 * (4 + 4 + 1) + 2 * (6 + 4 + 1)) * 2);
    // dev.csv: the header, then steps 4, 8 and 12 (--eval-every 4, the last).
    const std::vector<std::string> dev = test::lines_of(test::read_text(box.work / "run/dev.csv"));
    REQUIRE(dev.size() == 4);
    CHECK(dev[0] == "step,dev_loss,dev_accuracy");
    CHECK(dev[1].rfind("4,", 0) == 0);
    CHECK(dev[3].rfind("12,", 0) == 0);
    CHECK(r.err.find("kept rank") != std::string::npos);
    CHECK(r.err.find("dev accuracy") != std::string::npos);
    CHECK(s["config"]["target_modules"] == "all");
}

TEST_CASE("sentence task: the same seed gives the same run; another seed, another one (dropout included)") {
    test::Sandbox box;
    const std::string opts = sentence_options(box);
    REQUIRE(box.run("train " + opts + " --seed 3 --out a").code == 0);
    REQUIRE(box.run("train " + opts + " --seed 3 --out b").code == 0);
    REQUIRE(box.run("train " + opts + " --seed 4 --out c").code == 0);
    const nlohmann::json a = summary_of(box, "a"), b = summary_of(box, "b"), c = summary_of(box, "c");
    CHECK(a["final_train_loss"] == b["final_train_loss"]);
    CHECK(a["kept_rank_by_layer"] == b["kept_rank_by_layer"]);
    CHECK(a["final_train_loss"] != c["final_train_loss"]);
    CHECK(a["sentences"] == c["sentences"]);  // the split is the task's, not the seed's
}

TEST_CASE("sentence task: --target-modules adapts only the matrices named") {
    test::Sandbox box;
    const std::string opts = sentence_options(box);
    REQUIRE(box.run("train " + opts + " --target-modules query,output.dense --out run").code == 0);
    const nlohmann::json s = summary_of(box, "run");
    CHECK(s["kept_rank_by_layer"].size() == 2);
    CHECK(s["kept_rank_by_layer"].contains("query"));
    CHECK(s["kept_rank_by_layer"].contains("output.dense"));
}

TEST_CASE("sentence task: --layers-to-transform adapts the named layers' matrices only, and the export names their paths") {
    test::Sandbox box;
    test::TinyCheckpoint ckpt;  // three layers: layer 0's tensors again as layers 1 and 2
    ckpt.config["num_hidden_layers"] = 3;
    const size_t n = ckpt.weights.tensors.size();
    for (const char *layer : {"encoder.layer.1.", "encoder.layer.2."})
        for (size_t i = 0; i < n; i++) {
            adalora::Tensor t = ckpt.weights.tensors[i];
            if (t.name.rfind("encoder.layer.0.", 0) != 0) continue;
            t.name = layer + t.name.substr(16);
            ckpt.weights.tensors.push_back(t);
        }
    ckpt.write(box, "ckpt3");
    const std::string opts = sentence_options(box) + " --model ckpt3";
    REQUIRE(box.run("train " + opts + " --layers-to-transform 2,0 --target-modules query,value --out run").code == 0);
    const nlohmann::json s = summary_of(box, "run");
    std::vector<std::string> modules;
    for (const auto &[name, rank] : s["kept_rank"].items()) modules.push_back(name);
    CHECK(modules == std::vector<std::string>{"0.query", "0.value", "2.query", "2.value"});
    CHECK(s["kept_rank_by_layer"]["query"].size() == 3);
    CHECK(s["kept_rank_by_layer"]["query"][1] == 0);
    CHECK(s["config"]["layers_to_transform"] == "2,0");
    // PEFT would match the bare type names in every layer: the export lists the exact paths.
    REQUIRE(box.run("export run --format peft --out peft").code == 0);
    const nlohmann::json peft = nlohmann::json::parse(test::read_text(box.work / "peft/adapter_config.json"));
    CAPTURE(peft["target_modules"].dump());
    REQUIRE(peft["target_modules"].size() == 4);
    CHECK(peft["target_modules"][0] == "bert.encoder.layer.0.attention.self.query");
    test::expect_usage_error(box, "train " + opts + " --layers-to-transform 3 --out x", "'3'", "0..2");
    test::expect_usage_error(box, "train " + opts + " --layers-to-transform 1,1 --out x", "given twice");
    test::expect_usage_error(box, "train " + opts + " --layers-to-transform 1x --out x", "'1x'", "or all");
    test::expect_usage_error(box, "train " + opts + " --layers-to-transform ,, --out x", "''", "or all");
    test::expect_usage_error(box, "train --task planted-linear --layers-to-transform 0 --out x", "--layers-to-transform", "sentence tasks only");
    test::expect_usage_error(box, "train --task planted-linear --no-train-eval --out x", "--no-train-eval", "sentence tasks only");
}

TEST_CASE("sentence task: svd-proj projects to b(t) by the true singular values") {
    test::Sandbox box;
    const std::string opts = sentence_options(box);
    const nlohmann::json s = train_ok(box, opts + " --method svd-proj", "run").summary;
    int kept = 0;
    for (const auto &[name, rank] : s["kept_rank"].items()) kept += rank.get<int>();
    CHECK(kept == 6);  // b(T) = 6 modules x target_r 1
    // Each module's kept singular values are those of its product: the
    // adapter analysis (reference_svd) sees no more nonzero ones than kept.
    for (const auto &[name, a] : s["adapters"].items()) {
        CAPTURE(name);
        int nonzero = 0;
        for (const auto &sigma : a["sigma"]) nonzero += sigma.get<double>() > 1e-6;
        CHECK(nonzero <= s["kept_rank"][name].get<int>());
    }
}

TEST_CASE("sentence task: --no-train-eval leaves the training split out; the record names the model, data and split") {
    test::Sandbox box;
    const std::string opts = sentence_options(box);
    REQUIRE(box.run("train " + opts + " --out full").code == 0);
    REQUIRE(box.run("train " + opts + " --no-train-eval --out lean").code == 0);
    const nlohmann::json full = summary_of(box, "full"), lean = summary_of(box, "lean");
    CHECK(lean["final_train_loss"].is_null());
    CHECK(lean["final_train_accuracy"].is_null());
    CHECK(full["final_train_loss"].is_number());
    for (const char *key : {"final_test_loss", "final_test_accuracy", "final_dev_loss", "final_dev_accuracy"}) {
        CAPTURE(key);
        CHECK(lean[key] == full[key]);  // the same run: only the training pass is skipped
    }
    const nlohmann::json &p = lean["provenance"];
    CHECK(p["model"]["name"] == "ckpt");
    CHECK(p["model"]["sha256"] == adalora::sha256_hex(test::read_text(box.work / "ckpt/model.safetensors")));
    CHECK(p["data"]["file"] == "yelp.json");
    CHECK(p["data"]["package"].is_null());  // --sentence-data: not a make-deps asset
    CHECK(p["data"]["sha256"] == adalora::sha256_hex(test::read_text(box.work / "data/test/fixtures/yelp.json")));
    CHECK(p["split"]["seed"] == 2015);
    CHECK(p["split"]["train"] == 32);
    CHECK(lean["model_dir"] == "ckpt");  // relative to the working directory, no machine's folders
}

TEST_CASE("sentence task: encoder-step writes the step's tensors and index") {
    test::Sandbox box;
    const std::string opts = sentence_options(box);
    test::Result r = box.run("encoder-step " + opts + " --dropout 0 --rows 3 --out step");
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    const nlohmann::json index = nlohmann::json::parse(test::read_text(box.work / "step/index.json"));
    CHECK(index["rows"] == 3);
    CHECK(index["modules"].size() == 6);
    for (const char *f : {"ids.npy", "mask.npy", "labels.npy", "hidden_0.npy", "hidden_1.npy", "logits.npy",
                          "0.query.P.npy", "grad.0.query.lambda.npy", "classifier.weight.npy", "grad.classifier.bias.npy"}) {
        CAPTURE(f);
        CHECK(std::filesystem::exists(box.work / "step" / f));
    }
    test::expect_usage_error(box, "encoder-step " + opts + " --out step2", "--dropout", "must be 0");
}

TEST_CASE("sentence task: what it does not offer, and bad sentence options, are refused in one line") {
    test::Sandbox box;
    const std::string opts = sentence_options(box);
    test::expect_usage_error(box, "train " + opts + " --init-from tr --out x", "--init-from", "sentence task");
    test::expect_usage_error(box, "train " + opts + " --save-every 4 --out x", "--save-every");
    test::expect_usage_error(box, "train " + opts + " --target-modules query,mlp --out x", "mlp", "output.dense");
    test::expect_usage_error(box, "train " + opts + " --max-seq 1 --out x", "--max-seq", "2..4096");
    test::expect_usage_error(box, "train " + opts + " --max-seq 4 --out x", "--max-seq = 4", "max_position_embeddings");
    test::expect_usage_error(box, "train " + opts + " --dropout 1 --out x", "--dropout");
    test::expect_usage_error(box, "train " + opts + " --model nowhere --out x", "nowhere");
    test::expect_usage_error(box, "train " + opts + " --sentence-data nowhere --out x", "nowhere");
}

TEST_CASE("sentence task: head-only trains the classification head alone and writes a complete run") {
    test::Sandbox box;
    const std::string opts = sentence_options(box);
    const Trained r = train_ok(box, opts + " --method head-only --log lines", "run");
    const nlohmann::json &s = r.summary;
    CHECK(s["method"] == "head-only");
    CHECK(s["kept_rank"] == nlohmann::json::object());
    CHECK(s["kept_rank_by_layer"] == nlohmann::json::object());
    CHECK(s["adapters"] == nlohmann::json::object());
    CHECK(s["target_budget"] == 0);
    // No adapter parameter: the head (2 x 4 weights, 2 biases) trains in every method and is not counted.
    CHECK(s["trainable_params_initial"] == 0);
    CHECK(s["trainable_params_final"] == 0);
    check_accuracies(s);
    CHECK(nlohmann::json::parse(test::read_text(box.work / "run/rank_pattern.json")) == nlohmann::json::object());
    CHECK(test::lines_of(test::read_text(box.work / "run/ranks.csv")) == std::vector<std::string>{"step,module,kept_rank"});
    const std::vector<std::string> metrics = test::lines_of(test::read_text(box.work / "run/metrics.csv"));
    REQUIRE(metrics.size() == 4);  // the header, steps 1, 10 (--log-every) and 12 (the last)
    CHECK(metrics[3].rfind("12,", 0) == 0);
    CHECK(metrics[3].find(",nan,0,0,nan,") != std::string::npos);  // no orth term, budget 0, kept 0, no threshold
    CHECK(test::lines_of(test::read_text(box.work / "run/dev.csv")).size() == 4);
    CHECK(r.err.find("no adapted matrix") != std::string::npos);
    // The head trained: a run of 12 steps ends elsewhere than one of 1 (which
    // --tinit 2 --tfinal 4 do not hold back: head-only has no schedule).
    CHECK(train_ok(box, opts + " --method head-only --total_step 1", "one").summary["final_train_loss"] !=
          s["final_train_loss"]);
    // No adapter to export.
    test::expect_usage_error(box, "export run --format peft --out peft", "no adapted matrix", "head-only");
}

TEST_CASE("sentence task: head-only is refused in one line where it has no meaning") {
    test::Sandbox box;
    const std::string opts = sentence_options(box);
    test::expect_usage_error(box, "train --task planted-linear --method head-only --out x", "--method head-only",
                             "needs a sentence task");
    test::expect_usage_error(box, "train " + opts + " --method head-only --target-modules query --out x",
                             "--target-modules = 'query'", "head-only");
    test::expect_usage_error(box, "train " + opts + " --method head-only --trace tr --out x", "--trace", "head-only");
    test::expect_usage_error(box, "train " + opts + " --method head-only --dump-init d --out x", "--dump-init",
                             "head-only");
}

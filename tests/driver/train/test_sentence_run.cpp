// test_sentence_run.cpp: the sentence tasks end to end through the driver
// binary, on a tiny checkpoint and a few hand-written sentences in a sandbox
// (no make deps needed): the run's files and summary, the fixed split, the
// kept-rank table, determinism, encoder-step's files, and the options the
// sentence tasks refuse.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

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
    // 4 x 6, plus the head every method trains (2 x 4 weights, 2 biases).
    CHECK(s["trainable_params_initial"] == (4 * (4 + 4 + 1) + 2 * (6 + 4 + 1)) * 2 + 2 * 4 + 2);
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
    test::expect_usage_error(box, "train " + opts + " --method svd-proj --out x", "svd-proj", "sentence task");
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
    // The tiny checkpoint's hidden size 4, two classes: head.weight 2 x 4 and head.bias 2.
    CHECK(s["trainable_params_initial"] == 2 * 4 + 2);
    CHECK(s["trainable_params_final"] == 2 * 4 + 2);
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

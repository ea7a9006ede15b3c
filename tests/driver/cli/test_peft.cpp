// test_peft.cpp: adapters in PEFT's AdaLoRA format (driver/peft_format.h) and
// base weights from safetensors: train -> export -> import gives back exactly
// the kept triplets (bit for bit, in this build's precision) and the same
// pattern; hostile PEFT directories and base-weight files through the real
// binary each exit 2 with one line naming the file and the problem.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/adapter_file.h"
#include "config/options.h"
#include "support/test_sandbox.h"
#include "formats/peft_format.h"
#include "train/run.h"
#include "tasks/tasks.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
using adalora::Tensor;

namespace {

// The tiny planted-linear run of the CLI tests (kTiny), seed 4.
adalora::RunConfig small_run(const std::string &method) {
    CLI::App app;
    adalora::RunConfig c;
    adalora::add_train_options(&app, c);
    app.parse(test::kTiny + " --seed 4 --out unused --method " + method, false);
    return c;
}

// Bytes of element i of a tensor (row-major).
std::string element(const Tensor &t, size_t i) {
    const size_t es = adalora::dtype_size(t.dtype);
    return t.bytes.substr(i * es, es);
}

void write_peft(const fs::path &dir, const adalora::PeftAdapter &p) {
    fs::create_directories(dir);
    std::ofstream(dir / adalora::kPeftWeightsName, std::ios::binary) << adalora::serialize_safetensors(p.weights);
    std::ofstream(dir / adalora::kPeftConfigName) << p.config.dump(2);
}

}  // namespace

TEST_CASE("peft: train -> export -> import returns exactly the kept triplets and the pattern") {
    const adalora::RunOutput out = adalora::train_run(small_run("adalora"), adalora::LogMode::quiet);
    const adalora::RunAdapter run = adalora::run_adapter_from(out.adapter, "run");
    const adalora::PeftAdapter peft = adalora::peft_from_run(run);
    CHECK(peft.config["peft_type"] == "ADALORA");
    CHECK(peft.config["init_r"] == 4);
    CHECK(peft.config["target_r"] == 2);
    CHECK(peft.config["total_step"] == 120);
    CHECK(peft.config["lora_alpha"] == 8.0);
    for (const Tensor &t : peft.weights.tensors) CHECK(t.dtype == adalora::real_dtype());

    test::TempDir dir;
    write_peft(dir.path / "peft", peft);
    const adalora::RunAdapter back = adalora::run_adapter_from(adalora::run_from_peft((dir.path / "peft").string()), "back");
    REQUIRE(back.modules == run.modules);
    REQUIRE(back.r0 == run.r0);
    size_t kept_total = 0, pruned_total = 0;
    for (const std::string &m : run.modules) {
        CAPTURE(m);
        const std::vector<int> kept = run.kept(m);
        REQUIRE(back.kept(m) == kept);
        std::vector<bool> flags(4, false);
        for (int i : kept) flags[(size_t)i] = true;
        CHECK(out.rank_pattern[m].get<std::vector<bool>>() == flags);
        CHECK(peft.config["rank_pattern"][m + ".lora_E"].get<std::vector<bool>>() == flags);
        const Tensor &P = run.tensor(m, "P"), &lam = run.tensor(m, "lambda"), &Q = run.tensor(m, "Q");
        const Tensor &P2 = back.tensor(m, "P"), &lam2 = back.tensor(m, "lambda"), &Q2 = back.tensor(m, "Q");
        REQUIRE(P2.shape == P.shape);
        REQUIRE(Q2.shape == Q.shape);
        const size_t d_out = (size_t)P.shape[0], d_in = (size_t)Q.shape[1];
        const std::string zero(adalora::dtype_size(P.dtype), '\0');
        for (size_t i = 0; i < 4; i++) {
            const bool keep = flags[i];
            kept_total += keep;
            pruned_total += !keep;
            CHECK(element(lam2, i) == (keep ? element(lam, i) : zero));
            for (size_t a = 0; a < d_out; a++) CHECK(element(P2, a * 4 + i) == (keep ? element(P, a * 4 + i) : zero));
            for (size_t b = 0; b < d_in; b++) CHECK(element(Q2, i * d_in + b) == (keep ? element(Q, i * d_in + b) : zero));
        }
    }
    CHECK(kept_total == 12);  // n · target_r
    CHECK(pruned_total == 12);

    // Exporting the imported adapter again gives the same files, byte for byte.
    const adalora::PeftAdapter again = adalora::peft_from_run(back);
    CHECK(adalora::serialize_safetensors(again.weights) == adalora::serialize_safetensors(peft.weights));
    CHECK(again.config.dump() == peft.config.dump());
}

TEST_CASE("peft: PEFT's ΔW = B (A ∘ E) α/(r0 + 1e-5) from the export is the run's s P diag(λ) Q up to that 1e-5") {
    const adalora::RunOutput out = adalora::train_run(small_run("adalora"), adalora::LogMode::quiet);
    const adalora::RunAdapter run = adalora::run_adapter_from(out.adapter, "run");
    const adalora::PeftAdapter peft = adalora::peft_from_run(run);
    const double s = std::stod(run.file.metadata.at("scale"));
    const double peft_scale = 8.0 / (4 + 1e-5);
    for (const std::string &m : run.modules) {
        CAPTURE(m);
        auto values = [&](const std::string &name) { return adalora::tensor_values(*peft.weights.find(name)); };
        const std::string key = "base_model.model." + m + ".";
        const std::vector<real> A = values(key + "lora_A"), B = values(key + "lora_B"), E = values(key + "lora_E");
        const std::vector<real> P = adalora::tensor_values(run.tensor(m, "P")), lam = adalora::tensor_values(run.tensor(m, "lambda")),
                                Q = adalora::tensor_values(run.tensor(m, "Q"));
        const std::vector<int> kept = run.kept(m);
        const size_t k = kept.size(), d_out = P.size() / 4, d_in = Q.size() / 4;
        for (size_t a = 0; a < d_out; a++)
            for (size_t b = 0; b < d_in; b++) {
                double ours = 0, theirs = 0;
                for (int i : kept) ours += (double)P[a * 4 + i] * lam[(size_t)i] * Q[(size_t)i * d_in + b];
                for (size_t j = 0; j < k; j++) theirs += (double)B[a * k + j] * A[j * d_in + b] * E[j];
                CHECK(theirs * peft_scale == doctest::Approx(ours * s).epsilon(1e-5));
            }
    }
}

TEST_CASE("peft: a LoRA-form run has no λ and is refused by export") {
    const adalora::RunOutput out = adalora::train_run(small_run("lora"), adalora::LogMode::quiet);
    const adalora::RunAdapter run = adalora::run_adapter_from(out.adapter, "run");
    CHECK(run.form == "lora");
    const std::string e = test::usage_error([&] { adalora::peft_from_run(run); });
    CHECK(e.find("LoRA-form") != std::string::npos);
}

TEST_CASE("peft cli: train, export, import --out and export again give the same files") {
    using namespace test;
    Sandbox box;
    REQUIRE(box.run("train " + kTiny + " --seed 2 --out run").code == 0);
    Result e = box.run("export run --format peft --out peft");
    CAPTURE(e.err);
    REQUIRE(e.code == 0);
    CHECK(e.out.find("12 of 24 triplets kept") != std::string::npos);
    Result i = box.run("import peft --out back");
    CAPTURE(i.err);
    REQUIRE(i.code == 0);
    CHECK(i.out.find("init_r 4, 6 modules") != std::string::npos);
    CHECK(nlohmann::json::parse(read_text(box.work / "back" / "rank_pattern.json")) ==
          nlohmann::json::parse(read_text(box.work / "run" / "rank_pattern.json")));
    REQUIRE(box.run("export back --out peft2").code == 0);
    for (const char *f : {adalora::kPeftWeightsName, adalora::kPeftConfigName}) {
        CAPTURE(f);
        CHECK(read_text(box.work / "peft" / f) == read_text(box.work / "peft2" / f));
    }
    Result print = box.run("import peft");  // without --out: the summary only
    CHECK(print.code == 0);
    CHECK(print.out == i.out.substr(0, i.out.find("wrote back")));
}

TEST_CASE("peft cli: hostile adapters, configs and base weights exit 2 with one line and write nothing") {
    using namespace test;
    Sandbox box;
    REQUIRE(box.run("train " + kTiny + " --seed 2 --out run").code == 0);
    REQUIRE(box.run("train " + kTiny + " --method lora --out lora").code == 0);
    REQUIRE(box.run("export run --out good").code == 0);
    const std::string weights = read_text(box.work / "good" / adalora::kPeftWeightsName);
    const nlohmann::ordered_json config =
        nlohmann::ordered_json::parse(read_text(box.work / "good" / adalora::kPeftConfigName));
    // A copy of the good adapter with its weights and/or config replaced.
    auto variant = [&](const std::string &name, const std::string &w, const nlohmann::ordered_json &c) {
        fs::create_directories(box.work / name);
        std::ofstream(box.work / name / adalora::kPeftWeightsName, std::ios::binary) << w;
        std::ofstream(box.work / name / adalora::kPeftConfigName) << c.dump();
    };
    adalora::Safetensors parsed = adalora::parse_safetensors(weights, "good");

    variant("truncated", weights.substr(0, weights.size() / 2), config);
    expect_usage_error(box, "import truncated --out x", "truncated/adapter_model.safetensors: truncated");
    variant("overlap",
            test::safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                    R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
            config);
    expect_usage_error(box, "import overlap --out x", "overlaps");
    variant("past-end", test::safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8), config);
    expect_usage_error(box, "import past-end", "runs past the end of the data");
    variant("dtype", test::safetensors_bytes(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", 8), config);
    expect_usage_error(box, "import dtype", "allowed: F32, F64");

    nlohmann::ordered_json flipped = config;  // l0.f2 keeps one more triplet than its tensors hold
    const auto &f2 = config["rank_pattern"]["l0.f2.lora_E"];
    const size_t pruned = (size_t)(std::find(f2.begin(), f2.end(), false) - f2.begin());
    REQUIRE(pruned < 4);
    flipped["rank_pattern"]["l0.f2.lora_E"][pruned] = true;
    variant("shapes", weights, flipped);
    expect_usage_error(box, "import shapes --out x", "its rank_pattern keeps");
    nlohmann::ordered_json fewer = config;
    fewer["rank_pattern"].erase("l0.v.lora_E");
    variant("extra", weights, fewer);
    expect_usage_error(box, "import extra", "extra tensors of module 'l0.v'");
    adalora::Safetensors missing = parsed;
    missing.tensors.erase(std::find_if(missing.tensors.begin(), missing.tensors.end(),
                                       [](const Tensor &t) { return t.name == "base_model.model.l0.q.lora_B"; }));
    variant("missing", adalora::serialize_safetensors(missing), config);
    expect_usage_error(box, "import missing", "'base_model.model.l0.q.lora_B' is missing");
    nlohmann::ordered_json lora = config;
    lora["peft_type"] = "LORA";
    variant("type", weights, lora);
    expect_usage_error(box, "import type", "allowed: \"ADALORA\"");
    nlohmann::ordered_json r3 = config;
    r3["init_r"] = 3;
    variant("init-r", weights, r3);
    expect_usage_error(box, "import init-r", "init_r = 3");
    // Every hyper-parameter the import reads goes through the command line's
    // rules (before: "8", -8, "x", -1 and 5 were accepted and re-exported).
    const std::vector<std::pair<std::pair<std::string, nlohmann::ordered_json>, std::string>> hyper = {
        {{"lora_alpha", "8"}, "key 'lora_alpha' = \"8\": expected a number"},
        {{"lora_alpha", -8}, "--lora_alpha = -8"},
        {{"tinit", "x"}, "key 'tinit' = \"x\": expected an integer"},
        {{"total_step", -1}, "--total_step = -1"},
        {{"beta1", 5}, "--beta1 = 5"},
    };
    for (size_t i = 0; i < hyper.size(); i++) {
        nlohmann::ordered_json c = config;
        c[hyper[i].first.first] = hyper[i].first.second;
        variant("hyper" + std::to_string(i), weights, c);
        expect_usage_error(box, "import hyper" + std::to_string(i) + " --out x", hyper[i].second);
    }
    // Tensors holding NaN or Inf.
    for (const double bad : {(double)NAN, (double)INFINITY}) {
        adalora::Safetensors poisoned = parsed;
        // The first tensor with data (a module that kept nothing has empty ones).
        Tensor &t = *std::find_if(poisoned.tensors.begin(), poisoned.tensors.end(),
                                  [](const Tensor &x) { return !x.bytes.empty(); });
        if (t.dtype == adalora::Dtype::F64) std::memcpy(&t.bytes[0], &bad, sizeof bad);
        else {
            const float narrow = (float)bad;
            std::memcpy(&t.bytes[0], &narrow, sizeof narrow);
        }
        const std::string name = std::isnan(bad) ? "nan" : "inf";
        variant(name, adalora::serialize_safetensors(poisoned), config);
        expect_usage_error(box, "import " + name + " --out x", "holds NaN or Inf");
    }
    fs::create_directories(box.work / "bad-json");
    std::ofstream(box.work / "bad-json" / adalora::kPeftConfigName) << "{\"peft_type\": ";
    expect_usage_error(box, "import bad-json", "adapter_config.json: not a JSON object");

    expect_usage_error(box, "export run --format onnx --out x", "--format = 'onnx': allowed values are peft");
    expect_usage_error(box, "export run --out good", "already exists");
    expect_usage_error(box, "export lora --out x", "LoRA-form");
    expect_usage_error(box, "export nowhere --out x", "nowhere/adapter.safetensors: cannot read the file");

    // --base-weights: a run's adapter.safetensors of the same task works
    // (checked in the next test case); other files are refused.
    std::ofstream(box.work / "cut.safetensors", std::ios::binary)
        << read_text(box.work / "run" / "adapter.safetensors").substr(0, 100);
    expect_usage_error(box, "train " + kTiny + " --base-weights cut.safetensors --out x", "cut.safetensors: ");
    expect_usage_error(box, "train " + kTiny + " --width 16 --base-weights run/adapter.safetensors --out x",
                       "'l0.q.W0' has shape [8, 8], expected [16, 16]");
    expect_usage_error(box, "train " + kTiny + " --task planted-mlp --base-weights run/adapter.safetensors --out x",
                       "the tensor 'l0.W0' is missing");
    expect_usage_error(box, "train " + kTiny + " --base-weights good/adapter_model.safetensors --out x",
                       "the tensor 'l0.q.W0' is missing");
}

TEST_CASE("base weights: a run's adapter.safetensors as --base-weights reproduces the run; another base changes it") {
    using namespace test;
    Sandbox box;
    const std::string mlp = "train " + kTiny + " --task planted-mlp --layers 2";
    REQUIRE(box.run(mlp + " --seed 1 --out a").code == 0);
    REQUIRE(box.run(mlp + " --seed 1 --base-weights a/adapter.safetensors --out b").code == 0);
    REQUIRE(box.run(mlp + " --seed 9 --out other").code == 0);
    REQUIRE(box.run(mlp + " --seed 1 --base-weights other/adapter.safetensors --out c").code == 0);
    auto summary = [&](const char *dir) { return nlohmann::json::parse(read_text(box.work / dir / "summary.json")); };
    CHECK(summary("a")["final_test_loss"] == summary("b")["final_test_loss"]);
    CHECK(summary("a")["kept_rank"] == summary("b")["kept_rank"]);
    CHECK(summary("b")["config"]["base_weights"] == "a/adapter.safetensors");
    CHECK(summary("a")["final_test_loss"] != summary("c")["final_test_loss"]);
    // The loaded base is the one the run keeps: c's W0 and bias are other's.
    const adalora::Safetensors other = adalora::read_safetensors((box.work / "other" / "adapter.safetensors").string());
    const adalora::Safetensors c = adalora::read_safetensors((box.work / "c" / "adapter.safetensors").string());
    for (const char *name : {"l0.W0", "l0.bias", "l1.W0", "l1.bias"}) {
        CAPTURE(name);
        REQUIRE(c.find(name) != nullptr);
        CHECK(c.find(name)->bytes == other.find(name)->bytes);
    }
}

TEST_CASE("base weights: a W0 or bias of a module the task lacks, a bias where there is none, NaN: refused") {
    adalora::Task task = adalora::make_task(small_run("adalora"));
    const adalora::RunOutput out = adalora::train_run(small_run("adalora"), adalora::LogMode::quiet);
    test::TempDir dir;
    auto refusal = [&](adalora::Safetensors file) {
        const std::string path = (dir.path / "base.safetensors").string();
        std::ofstream(path, std::ios::binary) << adalora::serialize_safetensors(file);
        return test::usage_error([&] { adalora::load_base_weights(path, task); });
    };
    CHECK(refusal(out.adapter).empty());
    adalora::Safetensors extra = out.adapter;
    extra.tensors.push_back(*out.adapter.find("l0.q.W0"));
    extra.tensors.back().name = "l9.q.W0";
    CHECK(refusal(extra).find("'l9.q.W0' names no module of the task planted-linear") != std::string::npos);
    adalora::Safetensors bias = out.adapter;
    const std::vector<real> zeros(8, 0);
    bias.tensors.push_back(adalora::make_tensor("l0.q.bias", {8}, zeros.data()));
    CHECK(refusal(bias).find("module 'l0.q' has no bias") != std::string::npos);
    adalora::Safetensors nan = out.adapter;
    for (Tensor &t : nan.tensors)
        if (t.name == "l0.k.W0") {
            const real x = NAN;
            std::memcpy(&t.bytes[4 * sizeof(real)], &x, sizeof x);
        }
    CHECK(refusal(nan).find("'l0.k' holds NaN or Inf") != std::string::npos);
    adalora::Safetensors dropped = out.adapter;
    adalora::drop_base_tensors(dropped);
    CHECK(dropped.find("l0.q.W0") == nullptr);
    CHECK(dropped.find("l0.q.P") != nullptr);
    CHECK(refusal(dropped).find("the tensor 'l0.q.W0' is missing") != std::string::npos);
}

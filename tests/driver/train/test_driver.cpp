// test_driver.cpp: the driver's C++ API (driver/): every method trains on tiny
// tasks, svd-proj's budget, parameter accounting, the Eckart–Young oracle and
// the expected loss against values worked out by hand, config files (TOML and
// JSON) and validate().
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "train/methods.h"
#include "config/options.h"
#include "train/run.h"
#include "tasks/tasks.h"

#include "support/test_files.h"
#include "support/test_sandbox.h"

namespace fs = std::filesystem;
using test::TempDir;
using test::usage_error;
using test::tiny;

namespace {

double sum_sigma_squared(const adalora::Task &task) {
    double total = 0;
    for (const auto &module : task.planted_sigma)
        for (double s : module) total += s * s;
    return total;
}

using ModelPtr = std::unique_ptr<ada_model, void (*)(ada_model *)>;

// The untrained student train_run would start from.
ModelPtr fresh_model(const adalora::RunConfig &cfg, adalora::Task &task) {
    adalora::MethodSetup setup = adalora::setup_method(cfg, task);
    ada_model *m = nullptr;
    REQUIRE(ada_model_create(&m, &setup.model) == ADA_OK);
    return ModelPtr(m, ada_model_free);
}

long kept_sum(const nlohmann::json &summary) {
    long total = 0;
    for (auto &kv : summary["kept_rank"].items()) total += kv.value().get<long>();
    return total;
}



// Parses `train` + the config file's tokens + `flags`, as main.cpp does
// (file tokens first, so flags override them).
adalora::RunConfig parse_with_config(const std::string &config_path, std::vector<std::string> flags = {}) {
    CLI::App app{"test"};
    adalora::RunConfig cfg;
    CLI::App *train = app.add_subcommand("train");
    adalora::add_train_options(train, cfg);
    std::vector<std::string> args{"train"};
    for (auto &t : adalora::config_file_tokens(config_path, train)) args.push_back(t);
    args.insert(args.end(), flags.begin(), flags.end());
    std::reverse(args.begin(), args.end());
    app.parse(args);
    return cfg;
}

}  // namespace

TEST_CASE("driver: every method lowers the expected loss on a tiny planted-linear task") {
    adalora::RunConfig base = tiny("adalora");
    adalora::Task task = adalora::make_task(base);
    // Zero adapters (λ = 0 in the SVD form, B = 0 in the LoRA form) leave
    // ΔW = 0, so the untrained expected loss is Σ_k ||Δ*_k||²_F = Σ σ².
    const double initial = sum_sigma_squared(task);
    REQUIRE(initial > 0.5);
    for (const std::string method : {"adalora", "lora", "lora-orth", "svd-lora", "prune-lora", "svd-proj"}) {
        CAPTURE(method);
        adalora::RunOutput out = adalora::train_run(tiny(method), adalora::LogMode::quiet);
        const auto &s = out.summary;
        REQUIRE(s.contains("expected_test_loss"));
        const double final_loss = s["expected_test_loss"].get<double>();
        CHECK(std::isfinite(final_loss));
        CHECK(final_loss < 0.5 * initial);
        // The oracle is a lower bound of every method at the same budget.
        CHECK(final_loss >= s["oracle_test_loss"].get<double>() - 1e-6);
        CHECK(s["final_test_loss"].get<double>() < initial);
    }
}

TEST_CASE("driver: adalora and lora lower the test loss on a tiny planted-mlp task") {
    for (const std::string method : {"adalora", "lora"}) {
        CAPTURE(method);
        adalora::RunConfig cfg = tiny(method, "planted-mlp");
        cfg.lr = 1e-2;
        adalora::Task task = adalora::make_task(cfg);
        CHECK_FALSE(task.has_oracle());
        ModelPtr m = fresh_model(cfg, task);
        const double initial = adalora::split_loss(m.get(), task.test);
        REQUIRE(initial > 0);
        adalora::RunOutput out = adalora::train_run(cfg, adalora::LogMode::quiet);
        const double final_loss = out.summary["final_test_loss"].get<double>();
        CHECK(std::isfinite(final_loss));
        CHECK(final_loss < 0.7 * initial);
        CHECK(out.summary["oracle_test_loss"].is_null());
    }
}

TEST_CASE("driver: svd-proj, adalora and prune-lora end at exactly the target budget") {
    const int d = 8, n = 6;
    for (const std::string method : {"svd-proj", "adalora", "prune-lora"}) {
        CAPTURE(method);
        adalora::RunConfig cfg = tiny(method);
        adalora::RunOutput out = adalora::train_run(cfg, adalora::LogMode::quiet);
        const auto &s = out.summary;
        CHECK(s["target_budget"].get<long>() == (long)n * cfg.target_r);
        CHECK(kept_sum(s) == (long)n * cfg.target_r);
        // rank_pattern agrees with kept_rank, r0 flags per module.
        for (auto &kv : s["kept_rank"].items()) {
            const auto &flags = out.rank_pattern.at(kv.key());
            REQUIRE(flags.size() == (size_t)cfg.init_r);
            CHECK(std::count(flags.begin(), flags.end(), true) == kv.value().get<long>());
        }
        // Kept-only parameter count: d1 + d2 per kept component (+1 for λ in the SVD form).
        std::map<std::string, int> cost = {{"l0.q", 2 * d}, {"l0.k", 2 * d}, {"l0.v", 2 * d},
                                           {"l0.o", 2 * d}, {"l0.f1", 5 * d}, {"l0.f2", 5 * d}};
        const int extra = method == "adalora" ? 1 : 0;
        size_t params = 0;
        for (auto &kv : s["kept_rank"].items()) params += (size_t)(cost.at(kv.key()) + extra) * kv.value().get<int>();
        CHECK(s["trainable_params_final"].get<size_t>() == params);
    }
}

TEST_CASE("driver: parameter accounting is consistent across methods") {
    const int d = 8, n = 6, init_r = 4;
    const size_t sum_d = 4 * (2 * d) + 2 * (5 * d);  // Σ_k (d1_k + d2_k): q, k, v, o, f1, f2
    auto params = [](adalora::RunConfig cfg, const char *key) {
        return adalora::train_run(cfg, adalora::LogMode::quiet).summary[key].get<size_t>();
    };
    adalora::RunConfig lora = tiny("lora");
    lora.total_step = 200;
    lora.tinit = 20;
    lora.tfinal = 20;
    const int lora_r = lora.target_r;  // lora_r = 0: the target average rank
    adalora::RunConfig lora_orth = lora, svd_lora = lora, ada = lora;
    lora_orth.method = "lora-orth";
    svd_lora.method = "svd-lora";
    ada.method = "adalora";

    const size_t p_lora = params(lora, "trainable_params_final");
    CHECK(p_lora == sum_d * lora_r);
    CHECK(params(lora, "trainable_params_initial") == p_lora);
    CHECK(params(lora_orth, "trainable_params_final") == p_lora);
    CHECK(params(svd_lora, "trainable_params_final") == p_lora + (size_t)n * lora_r);

    // trainable_params_initial of adalora: Σ_k (d1_k + d2_k + 1) · init_r.
    CHECK(params(ada, "trainable_params_initial") == (sum_d + n) * init_r);
    CHECK(params(ada, "trainable_params_final") < (sum_d + n) * init_r);

    // adalora --no-prune is SVD-LoRA at init_r.
    adalora::RunConfig no_prune = ada, svd_lora_r0 = svd_lora;
    no_prune.no_prune = true;
    svd_lora_r0.lora_r = init_r;
    const size_t p_no_prune = params(no_prune, "trainable_params_final");
    CHECK(p_no_prune == params(svd_lora_r0, "trainable_params_final"));
    CHECK(p_no_prune == (sum_d + n) * init_r);
}

TEST_CASE("driver: the Eckart-Young oracle matches allocations worked out by hand") {
    adalora::Task task;
    task.planted_sigma = {{3, 1}, {2}, {}};  // Σ σ² = 9 + 1 + 4 = 14
    struct Case { long budget; int r0; double loss; std::vector<int> rank; };
    const Case cases[] = {
        {0, 8, 14, {0, 0, 0}},  // nothing kept
        {1, 8, 5, {1, 0, 0}},   // keeps 3
        {2, 8, 1, {1, 1, 0}},   // keeps 3, 2
        {3, 8, 0, {2, 1, 0}},   // keeps 3, 2, 1
        {4, 8, 0, {2, 1, 0}},   // more budget than σ's
        {0, 1, 14, {0, 0, 0}},
        {1, 1, 5, {1, 0, 0}},
        {2, 1, 1, {1, 1, 0}},
        {3, 1, 1, {1, 1, 0}},   // r0 = 1 caps module 0 at one component: σ = 1 stays out
        {4, 1, 1, {1, 1, 0}},
        {3, 2, 0, {2, 1, 0}},
    };
    for (const Case &c : cases) {
        CAPTURE(c.budget);
        CAPTURE(c.r0);
        adalora::Oracle o = adalora::oracle_allocation(task, c.budget, c.r0);
        CHECK(o.loss == doctest::Approx(c.loss).epsilon(1e-12));
        CHECK(o.rank == c.rank);
    }

    // The same through make_task: planted ranks 2,1,0,0,0,0 with the σ's overwritten.
    adalora::RunConfig cfg = tiny("adalora");
    cfg.task_opt.planted_ranks = "2,1,0,0,0,0";
    adalora::Task made = adalora::make_task(cfg);
    REQUIRE(made.planted_sigma.size() == 6);
    CHECK(made.planted_rank == std::vector<int>{2, 1, 0, 0, 0, 0});
    CHECK(made.planted_sigma[0].size() == 2);
    CHECK(made.planted_sigma[1].size() == 1);
    made.planted_sigma[0] = {3, 1};
    made.planted_sigma[1] = {2};
    adalora::Oracle o = adalora::oracle_allocation(made, 2, 4);
    CHECK(o.loss == doctest::Approx(1.0));
    CHECK(o.rank == std::vector<int>{1, 1, 0, 0, 0, 0});
}

TEST_CASE("driver: the expected loss of an untrained student is the sum of the planted sigma^2") {
    const double tol = sizeof(real) == sizeof(float) ? 1e-5 : 1e-10;
    for (const std::string method : {"adalora", "lora", "svd-proj"}) {
        CAPTURE(method);
        adalora::RunConfig cfg = tiny(method);
        cfg.task_opt.test_rows = 4096;
        adalora::Task task = adalora::make_task(cfg);
        const double total = sum_sigma_squared(task);
        ModelPtr m = fresh_model(cfg, task);
        CHECK(adalora::expected_loss(task, m.get()) == doctest::Approx(total).epsilon(tol));
        // White inputs: the test loss (noise-free targets) estimates the same value.
        CHECK(adalora::split_loss(m.get(), task.test) == doctest::Approx(total).epsilon(0.1));
    }
    // The σ's are the planted update's exact spectrum: ||Δ*_k||²_F = Σ_j σ_kj².
    adalora::Task task = adalora::make_task(tiny("lora"));
    for (size_t k = 0; k < task.planted_sigma.size(); k++) {
        double frob = 0, sig = 0;
        for (real v : task.planted_delta[k]) frob += (double)v * v;
        for (double s : task.planted_sigma[k]) sig += s * s;
        CHECK(frob == doctest::Approx(sig).epsilon(tol));
    }
}

TEST_CASE("driver: TOML and JSON config files give the same RunConfig; flags override them") {
    TempDir dir;
    const std::string toml_path = dir.write("run.toml",
        "# every kind of value\n"
        "task = \"planted-mlp\"\nmethod = \"lora-orth\"\nseed = 42\ninit_r = 6\ntarget_r = 3\n"
        "target-budget = 5\ntinit = 20\ntfinal = 30\ndeltaT = 5\ntotal_step = 400\nbeta1 = 0.7\n"
        "beta2 = 0.9\north_reg_weight = 0.25\nlora_alpha = 16.0\nlora_r = 2\nlr = 0.002\n"
        "weight_decay = 0.01\nclip = 1.5\nbatch = 8\nimportance = \"sens\"\nno_prune = true\n"
        "svd = \"full\"\nlog-every = 7\nwidth = 12\nlayers = 2\nplanted-ranks = [1, 2]\n"
        "noise = 0.05\ntrain-rows = 200\ntest_rows = 300\nout = \"somewhere\"\n");
    const std::string json_path = dir.write("run.json",
        "{\"task\": \"planted-mlp\", \"method\": \"lora-orth\", \"seed\": 42, \"init_r\": 6, \"target_r\": 3,"
        " \"target-budget\": 5, \"tinit\": 20, \"tfinal\": 30, \"deltaT\": 5, \"total_step\": 400,"
        " \"beta1\": 0.7, \"beta2\": 0.9, \"orth_reg_weight\": 0.25, \"lora_alpha\": 16.0, \"lora_r\": 2,"
        " \"lr\": 0.002, \"weight_decay\": 0.01, \"clip\": 1.5, \"batch\": 8, \"importance\": \"sens\","
        " \"no_prune\": true, \"svd\": \"full\", \"log-every\": 7, \"width\": 12, \"layers\": 2,"
        " \"planted-ranks\": [1, 2], \"noise\": 0.05, \"train-rows\": 200, \"test_rows\": 300,"
        " \"out\": \"somewhere\"}\n");

    const adalora::RunConfig a = parse_with_config(toml_path), b = parse_with_config(json_path);
    CHECK(adalora::config_json(a) == adalora::config_json(b));
    CHECK(a.out == b.out);
    // ... and it is the file's values, not the defaults.
    CHECK(a.task == "planted-mlp");
    CHECK(a.method == "lora-orth");
    CHECK(a.seed == 42);
    CHECK(a.init_r == 6);
    CHECK(a.target_r == 3);
    CHECK(a.target_budget == 5);
    CHECK(a.tinit == 20);
    CHECK(a.tfinal == 30);
    CHECK(a.deltaT == 5);
    CHECK(a.total_step == 400);
    CHECK(a.beta1 == 0.7);
    CHECK(a.beta2 == 0.9);
    CHECK(a.orth_reg_weight == 0.25);
    CHECK(a.lora_alpha == 16.0);
    CHECK(a.lora_r == 2);
    CHECK(a.lr == 0.002);
    CHECK(a.weight_decay == 0.01);
    CHECK(a.clip == 1.5);
    CHECK(a.batch == 8);
    CHECK(a.importance == "sens");
    CHECK(a.no_prune);
    CHECK(a.svd == "full");
    CHECK(a.log_every == 7);
    CHECK(a.task_opt.width == 12);
    CHECK(a.task_opt.layers == 2);
    CHECK(a.task_opt.planted_ranks == "1,2");
    CHECK(a.task_opt.noise == 0.05);
    CHECK(a.task_opt.train_rows == 200);
    CHECK(a.task_opt.test_rows == 300);
    CHECK(a.out == "somewhere");
    CHECK_NOTHROW(adalora::validate(a));

    // Flags after the file win, in either spelling; the other keys stay.
    for (const std::string &path : {toml_path, json_path}) {
        CAPTURE(path);
        adalora::RunConfig c = parse_with_config(path, {"--lr", "0.03", "--seed=7", "--total-step", "500",
                                                        "--method", "adalora", "--no-prune=false"});
        CHECK(c.lr == 0.03);
        CHECK(c.seed == 7);
        CHECK(c.total_step == 500);
        CHECK(c.method == "adalora");
        CHECK_FALSE(c.no_prune);
        CHECK(c.init_r == 6);
        CHECK(c.task_opt.planted_ranks == "1,2");
    }
}

TEST_CASE("driver: config files refuse unknown keys, bad files and bad types, naming them") {
    TempDir dir;
    CLI::App app{"test"};
    adalora::RunConfig cfg;
    CLI::App *train = app.add_subcommand("train");
    adalora::add_train_options(train, cfg);
    auto message = [&](const std::string &path) {
        return usage_error([&] { adalora::config_file_tokens(path, train); });
    };

    CHECK(message(dir.write("unknown.toml", "lr = 0.1\nbogus_key = 3\n")).find("'bogus_key'") != std::string::npos);
    CHECK(message(dir.write("unknown.json", "{\"lr\": 0.1, \"bogus_key\": 3}")).find("'bogus_key'") != std::string::npos);
    // --config is an option but not a key (a file cannot include another),
    // and neither is --help.
    CHECK(message(dir.write("nested.toml", "config = \"other.toml\"\n")).find("'config'") != std::string::npos);
    CHECK(message(dir.write("help.toml", "help = true\n")).find("'help'") != std::string::npos);
    CHECK(message(dir.write("help.json", "{\"help\": true}")).find("'help'") != std::string::npos);
    // Keys are flat.
    CHECK(message(dir.write("table.toml", "[train]\nlr = 0.1\n")).find("'train'") != std::string::npos);
    CHECK(message(dir.write("object.json", "{\"train\": {\"lr\": 0.1}}")).find("'train'") != std::string::npos);
    CHECK(message(dir.write("list.json", "[1, 2]")).find("list.json") != std::string::npos);
    CHECK(message(dir.write("null.json", "{\"lr\": null}")).find("'lr'") != std::string::npos);
    // Files that cannot be read or parsed name the file.
    CHECK(message((dir.path / "absent.toml").string()).find("absent.toml") != std::string::npos);
    fs::create_directory(dir.path / "folder.json");
    fs::create_directory(dir.path / "folder.toml");
    CHECK(message((dir.path / "folder.json").string()).find("folder.json") != std::string::npos);
    CHECK(message((dir.path / "folder.toml").string()).find("folder.toml") != std::string::npos);
    CHECK(message(dir.write("broken.toml", "lr = = 1\n")).find("broken.toml") != std::string::npos);
    CHECK(message(dir.write("broken.json", "{\"lr\": }")).find("broken.json") != std::string::npos);
    CHECK(message(dir.write("run.yaml", "lr: 0.1\n")).find("run.yaml") != std::string::npos);
    // A good file gives one "--key=value" token per key.
    auto tokens = adalora::config_file_tokens(dir.write("ok.toml", "lr = 0.5\nplanted-ranks = [1, 0]\n"), train);
    CHECK(tokens == std::vector<std::string>{"--lr=0.5", "--planted-ranks=1,0"});
}

TEST_CASE("driver: config texts that once crashed the config fuzz target are UsageErrors") {
    // tests/fuzz/regressions/config/: inputs of tests/fuzz/fuzz_config.cpp
    // (first byte: even TOML, odd JSON; then the file's text).
    CLI::App app{"test"};
    adalora::RunConfig cfg;
    CLI::App *train = app.add_subcommand("train");
    adalora::add_train_options(train, cfg);
    const fs::path dir = test::repo_file("tests/fuzz/regressions/config");
    int replayed = 0;
    for (const auto &entry : fs::directory_iterator(dir)) {
        const std::string bytes = test::read_text(entry.path());
        CAPTURE(entry.path().filename().string());
        REQUIRE(!bytes.empty());
        const std::string name = bytes[0] % 2 ? "fuzz.json" : "fuzz.toml";
        const std::string msg = usage_error([&] { adalora::config_text_tokens(bytes.substr(1), name, train); });
        CHECK(msg.find("config " + name + ": ") == 0);
        CHECK(msg.find('\n') == std::string::npos);
        replayed++;
    }
    CHECK(replayed >= 6);
    // The first one found: toml++ 3.3.0 asserted (and aborted) on a date
    // followed by 'T' and no time.
    CHECK(usage_error([&] { adalora::config_text_tokens("seed = 1979-05-27T:07\n", "x.toml", train); }) ==
          "config x.toml: TOML error: malformed text the parser cannot read (its check 'is_decimal_digit(*cp)' failed)");
    // The second: nlohmann's out_of_range for a number beyond a double
    // escaped the catch of parse errors and ended the program.
    CHECK(usage_error([&] { adalora::config_text_tokens("{\"lr\": 2e308}", "x.json", train); }) ==
          "config x.json: JSON error: number overflow parsing '2e308'");
    // The third: toml++ reached __builtin_unreachable() on some non-ASCII
    // characters after a key; TOML files are ASCII (strings take \\uXXXX).
    CHECK(usage_error([&] { adalora::config_text_tokens("eta\xce\x8c = 1\n", "x.toml", train); }) ==
          "config x.toml: TOML error at line 1: a non-ASCII byte (allowed: ASCII; write other characters in strings as "
          "\\uXXXX)");
    CHECK(adalora::config_text_tokens("out = \"r\\u00e9sum\\u00e9\"\n", "x.toml", train) ==
          std::vector<std::string>{"--out=r\xc3\xa9sum\xc3\xa9"});
}

TEST_CASE("driver: validate() refuses each inconsistent option, naming it") {
    const adalora::RunConfig good = tiny("adalora");
    REQUIRE_NOTHROW(adalora::validate(good));
    auto refused = [&](const char *option, const std::function<void(adalora::RunConfig &)> &change) {
        adalora::RunConfig c = good;
        change(c);
        std::string msg = usage_error([&] { adalora::validate(c); });
        CAPTURE(option);
        CAPTURE(msg);
        CHECK(msg.find(option) != std::string::npos);
    };
    refused("--target_r", [](auto &c) { c.init_r = 8; c.target_r = 9; });
    refused("--init_r", [](auto &c) { c.init_r = 0; });
    refused("--deltaT", [](auto &c) { c.deltaT = 0; });
    refused("--deltaT", [](auto &c) { c.deltaT = -3; });
    refused("--tinit", [](auto &c) { c.tinit = 200; c.tfinal = 100; c.total_step = 300; });  // = T
    refused("--total_step", [](auto &c) { c.tinit = 300; c.tfinal = 300; c.total_step = 500; });
    refused("--tinit", [](auto &c) { c.tinit = -1; });
    refused("--tfinal", [](auto &c) { c.tfinal = -1; });
    refused("--beta1", [](auto &c) { c.beta1 = 1.5; });
    refused("--beta1", [](auto &c) { c.beta1 = 1.0; });
    refused("--beta1", [](auto &c) { c.beta1 = 0.0; });
    refused("--beta1", [](auto &c) { c.beta1 = NAN; });
    refused("--beta2", [](auto &c) { c.beta2 = -0.1; });
    refused("--beta2", [](auto &c) { c.beta2 = 1.0; });
    refused("--orth_reg_weight", [](auto &c) { c.orth_reg_weight = -0.1; });
    refused("--orth_reg_weight", [](auto &c) { c.orth_reg_weight = INFINITY; });
    refused("--method", [](auto &c) { c.method = "lora2"; });
    refused("--task", [](auto &c) { c.task = "planted-cnn"; });
    refused("--importance", [](auto &c) { c.importance = "fisher"; });
    refused("--svd", [](auto &c) { c.svd = "randomized"; });
    refused("--out", [](auto &c) { c.out.clear(); });
    refused("--lr", [](auto &c) { c.lr = 0; });
    refused("--batch", [](auto &c) { c.batch = 0; });

    // The edges that are allowed.
    adalora::RunConfig edge = good;
    edge.tinit = 200;
    edge.tfinal = 99;  // tinit + tfinal = T - 1
    edge.target_r = edge.init_r;
    edge.deltaT = 1;
    edge.orth_reg_weight = 0;
    CHECK_NOTHROW(adalora::validate(edge));
}

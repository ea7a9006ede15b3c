// test_cli.cpp: the real `adalora` binary (the one beside this test binary),
// run in fresh temporary directories: schedule's output against Eq. 14 by
// hand, train's run files and config files. Every class of bad input is the
// table of test_bad_input_driver.cpp.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_sandbox.h"

namespace fs = std::filesystem;

namespace {

using test::driver_binary;
using test::expect_usage_error;
using test::lines_of;
using test::read_text;
using test::Result;
using test::Sandbox;

using test::kTiny;

// The schedule's data lines: "t b(t)", two integers and one space.
std::vector<std::pair<long, long>> schedule_rows(const std::string &out) {
    std::vector<std::pair<long, long>> rows;
    const std::regex row("(0|[1-9][0-9]*) (0|[1-9][0-9]*)");
    bool in_header = true;
    int comments = 0;
    for (const std::string &line : lines_of(out)) {
        if (in_header && !line.empty() && line[0] == '#') {
            comments++;
            continue;
        }
        in_header = false;
        std::smatch m;
        CAPTURE(line);
        REQUIRE(std::regex_match(line, m, row));
        rows.emplace_back(std::stol(m[1]), std::stol(m[2]));
    }
    CHECK(comments >= 1);
    return rows;
}

}  // namespace

TEST_CASE("cli: the driver binary sits beside the test binary") {
    CHECK(fs::is_regular_file(driver_binary()));
    CHECK(access(driver_binary().c_str(), X_OK) == 0);
}

TEST_CASE("cli: schedule prints b(t) of Eq. 14, one line per step, in both conventions") {
    Sandbox box;
    const std::string args = "schedule --init-bgt 120 --target-bgt 48 --tinit 10 --tfinal 20 --total-step 100";
    // Eq. 14 by hand: b0 = 120, bT = 48, t_i = 10, t_f = 20, T = 100, so the
    // cubic phase spans 70 steps: b = 48 + 72 (1 - (t - 10)/70)^3.
    auto cubic = [](long t) { return 48.0 + 72.0 * std::pow(1.0 - (t - 10) / 70.0, 3); };

    Result paper = box.run(args);
    REQUIRE(paper.code == 0);
    CHECK(paper.err.empty());
    auto rows = schedule_rows(paper.out);
    REQUIRE(rows.size() == 100);
    for (long i = 0; i < 100; i++) {
        const long t = i + 1;  // paper: t = 1..T
        CHECK(rows[i].first == t);
        // warm-up t < t_i, round to nearest, b(T) from T - t_f on
        const long want = t < 10 ? 120 : t < 80 ? std::lround(cubic(t)) : 48;
        CAPTURE(t);
        CHECK(rows[i].second == want);
    }
    auto at = [&](long t) { return rows[t - rows[0].first].second; };
    CHECK(at(1) == 120);
    CHECK(at(9) == 120);
    CHECK(at(10) == 120);
    CHECK(at(11) == 117);  // 48 + 72 (69/70)^3 = 116.96
    CHECK(at(45) == 57);   // 48 + 72 / 8, exactly
    CHECK(at(50) == 54);   // 48 + 72 (3/7)^3 = 53.67
    CHECK(at(79) == 48);
    CHECK(at(80) == 48);
    CHECK(at(100) == 48);

    Result peft = box.run(args + " --convention peft");
    REQUIRE(peft.code == 0);
    rows = schedule_rows(peft.out);
    REQUIRE(rows.size() == 100);
    for (long i = 0; i < 100; i++) {
        const long t = i;  // peft: global_step = 0..T-1
        CHECK(rows[i].first == t);
        // warm-up step <= tinit, floor, b(T) from step T - t_f on
        const long want = t <= 10 ? 120 : t < 80 ? (long)std::floor(cubic(t)) : 48;
        CAPTURE(t);
        CHECK(rows[i].second == want);
    }
    CHECK(at(0) == 120);
    CHECK(at(10) == 120);
    CHECK(at(11) == 116);
    CHECK(at(45) == 57);
    CHECK(at(50) == 53);
    CHECK(at(80) == 48);
    CHECK(at(99) == 48);

    expect_usage_error(box, args + " --convention torch", "--convention");
    expect_usage_error(box, "schedule --init-bgt 120 --target-bgt 130 --tinit 10 --tfinal 20 --total-step 100",
                       "--target-bgt");
    expect_usage_error(box, "schedule --init-bgt 120 --target-bgt 48 --tinit 50 --tfinal 50 --total-step 100",
                       "--total-step");
}

TEST_CASE("cli: train writes metrics.csv, ranks.csv, rank_pattern.json, summary.json and adapter.safetensors") {
    Sandbox box;
    Result r = box.run("train " + kTiny + " --seed 3 --out run");
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("wrote run") != std::string::npos);
    CHECK(box.entries() == std::set<std::string>{"run"});
    const fs::path dir = box.work / "run";
    std::set<std::string> files;
    for (auto &e : fs::directory_iterator(dir)) files.insert(e.path().filename().string());
    CHECK(files == std::set<std::string>{"metrics.csv", "ranks.csv", "rank_pattern.json", "summary.json",
                                        "adapter.safetensors"});

    // metrics.csv: the header, step 1, every 20 steps, 14 columns.
    auto metrics = lines_of(read_text(dir / "metrics.csv"));
    REQUIRE(metrics.size() == 1 + 1 + 6);
    CHECK(metrics[0] == "step,loss,task_loss,orth,budget,kept,threshold,lr,seconds,orth_P,orth_Q,revived,pruned,mask_jump");
    for (size_t i = 1; i < metrics.size(); i++) {
        CAPTURE(metrics[i]);
        CHECK(std::count(metrics[i].begin(), metrics[i].end(), ',') == 13);
    }
    CHECK(metrics[1].rfind("1,", 0) == 0);
    CHECK(metrics.back().rfind("120,", 0) == 0);

    // summary.json
    nlohmann::json s = nlohmann::json::parse(read_text(dir / "summary.json"));
    for (const char *key : {"method", "task", "seed", "config", "final_train_loss", "final_test_loss",
                            "oracle_test_loss", "kept_rank", "planted_rank", "oracle_rank",
                            "trainable_params_initial", "trainable_params_final", "ms_per_step", "time_ms"}) {
        CAPTURE(key);
        CHECK(s.contains(key));
    }
    for (const char *phase : {"forward", "backward", "optimizer", "importance", "allocation", "svd"}) {
        CAPTURE(phase);
        REQUIRE(s["time_ms"].contains(phase));
        CHECK(s["time_ms"][phase].get<double>() >= 0);
    }
    CHECK(s["method"] == "adalora");
    CHECK(s["task"] == "planted-linear");
    CHECK(s["seed"] == 3);
    CHECK(s["config"]["total_step"] == 120);
    CHECK(s["config"]["width"] == 8);
    CHECK(s["trainable_params_initial"] == (4 * 16 + 2 * 40 + 6) * 4);  // Σ (d1 + d2 + 1) · init_r
    CHECK(s["kept_rank"].size() == 6);
    long kept = 0;
    for (auto &kv : s["kept_rank"].items()) kept += kv.value().get<long>();
    CHECK(kept == 12);  // n · target_r

    // rank_pattern.json: init_r booleans per module, as many true as kept.
    nlohmann::json pattern = nlohmann::json::parse(read_text(dir / "rank_pattern.json"));
    REQUIRE(pattern.size() == 6);
    for (auto &kv : s["kept_rank"].items()) {
        CAPTURE(kv.key());
        REQUIRE(pattern.contains(kv.key()));
        const auto &flags = pattern[kv.key()];
        REQUIRE(flags.size() == 4);
        CHECK(std::count(flags.begin(), flags.end(), true) == kv.value().get<long>());
    }

    // ranks.csv: long form, step 0 at init_r, the last rows the final ranks.
    auto ranks = lines_of(read_text(dir / "ranks.csv"));
    REQUIRE(ranks.size() >= 1 + 6);
    CHECK(ranks[0] == "step,module,kept_rank");
    for (size_t i = 1; i <= 6; i++) {
        CAPTURE(ranks[i]);
        CHECK(ranks[i].rfind("0,l0.", 0) == 0);
        CHECK(ranks[i].substr(ranks[i].size() - 2) == ",4");
    }
    for (size_t i = ranks.size() - 6; i < ranks.size(); i++) {
        const std::string &line = ranks[i];
        size_t a = line.find(','), b = line.rfind(',');
        CAPTURE(line);
        CHECK(std::stol(line.substr(b + 1)) == s["kept_rank"][line.substr(a + 1, b - a - 1)].get<long>());
    }
}

TEST_CASE("cli: train --config reads TOML and JSON files, and flags override them") {
    Sandbox box;
    box.write("run.toml", "method = \"lora\"\nlr = 0.02\nseed = 11\ntotal_step = 120\nwidth = 8\nlayers = 1\n"
                          "train-rows = 128\ntest_rows = 128\nbatch = 16\ninit_r = 4\ntarget_r = 2\n"
                          "tinit = 20\ntfinal = 40\nlog = \"quiet\"\n");
    Result r = box.run("train --config run.toml --seed 5 --out a");
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    nlohmann::json s = nlohmann::json::parse(read_text(box.work / "a" / "summary.json"));
    CHECK(s["method"] == "lora");
    CHECK(s["seed"] == 5);  // the flag wins over the file's 11
    CHECK(s["config"]["lr"].get<double>() == 0.02);
    CHECK(s["config"]["total_step"] == 120);
    CHECK(s["config"]["init_r"] == 4);

    box.write("run.json", "{\"method\": \"svd-lora\", \"lr\": 0.02, \"total_step\": 100, \"width\": 8,"
                          " \"layers\": 1, \"train_rows\": 64, \"test_rows\": 64, \"tinit\": 10,"
                          " \"tfinal\": 10, \"log\": \"quiet\", \"out\": \"from-file\"}");
    r = box.run("train --total_step=80 --config=run.json");
    REQUIRE(r.code == 0);
    s = nlohmann::json::parse(read_text(box.work / "from-file" / "summary.json"));
    CHECK(s["method"] == "svd-lora");
    CHECK(s["config"]["total_step"] == 80);  // a flag before --config wins too
    CHECK(s["config"]["train_rows"] == 64);
    CHECK(box.entries() == std::set<std::string>{"run.toml", "run.json", "a", "from-file"});
}

TEST_CASE("cli: compare --out writes one run directory per method") {
    Sandbox box;
    Result r = box.run("compare " + kTiny + " --methods adalora,svd-proj --out cmp");
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("oracle") != std::string::npos);
    CHECK(box.entries() == std::set<std::string>{"cmp"});
    for (const char *method : {"adalora", "svd-proj"}) {
        CAPTURE(method);
        const fs::path summary = box.work / "cmp" / method / "summary.json";
        REQUIRE(fs::is_regular_file(summary));
        CHECK(nlohmann::json::parse(read_text(summary))["method"] == method);
    }
    expect_usage_error(box, "compare " + kTiny + " --methods adalora,lora --out cmp", "cmp");
    expect_usage_error(box, "compare " + kTiny + " --methods adalora,lora5 --out cmp2", "--method");
}

TEST_CASE("cli: --out with a trailing slash names the directory itself") {
    Sandbox box;
    Result r = box.run("train " + kTiny + " --out run/");
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    CHECK(box.entries() == std::set<std::string>{"run"});
    CHECK(fs::is_regular_file(box.work / "run" / "summary.json"));
    expect_usage_error(box, "train " + kTiny + " --out run/", "already exists");
}

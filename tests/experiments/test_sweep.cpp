// test_sweep.cpp: the suite runner: the grid, resuming, shards, parallel cells.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <unistd.h>

#include "harness/sweep.h"

#include "support/test_files.h"
#include "support/test_sandbox.h"

namespace fs = std::filesystem;
using test::TempDir;
using test::usage_error;


namespace {


// A tiny two-method suite: 2 variants x 1 axis value x `seeds` seeds.
std::string write_suite(const fs::path &dir, const std::string &name, const std::string &extra = "") {
    fs::path p = dir / (name + ".toml");
    std::ofstream f(p);
    f << "description = \"test suite\"\n"
         "seeds = 1\n"
         "method = [\"lora\", \"adalora\"]\n"
         "task = \"planted-linear\"\n"
         "width = 8\nlayers = 1\ninit_r = 4\n"
         "train_rows = 64\ntest_rows = 32\nbatch = 8\n"
         "total_step = 60\ntinit = 10\ntfinal = 10\ndeltaT = 5\n"
      << (extra.empty() ? std::string("target_r = 2\n") : extra)
      << "[quick]\ntotal_step = 40\n";
    return p.string();
}

nlohmann::json summary_of(const fs::path &cell) {
    std::ifstream in(cell / "summary.json");
    nlohmann::json s = nlohmann::json::parse(in);
    // Wall-clock fields differ between any two runs; everything else must not.
    s.erase("ms_per_step");
    s.erase("time_ms");
    s.erase("machine");  // where it ran (BLAS threads differ with --jobs), not what it computed
    s.erase("peak_rss_kib");  // of the process, which differs with --jobs and the machine's state
    return s;
}

std::set<std::string> cells_in(const fs::path &suite_dir) {
    std::set<std::string> ids;
    if (!fs::exists(suite_dir / "cells")) return ids;
    for (auto &e : fs::directory_iterator(suite_dir / "cells")) ids.insert(e.path().filename().string());
    return ids;
}

}  // namespace

TEST_CASE("sweep: the grid is variants x axes x seeds, ids name every setting") {
    TempDir tmp;
    adalora::SweepArgs a;
    a.suite = write_suite(tmp.path, "grid", "target_r = [1, 2]\n");
    a.out = (tmp.path / "out").string();
    a.seeds = 2;
    adalora::SweepSuite s = adalora::load_suite(a);
    REQUIRE(s.n_cells == 2 * 2 * 2);
    CHECK(s.name == "grid");
    // Axes in key order, the last fastest, seeds innermost.
    CHECK(adalora::suite_cell(s, 0).id == "method-lora_target_r-1_seed-0");
    CHECK(adalora::suite_cell(s, 1).id == "method-lora_target_r-1_seed-1");
    CHECK(adalora::suite_cell(s, 2).id == "method-lora_target_r-2_seed-0");
    const adalora::SuiteCell last = adalora::suite_cell(s, 7);
    CHECK(last.id == "method-adalora_target_r-2_seed-1");
    CHECK(last.config.method == "adalora");
    CHECK(last.config.target_r == 2);
    CHECK(last.config.seed == 1);
    CHECK(last.config.task_opt.width == 8);
    CHECK(last.cell["seed"] == 1);
    // --quick applies the [quick] table.
    a.quick = true;
    CHECK(adalora::suite_cell(adalora::load_suite(a), 0).config.total_step == 40);
}

TEST_CASE("sweep: an interrupted sweep resumes without redoing a finished cell") {
    TempDir tmp;
    adalora::SweepArgs a;
    a.suite = write_suite(tmp.path, "two");
    a.out = (tmp.path / "out").string();
    REQUIRE(adalora::run_sweep(a) == 0);
    fs::path suite_dir = fs::path(a.out) / "two";
    std::set<std::string> all = cells_in(suite_dir);
    REQUIRE(all.size() == 2);
    fs::path kept = suite_dir / "cells" / "method-adalora_seed-0";
    fs::path lost = suite_dir / "cells" / "method-lora_seed-0";
    REQUIRE(fs::exists(kept));
    nlohmann::json lost_before = summary_of(lost);
    // The interruption: one cell never finished (its directory is absent, and a
    // half-written temporary one is left behind), the other did.
    fs::remove_all(lost);
    fs::create_directories(fs::path(lost.string() + ".tmp-999999"));
    auto stamp = fs::last_write_time(kept / "summary.json");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(adalora::run_sweep(a) == 0);
    CHECK(fs::last_write_time(kept / "summary.json") == stamp);  // not redone
    REQUIRE(fs::exists(lost / "summary.json"));                   // redone
    CHECK(summary_of(lost) == lost_before);                       // the same result
    nlohmann::json s = summary_of(lost);
    CHECK(s["suite"] == "two");
    CHECK(s["cell_id"] == "method-lora_seed-0");
    CHECK(s["cell"]["method"] == "lora");
}

TEST_CASE("sweep: two shards together are the unsharded sweep, cell for cell") {
    TempDir tmp;
    adalora::SweepArgs a;
    a.suite = write_suite(tmp.path, "sh", "target_r = [1, 2]\n");
    a.out = (tmp.path / "whole").string();
    REQUIRE(adalora::run_sweep(a) == 0);
    adalora::SweepArgs s1 = a, s2 = a;
    s1.out = (tmp.path / "s1").string();
    s1.shard = "1/2";
    s2.out = (tmp.path / "s2").string();
    s2.shard = "2/2";
    REQUIRE(adalora::run_sweep(s1) == 0);
    REQUIRE(adalora::run_sweep(s2) == 0);
    auto whole = cells_in(fs::path(a.out) / "sh"), one = cells_in(fs::path(s1.out) / "sh"),
         two = cells_in(fs::path(s2.out) / "sh");
    CHECK(whole.size() == 4);
    CHECK(one.size() == 2);
    CHECK(two.size() == 2);
    std::set<std::string> merged = one;
    merged.insert(two.begin(), two.end());
    CHECK(merged == whole);
    for (const auto &id : one) CHECK(two.count(id) == 0);
    for (const auto &id : whole) {
        fs::path shard_dir = one.count(id) ? fs::path(s1.out) : fs::path(s2.out);
        CAPTURE(id);
        CHECK(summary_of(shard_dir / "sh" / "cells" / id) == summary_of(fs::path(a.out) / "sh" / "cells" / id));
    }
}

TEST_CASE("sweep: parallel cells give the results of serial ones") {
    TempDir tmp;
    adalora::SweepArgs a;
    a.suite = write_suite(tmp.path, "par");
    a.out = (tmp.path / "serial").string();
    REQUIRE(adalora::run_sweep(a) == 0);
    adalora::SweepArgs b = a;
    b.out = (tmp.path / "parallel").string();
    b.jobs = 2;
    REQUIRE(adalora::run_sweep(b) == 0);
    for (const auto &id : cells_in(fs::path(a.out) / "par")) {
        CAPTURE(id);
        CHECK(summary_of(fs::path(a.out) / "par" / "cells" / id) == summary_of(fs::path(b.out) / "par" / "cells" / id));
    }
}

TEST_CASE("sweep: bad suites and arguments are refused with a message") {
    TempDir tmp;
    adalora::SweepArgs a;
    a.out = (tmp.path / "out").string();
    auto refused = [&](const std::string &body, const std::string &needle) {
        fs::path p = tmp.path / "bad.toml";
        std::ofstream(p) << body;
        a.suite = p.string();
        try {
            adalora::run_sweep(a);
            FAIL("accepted: " << body);
        } catch (const adalora::UsageError &e) {
            std::string message = e.what();
            CAPTURE(message);
            CHECK(message.find(needle) != std::string::npos);
        }
    };
    refused("bogus = 1\n", "bogus");
    refused("seed = 3\n", "seed");
    refused("out = \"x\"\n", "out");
    refused("seeds = 0\n", "seeds");
    refused("method = []\n", "method");
    refused("method = \"nope\"\n", "--method");
    refused("tinit = 500\ntfinal = 600\ntotal_step = 1000\n", "--tinit");
    refused("variants = [1]\n", "variants");
    refused("x = [\n", "TOML");
    a.suite = "no-such-suite";
    CHECK_THROWS_AS(adalora::run_sweep(a), adalora::UsageError);
    a.suite = write_suite(tmp.path, "ok");
    a.shard = "3/2";
    CHECK_THROWS_AS(adalora::run_sweep(a), adalora::UsageError);
    a.shard = "1/1";
    a.jobs = 0;
    CHECK_THROWS_AS(adalora::run_sweep(a), adalora::UsageError);
}

TEST_CASE("sweep: a grid above --max-cells is refused with its count before anything is built") {
    TempDir tmp;
    adalora::SweepArgs a;
    // 3 axes of 1000 values, 2 variants, 1000 seeds: 2e12 cells. Before the
    // limit the grid was built in memory first (past 1 GB at a million cells).
    std::string axis = "[";
    for (int i = 1; i <= 1000; i++) axis += (i > 1 ? ", " : "") + std::to_string(i);
    axis += "]";
    a.suite = write_suite(tmp.path, "huge", "lr = " + axis + "\nlog_every = " + axis + "\npretrain_steps = " + axis + "\n");
    a.out = (tmp.path / "out").string();
    a.seeds = 1000;
    const std::string err = usage_error([&] { adalora::load_suite(a); });
    CHECK(err.find("2000000000000 cells") != std::string::npos);
    CHECK(err.find("--max-cells 100000") != std::string::npos);
    CHECK(err.find("1000 lr") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path / "out"));
    // The limit is the flag's: 8 cells pass at 8 and are refused at 7.
    a.suite = write_suite(tmp.path, "small", "target_r = [1, 2]\n");
    a.seeds = 2;
    a.max_cells = 8;
    CHECK(adalora::load_suite(a).n_cells == 8);
    a.max_cells = 7;
    CHECK(usage_error([&] { adalora::load_suite(a); }).find("8 cells") != std::string::npos);
}

TEST_CASE("sweep: the full-grid script commits finished cells, reports, and a fresh clone resumes from them") {
    test::Sandbox box;
    write_suite(box.work, "two");  // two cells: method-adalora_seed-0, method-lora_seed-0
    auto full = [&](const std::string &shard) {
        const std::string script = fs::absolute(test::repo_file("tools/experiments-full.sh")).string();
        const std::string cmd = "cd '" + box.work.string() + "' && bash '" + script + "' '" + test::driver_binary() + "' " +
                                shard + " 1 two.toml >'" + (box.root / "script.txt").string() + "' 2>&1";
        const int status = std::system(cmd.c_str());
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    const fs::path committed = box.work / "experiments/results/runs/two";
    REQUIRE(full("1/2") == 0);
    CHECK(cells_in(committed).size() == 1);
    const fs::path first = committed / "cells" / *cells_in(committed).begin();
    for (const char *f : {"summary.json", "metrics.csv", "ranks.csv", "rank_pattern.json"}) {
        CAPTURE(f);
        CHECK(fs::exists(first / f));
    }
    CHECK_FALSE(fs::exists(first / "adapter.safetensors"));  // the seed reproduces it
    CHECK(fs::exists(committed / "suite.json"));
    std::string report = test::read_text(box.work / "experiments/results/REPORT.md");
    CHECK(report.find("finished cells: 1 of 2") != std::string::npos);
    REQUIRE(full("2/2") == 0);
    CHECK(cells_in(committed).size() == 2);
    report = test::read_text(box.work / "experiments/results/REPORT.md");
    CHECK(report.find("finished cells: 2 of 2") != std::string::npos);
    // A fresh clone: no run tree, only the committed cells. Nothing is rerun.
    const auto stamp = fs::last_write_time(first / "summary.json");
    fs::remove_all(box.work / "build");
    REQUIRE(full("1/1") == 0);
    const std::string log = test::read_text(box.root / "script.txt");
    CHECK(log.find("2 cells, 2 already done, 0 to run") != std::string::npos);
    CHECK(fs::last_write_time(first / "summary.json") == stamp);
}

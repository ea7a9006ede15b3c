// test_report.cpp: `adalora report` (experiments/harness, experiments/suites) on synthetic sweep
// trees: the statistics against numbers worked out by hand, merging shards,
// claims that must say yes and no, and bad input.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "config/run_config.h"
#include "harness/report.h"
#include "suites/registry.h"

#include "support/test_files.h"

namespace fs = std::filesystem;
using test::TempDir;
using test::usage_error;
using nlohmann::json;
namespace R = adalora::report;

namespace {


void write_text(const fs::path &p, const std::string &text) {
    fs::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f << text;
}

std::string read_text(const fs::path &p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void write_suite(const fs::path &dir, const std::string &name, const json &axes, int seeds,
                 const json &variants = json::array({json::object()}), const json &fixed = {{"init_r", 4}}) {
    json meta = {{"suite", name}, {"description", "synthetic " + name}, {"axes", axes},
                 {"fixed", fixed}, {"variants", variants}, {"seeds", seeds}, {"quick", true}};
    write_text(dir / name / "suite.json", meta.dump(2));
}

// Two modules, ranks at step 0 and at two mask steps.
const char *kRanks = "step,module,kept_rank\n0,l0.q,4\n0,l0.k,4\n10,l0.q,3\n10,l0.k,2\n20,l0.q,2\n20,l0.k,1\n";
const char *kMetrics =
    "step,loss,task_loss,orth,budget,kept,threshold,lr,seconds,orth_P,orth_Q,revived,pruned,mask_jump\n"
    "1,2.0,1.5,nan,8,8,nan,0.005,0.01,0.5,0.4,0,0,nan\n"
    "10,1.0,0.8,0.1,5,5,-inf,0.005,0.02,0.2,0.1,1,3,0.01\n"
    "20,0.5,0.4,0.05,3,3,0.2,0.005,0.03,0.1,0.05,2,2,nan\n";

// A finished cell of `suite`: summary.json (cell, config, the given fields), metrics.csv, ranks.csv.
void write_cell(const fs::path &dir, const std::string &suite, const std::string &id, const json &cell,
                const json &fields) {
    json config = {{"task", "planted-linear"}, {"init_r", 4}, {"target_r", 2}, {"target_budget", 0},
                   {"tinit", 5},   {"orth_reg_weight", 0.1}, {"importance", "sens-unc"}, {"no_prune", false},
                   {"hard_delete", false}, {"lora_alpha", 8.0}, {"svd", "qr"}, {"width", 8}};
    for (auto &kv : cell.items())
        if (kv.key() != "seed") config[kv.key()] = kv.value();
    json s = {{"method", cell.value("method", "adalora")}, {"task", "planted-linear"}, {"seed", cell["seed"]},
              {"config", config}, {"precision", "float"}, {"suite", suite}, {"cell_id", id}, {"cell", cell},
              {"kept_rank", {{"l0.q", 2}, {"l0.k", 1}}}, {"planted_rank", {{"l0.q", 3}, {"l0.k", 1}}},
              {"oracle_rank", {{"l0.q", 2}, {"l0.k", 1}}}, {"ms_per_step", 1.0},
              {"time_ms", {{"allocation", 0.5}, {"svd", 0.0}}}, {"trainable_params_final", 100}};
    for (auto &kv : fields.items()) s[kv.key()] = kv.value();
    fs::path c = dir / suite / "cells" / id;
    write_text(c / "summary.json", s.dump(2));
    write_text(c / "metrics.csv", kMetrics);
    write_text(c / "ranks.csv", kRanks);
    write_text(c / "rank_pattern.json", "{}");
}

std::string alloc_id(const std::string &method, int r, int seed) {
    return "method-" + method + "_target_r-" + std::to_string(r) + "_seed-" + std::to_string(seed);
}

// adalora's gap: 0.1 r + 0.01 seed; lora's: 1 + 0.01 seed (override lora at r = 2 with lora_r2).
double alloc_gap(const std::string &method, int r, int seed, double lora_r2) {
    if (method == "adalora") return 0.1 * r + 0.01 * seed;
    return (r == 2 && lora_r2 >= 0 ? lora_r2 : 1.0) + 0.01 * seed;
}

// The allocation suite: adalora and lora at target_r 1 and 2, seeds 0..2;
// `which(i)` picks the cells (by index) this directory gets.
template <class Pick>
void write_allocation(const fs::path &dir, Pick which, double lora_r2 = -1) {
    write_suite(dir, "allocation", {{"method", {"adalora", "lora"}}, {"target_r", {1, 2}}}, 3);
    int i = 0;
    for (const std::string m : {"adalora", "lora"})
        for (int r : {1, 2})
            for (int seed = 0; seed < 3; seed++, i++) {
                if (!which(i)) continue;
                double gap = alloc_gap(m, r, seed, lora_r2);
                write_cell(dir, "allocation", alloc_id(m, r, seed), {{"method", m}, {"target_r", r}, {"seed", seed}},
                           {{"gap_to_oracle", gap}, {"final_test_loss", gap + 1}, {"allocation_error", m == "lora" ? 4 : 1},
                            {"modules_matching_oracle", 1}});
            }
}

adalora::ReportResult write_report(const adalora::ReportOptions &o) {
    return adalora::write_report(o, adalora::suites::registry());
}

adalora::ReportOptions options(const std::vector<fs::path> &dirs, const fs::path &out) {
    adalora::ReportOptions o;
    for (const auto &d : dirs) o.dirs.push_back(d.string());
    o.out = out.string();
    o.replace = true;  // the cases below rewrite one report directory
    o.plots = false;
    o.inject_header = true;
    o.header = {"machine: test", "commit: test"};
    return o;
}

// REPORT.md without the lines that name the input directories.
std::string without_dir_lines(const std::string &text) {
    std::stringstream in(text);
    std::string out;
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Generated by", 0) != 0 && line.rfind("- finished cells", 0) != 0) out += line + "\n";
    return out;
}


std::string claims_text(const R::Dataset &d, const std::string &suite) {
    const R::Suite *s = d.find(suite);
    REQUIRE(s != nullptr);
    std::string t;
    for (const auto &c : R::suite_claims(adalora::suites::registry(), *s, &d)) t += c + "\n";
    return t;
}

}  // namespace

TEST_CASE("report: mean, sample std and Student-t CI against numbers worked out by hand") {
    // n = 2: {1, 3}: mean 2, std √2, half width t(0.975, 1) · √2 / √2 = 12.7062047.
    R::Stats s2 = R::summarize({1, 3});
    CHECK(s2.n == 2);
    CHECK(s2.mean == doctest::Approx(2));
    CHECK(s2.std == doctest::Approx(std::sqrt(2.0)));
    CHECK(s2.ci_lo == doctest::Approx(-10.7062047));
    CHECK(s2.ci_hi == doctest::Approx(14.7062047));
    // n = 3: {2, 4, 9}: mean 5, Σ(x − 5)² = 9 + 1 + 16 = 26, std √13 = 3.6055513,
    // half width 4.3026527 · 3.6055513 / √3 = 8.9566858.
    R::Stats s3 = R::summarize({2, 4, 9});
    CHECK(s3.mean == doctest::Approx(5));
    CHECK(s3.std == doctest::Approx(3.6055513));
    CHECK(s3.ci_lo == doctest::Approx(-3.9566858));
    CHECK(s3.ci_hi == doctest::Approx(13.9566858));
    // n = 5: {1..5}: mean 3, std √2.5 = 1.5811388, half 2.7764451 · 1.5811388 / √5 = 1.9632432.
    R::Stats s5 = R::summarize({1, 2, 3, 4, 5});
    CHECK(s5.mean == doctest::Approx(3));
    CHECK(s5.std == doctest::Approx(1.5811388));
    CHECK(s5.ci_lo == doctest::Approx(1.0367568));
    CHECK(s5.ci_hi == doctest::Approx(4.9632432));
    // n = 1: the mean, no spread; NaNs are not counted.
    R::Stats s1 = R::summarize({7, NAN});
    CHECK(s1.n == 1);
    CHECK(s1.mean == 7);
    CHECK_FALSE(s1.spread());
    CHECK(std::isnan(s1.std));
    CHECK(R::format_stats(s1) == "7 ± n/a [n/a]");
    CHECK(R::format_stats(R::summarize({})) == "—");
    CHECK(R::format_stats(s2) == "2 ± 1.4 [-10.71, 14.71]");
    // The t table (the published 3-decimal values) and the normal quantile beyond it.
    CHECK(R::t_quantile_975(1) == doctest::Approx(12.706).epsilon(2.5e-4));
    CHECK(R::t_quantile_975(2) == doctest::Approx(4.303).epsilon(2.5e-4));
    CHECK(R::t_quantile_975(3) == doctest::Approx(3.182).epsilon(2.5e-4));
    CHECK(R::t_quantile_975(4) == doctest::Approx(2.776).epsilon(2.5e-4));
    CHECK(R::t_quantile_975(5) == doctest::Approx(2.571).epsilon(2.5e-4));
    CHECK(R::t_quantile_975(30) == doctest::Approx(2.042).epsilon(2.5e-4));
    CHECK(R::t_quantile_975(31) == doctest::Approx(1.96).epsilon(2.5e-4));
    // y = 3 x² has log-log slope 2.
    CHECK(R::loglog_slope({64, 128, 256, 512}, {3 * 64.0 * 64, 3 * 128.0 * 128, 3 * 256.0 * 256, 3 * 512.0 * 512}) ==
          doctest::Approx(2));
    CHECK(std::isnan(R::loglog_slope({64}, {1})));
}

TEST_CASE("report: two shard directories merge into the same REPORT.md tables as one directory") {
    TempDir t;
    write_allocation(t.path / "all", [](int) { return true; });
    write_allocation(t.path / "s1", [](int i) { return i % 2 == 0; });
    // Shard 2 also holds cell 0, identical: allowed.
    write_allocation(t.path / "s2", [](int i) { return i % 2 == 1 || i == 0; });
    // An unfinished cell is ignored.
    write_text(t.path / "s2" / "allocation" / "cells" / "method-lora_target_r-9_seed-0.tmp-123" / "summary.json", "{");

    write_report(options({t.path / "all"}, t.path / "r_all"));
    write_report(options({t.path / "s1", t.path / "s2"}, t.path / "r_shards"));
    const std::string one = read_text(t.path / "r_all" / "REPORT.md");
    const std::string two = read_text(t.path / "r_shards" / "REPORT.md");
    CHECK(without_dir_lines(one) == without_dir_lines(two));
    CHECK(one.find("finished cells: 12 of 12") != std::string::npos);
    CHECK(two.find("finished cells: 12 of 12") != std::string::npos);
    CHECK(fs::is_directory(t.path / "r_all" / "plots"));
    // adalora at target_r = 1: gaps 0.10, 0.11, 0.12: mean 0.11, std 0.01,
    // CI 0.11 ± 4.3026527 · 0.01 / √3 = [0.08516, 0.1348].
    CHECK(one.find("| adalora | 1 | 3 | 0.11 ± 0.01 [0.08516, 0.1348] |") != std::string::npos);
    CHECK(one.find("- machine: test") != std::string::npos);

    // The report directory exists now: writing again replaces REPORT.md.
    write_report(options({t.path / "all"}, t.path / "r_all"));
    CHECK(read_text(t.path / "r_all" / "REPORT.md") == one);
}

TEST_CASE("report: a claim says yes when the numbers hold and no when they do not") {
    TempDir t;
    write_allocation(t.path / "good", [](int) { return true; });
    const std::string good = claims_text(R::load_report_inputs({(t.path / "good").string()}), "allocation");
    CHECK(good.find("adalora's gap to the oracle is smaller than lora's at every budget on planted-linear: **yes** "
                    "(target_r=1: adalora 0.11 vs lora 1.01") != std::string::npos);
    CHECK(good.find("adalora's allocation error (Σ_k |kept − oracle|) is smaller than lora's at every budget on "
                    "planted-linear: **yes**") != std::string::npos);
    // No svd-lora cells: that claim is not measured.
    CHECK(good.find("smaller than svd-lora's at every budget on planted-linear: not measured in this report") !=
          std::string::npos);

    // lora at target_r = 2 beats adalora (0.05 + 0.01 seed < 0.2 + 0.01 seed).
    write_allocation(t.path / "bad", [](int) { return true; }, 0.05);
    const std::string bad = claims_text(R::load_report_inputs({(t.path / "bad").string()}), "allocation");
    CHECK(bad.find("adalora's gap to the oracle is smaller than lora's at every budget on planted-linear: **no**, holds "
                   "at 1 of 2") != std::string::npos);
}

TEST_CASE("report: svd-cost claims fit the log-log slope of allocation time against d") {
    TempDir t;
    const json variants = json::array({{{"method", "adalora"}}, {{"method", "svd-proj"}, {"svd", "full"}},
                                       {{"method", "svd-proj"}, {"svd", "qr"}}});
    write_suite(t.path, "svd-cost", {{"width", {64, 128, 256}}}, 1, variants);
    for (const auto &v : variants)
        for (int d : {64, 128, 256}) {
            json cell = v;
            cell["width"] = d;
            cell["seed"] = 0;
            const std::string svd = v.value("svd", "");
            // Two mask steps in ranks.csv: allocation ms per mask step = total / 2.
            double svd_ms = svd == "full" ? 1e-6 * d * d * d : svd == "qr" ? 1e-3 * d : 0;
            double alloc_ms = v["method"] == "adalora" ? 1e-2 * d : 0.0;
            double step = svd == "full" ? 2e-6 * d * d * d : 1e-2 * d;
            std::string id = v["method"].get<std::string>() + svd + "_" + std::to_string(d);
            write_cell(t.path, "svd-cost", id, cell,
                       {{"time_ms", {{"allocation", alloc_ms}, {"svd", svd_ms}}}, {"ms_per_step", step}});
        }
    R::Dataset d = R::load_report_inputs({t.path.string()});
    const std::string c = claims_text(d, "svd-cost");
    CHECK(c.find("full SVD allocation cost grows faster with d than qr's: **yes** (fitted log-log slope of allocation "
                 "ms per mask step against d: full ≈ 3, qr ≈ 1, adalora ≈ 1 (d = 64..256)") != std::string::npos);
    // At d = 256 a full step is 2e-6 · 256³ / (1e-2 · 256) = 13.1× adalora's.
    CHECK(c.find("at d = 256 a training step costs 13.1× adalora's with full SVD") != std::string::npos);
    const R::Suite *s = d.find("svd-cost");
    REQUIRE(s != nullptr);
    const auto metrics = R::suite_metrics(adalora::suites::registry(), "svd-cost");
    auto mask_steps = std::find_if(metrics.begin(), metrics.end(), [](const R::Metric &m) { return m.key == "mask_steps"; });
    REQUIRE(mask_steps != metrics.end());
    CHECK(mask_steps->value(s->cells[0]) == 2);
}

TEST_CASE("report: a conflicting duplicate cell and other bad input are UsageErrors") {
    TempDir t;
    write_allocation(t.path / "s1", [](int i) { return i < 3; });
    write_allocation(t.path / "s2", [](int i) { return i < 3; }, 0.5);
    // Same adalora cells: fine.
    CHECK(usage_error([&] { R::load_report_inputs({(t.path / "s1").string(), (t.path / "s2").string()}); }) == "");
    // One of them changed in s2: an error naming the cell.
    write_cell(t.path / "s2", "allocation", alloc_id("adalora", 1, 0),
               {{"method", "adalora"}, {"target_r", 1}, {"seed", 0}}, {{"gap_to_oracle", 9.0}});
    std::string e = usage_error([&] { R::load_report_inputs({(t.path / "s1").string(), (t.path / "s2").string()}); });
    CHECK(e.find("cell allocation/" + alloc_id("adalora", 1, 0) + " differs between") != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);
    // A missing directory, a directory without suites, a malformed summary.json.
    CHECK(usage_error([&] { R::load_report_inputs({(t.path / "nope").string()}); }).find("no such directory") !=
          std::string::npos);
    fs::create_directories(t.path / "empty");
    CHECK(usage_error([&] { R::load_report_inputs({(t.path / "empty").string()}); }).find("no suites found") !=
          std::string::npos);
    CHECK(usage_error([&] { R::load_report_inputs({}); }) != "");
    write_allocation(t.path / "broken", [](int i) { return i == 0; });
    write_text(t.path / "broken" / "allocation" / "cells" / alloc_id("adalora", 1, 0) / "summary.json", "{\"cell\": ");
    CHECK(usage_error([&] { R::load_report_inputs({(t.path / "broken").string()}); }).find("malformed JSON") !=
          std::string::npos);
    // The output's parent must exist; nothing is written on bad input.
    CHECK(usage_error([&] { write_report(options({t.path / "s1"}, t.path / "no" / "where")); })
              .find("parent directory") != std::string::npos);
    CHECK(usage_error([&] { write_report(options({t.path / "nope"}, t.path / "out")); }) != "");
    CHECK_FALSE(fs::exists(t.path / "out"));
}

TEST_CASE("report: an existing --out is refused unless --replace; a dangling link is never followed") {
    TempDir t;
    write_allocation(t.path / "sweep", [](int) { return true; });
    adalora::ReportOptions o = options({t.path / "sweep"}, t.path / "r");
    o.replace = false;
    write_report(o);  // a new directory: written
    const std::string first = read_text(t.path / "r" / "REPORT.md");
    // Before: a second report silently overwrote REPORT.md.
    std::ofstream(t.path / "r" / "REPORT.md") << "kept";
    const std::string err = usage_error([&] { write_report(o); });
    CHECK(err.find("--out") != std::string::npos);
    CHECK(err.find("--replace") != std::string::npos);
    CHECK(read_text(t.path / "r" / "REPORT.md") == "kept");
    o.replace = true;
    write_report(o);
    CHECK(read_text(t.path / "r" / "REPORT.md") == first);
    // A dangling symlink is refused as existing, --replace or not.
    fs::create_symlink(t.path / "nowhere", t.path / "link");
    o.out = (t.path / "link").string();
    CHECK(usage_error([&] { write_report(o); }).find("not a directory") != std::string::npos);
    CHECK_FALSE(fs::exists(t.path / "nowhere"));
}

TEST_CASE("report: without gnuplot the report still builds and says which plots were skipped") {
    TempDir t;
    write_allocation(t.path / "sw", [](int) { return true; });
    adalora::ReportOptions o = options({t.path / "sw"}, t.path / "r");
    o.plots = true;
    o.gnuplot = (t.path / "no-such-gnuplot").string();
    write_report(o);
    const std::string text = read_text(t.path / "r" / "REPORT.md");
    CHECK(text.find("skipped (gnuplot not found") != std::string::npos);
    CHECK(text.find("## Skipped plots") != std::string::npos);
    // The data and the scripts are there to draw them later.
    CHECK(fs::is_regular_file(t.path / "r" / "plots" / "rank_heatmap.gp"));
    CHECK(fs::is_regular_file(t.path / "r" / "plots" / "rank_heatmap.dat"));
    CHECK_FALSE(fs::exists(t.path / "r" / "plots" / "rank_heatmap.png"));
    // A rewrite removes the plot files of an earlier report that this one does
    // not write (a suite since removed), keeps its own and any other file.
    write_text(t.path / "r" / "plots" / "fig3_rank_map_all.png", "stale");
    write_text(t.path / "r" / "plots" / "fig3_rank_map_all.dat", "stale");
    write_text(t.path / "r" / "plots" / "notes.txt", "mine");
    // A gnuplot that fails: the exit code is reported.
    o.gnuplot = "false";
    write_report(o);
    CHECK_FALSE(fs::exists(t.path / "r" / "plots" / "fig3_rank_map_all.png"));
    CHECK_FALSE(fs::exists(t.path / "r" / "plots" / "fig3_rank_map_all.dat"));
    CHECK(read_text(t.path / "r" / "plots" / "notes.txt") == "mine");
    CHECK(fs::is_regular_file(t.path / "r" / "plots" / "rank_heatmap.gp"));
    CHECK(read_text(t.path / "r" / "REPORT.md").find("skipped (gnuplot exited with code 1") != std::string::npos);
    if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
        o.gnuplot = "gnuplot";
        o.out = (t.path / "r2").string();
        write_report(o);
        const std::string drawn = read_text(t.path / "r2" / "REPORT.md");
        CHECK(drawn.find("![Kept rank per module") != std::string::npos);
        CHECK(drawn.find("## Skipped plots") == std::string::npos);
        CHECK(fs::file_size(t.path / "r2" / "plots" / "rank_heatmap.png") > 0);
        CHECK(fs::file_size(t.path / "r2" / "plots" / "allocation_bars.svg") > 0);
    }
}

TEST_CASE("report: conventions on a sentence task pair the seeds: moves it, no clear change, identical") {
    TempDir t;
    const json variants = json::array({{{"convention", "paper"}}, {{"convention", "peft"}},
                                       {{"convention", "paper"}, {"ties", "kthvalue"}},
                                       {{"convention", "paper"}, {"orth-norm", "plain"}}});
    write_suite(t.path, "conventions-encoder", json::object(), 3, variants);
    const double paper[3] = {0.80, 0.70, 0.84};           // the seeds differ a lot...
    const double peft[3] = {0.05, 0.06, 0.04};            // ...the paired differences little: +5 ± 1 points
    const double plain[3] = {0.02, -0.02, 0.0};           // mean 0, the interval holds 0
    int id = 0;
    for (const auto &v : variants)
        for (int seed = 0; seed < 3; seed++) {
            json cell = v;
            cell["seed"] = seed;
            double acc = paper[seed];
            if (v["convention"] == "peft") acc += peft[seed];
            if (v.contains("orth-norm")) acc += plain[seed];
            write_cell(t.path, "conventions-encoder", "c" + std::to_string(id++), cell,
                       {{"final_test_accuracy", acc}, {"final_test_loss", 1 - acc}});
        }
    const std::string c = claims_text(R::load_report_inputs({t.path.string()}), "conventions-encoder");
    // peft: differences 5, 6, 4 points: mean 5, sd 1, t(2) = 4.303: 5 ± 2.48 points.
    CHECK(c.find("`convention=peft` against the paper preset on planted-linear, test accuracy: **moves it**: +5 points, "
                 "95% CI [+2.52 points, +7.48 points] paired over 3 seeds; the two sides' own 95% CIs overlap") != std::string::npos);
    CHECK(c.find("ties=kthvalue` against the paper preset on planted-linear, test accuracy: **identical** at every seed "
                 "(3 seeds)") != std::string::npos);
    const size_t plain_at = c.find("orth-norm=plain` against the paper preset on planted-linear, test accuracy: ");
    REQUIRE(plain_at != std::string::npos);
    const std::string plain_line = c.substr(plain_at, c.find('\n', plain_at) - plain_at);
    CHECK(plain_line.find("**no clear change**, the interval contains 0: +0 points, 95% CI [-4.97 points, +4.97 points]") !=
          std::string::npos);  // differences 2, -2, 0 points: sd 2, t(2)·2/√3 = 4.97
    CHECK(plain_line.find("no direction to extrapolate") != std::string::npos);  // mean 0: no seed count decides it
}

TEST_CASE("report: schedule-encoder names its base schedule by every setting the variants change") {
    TempDir t;
    const json variants = json::array({{{"tinit", 15}}, {{"tinit", 0}}, {{"deltaT", 1}}});
    write_suite(t.path, "schedule-encoder", json::object(), 2, variants,
                {{"tinit", 15}, {"tfinal", 45}, {"deltaT", 5}, {"init_r", 3}});
    int id = 0;
    for (const auto &v : variants)
        for (int seed = 0; seed < 2; seed++) {
            json cell = v;
            cell["seed"] = seed;
            const double acc = 0.8 + 0.01 * seed + (v.contains("deltaT") ? 0.02 : 0.0);
            write_cell(t.path, "schedule-encoder", "c" + std::to_string(id++), cell,
                       {{"final_test_accuracy", acc}, {"final_test_loss", 1 - acc}});
        }
    const std::string c = claims_text(R::load_report_inputs({t.path.string()}), "schedule-encoder");
    // tfinal is fixed but no variant changes it, so the name leaves it out.
    CHECK(c.find("`deltaT=1` against the base schedule (tinit=15, deltaT=5) on planted-linear, test accuracy: "
                 "**moves it**") != std::string::npos);
    CHECK(c.find("`tinit=0` against the base schedule (tinit=15, deltaT=5)") != std::string::npos);
    CHECK(c.find("(tinit=15) on") == std::string::npos);
}

TEST_CASE("report: lr-select picks each method's rate by mean dev accuracy (ties: the larger) and checks the other suites") {
    TempDir t;
    const json variants = json::array({{{"method", "adalora"}}, {{"method", "lora"}}});
    write_suite(t.path, "lr-select", {{"lr", {0.01, 0.005, 0.001}}}, 2, variants);
    // Dev accuracy by method, rate and seed: adalora best at 5e-3 (mean 0.9
    // against 0.6 and 0.85), inside the grid; lora ties at 0.8 at every rate
    // (0.7 and 0.9 at 5e-3): the larger rate, 1e-2, an end of the grid.
    const std::map<std::string, std::map<double, std::array<double, 2>>> dev = {
        {"adalora", {{0.01, {0.6, 0.6}}, {0.005, {0.88, 0.92}}, {0.001, {0.85, 0.85}}}},
        {"lora", {{0.01, {0.8, 0.8}}, {0.005, {0.7, 0.9}}, {0.001, {0.8, 0.8}}}}};
    int id = 0;
    for (const auto &[method, rates] : dev)
        for (const auto &[lr, acc] : rates)
            for (int seed = 0; seed < 2; seed++)
                write_cell(t.path, "lr-select", "c" + std::to_string(id++), {{"method", method}, {"lr", lr}, {"seed", seed}},
                           {{"final_dev_accuracy", acc[seed]}, {"final_test_accuracy", 0.5}});
    std::string c = claims_text(R::load_report_inputs({t.path.string()}), "lr-select");
    CHECK(c.find("- adalora: lr **0.005** (mean dev accuracy at each rate, 0.01: 0.6, 0.005: 0.9, 0.001: 0.85)\n") !=
          std::string::npos);
    CHECK(c.find("- lora: lr **0.01** (mean dev accuracy at each rate, 0.01: 0.8, 0.005: 0.8, 0.001: 0.8); at an end of the "
                 "grid: a rate beyond it may be better\n") != std::string::npos);
    CHECK(c.find("the encoder suites run") == std::string::npos);  // no other suite: nothing to check

    // Another suite: its encoder cells (with provenance) are checked, a planted cell (none) is not.
    write_suite(t.path, "table5-encoder", json::object(), 1, json::array({{{"method", "adalora"}}, {{"method", "lora"}}}));
    const json encoder = {{"provenance", {{"model", {{"name", "all-MiniLM-L6-v2"}}}}}, {"final_test_accuracy", 0.9}};
    write_cell(t.path, "table5-encoder", "a", {{"method", "adalora"}, {"lr", 0.005}, {"seed", 0}}, encoder);
    write_cell(t.path, "table5-encoder", "b", {{"method", "lora"}, {"lr", 0.001}, {"seed", 0}}, encoder);
    write_cell(t.path, "table5-encoder", "c", {{"method", "lora"}, {"lr", 0.0005}, {"seed", 1}}, {{"final_test_accuracy", 0.9}});
    c = claims_text(R::load_report_inputs({t.path.string()}), "lr-select");
    CHECK(c.find("- the encoder suites run adalora at 0.005: **yes** (cells: table5-encoder 1)") != std::string::npos);
    CHECK(c.find("- the encoder suites run lora at 0.01: **no**; **not**: table5-encoder: 1 cells at 0.001") != std::string::npos);
}

TEST_CASE("paired: seeds_needed extrapolates the t-interval; combine and the verdicts follow the paired interval") {
    R::Stats d;
    d.n = 5, d.mean = 1, d.std = 2;
    // t(16)·2/√17 = 2.120·0.4851 = 1.028 > 1; t(17)·2/√18 = 2.110·0.4714 = 0.995 < 1.
    CHECK(R::seeds_needed(d) == 18);
    d.mean = -1;
    CHECK(R::seeds_needed(d) == 18);  // either direction
    d.mean = 0;
    CHECK(R::seeds_needed(d) == 0);   // no direction to extrapolate
    d.mean = 1, d.std = 0;
    CHECK(R::seeds_needed(d) == 0);
    using O = R::Outcome;
    CHECK(R::combine({O::reproduced, O::reproduced}) == O::reproduced);
    CHECK(R::combine({O::reproduced, O::undecided}) == O::undecided);
    CHECK(R::combine({O::undecided, O::not_reproduced, O::reproduced}) == O::not_reproduced);
    CHECK(R::combine({O::reproduced, O::not_measured}) == O::reproduced);
    CHECK(R::combine({}) == O::not_measured);
}

namespace {

// table1 on one sentence task: adalora and lora at target_r 1 and 2, head-only,
// seeds 0..2; accuracy = base[seed] + the method's offset at that seed.
void write_table1(const fs::path &dir, const double (&r1)[3], const double (&r2)[3]) {
    const json variants = json::array({{{"method", "adalora"}, {"target_r", 1}}, {{"method", "adalora"}, {"target_r", 2}},
                                       {{"method", "lora"}, {"target_r", 1}}, {{"method", "lora"}, {"target_r", 2}},
                                       {{"method", "head-only"}}});
    write_suite(dir, "table1", json::object(), 3, variants);
    const double base[3] = {0.80, 0.70, 0.90};  // seeds far apart: only pairing decides
    int id = 0;
    for (const auto &v : variants)
        for (int seed = 0; seed < 3; seed++) {
            json cell = v;
            cell["seed"] = seed;
            double acc = base[seed];
            if (v["method"] == "adalora") acc += (v["target_r"] == 1 ? r1 : r2)[seed];
            if (v["method"] == "head-only") acc -= 0.2;
            write_cell(dir, "table1", "c" + std::to_string(id++), cell,
                       {{"task", "sentiment-yelp"}, {"final_test_accuracy", acc},
                        {"sentences", {{"train", 800}, {"dev", 100}, {"test", 100}}},
                        {"provenance", {{"model", {{"name", "all-MiniLM-L6-v2"}}}}},
                        {"kept_rank_by_layer", {{"query", {1, 2}}, {"intermediate.dense", {0, 1}}}}});
        }
}

}  // namespace

TEST_CASE("report: the reproduction table pairs the seeds; a claim is undecided, reproduced or not by its groups") {
    TempDir t;
    const double up[3] = {0.03, 0.04, 0.05}, mixed[3] = {-0.01, 0.01, 0.0}, down[3] = {-0.03, -0.04, -0.05};
    write_table1(t.path / "a", up, mixed);
    const fs::path out = t.path / "report";
    write_report(options({t.path / "a"}, out));
    std::string md = read_text(out / "REPORT.md");
    CAPTURE(md);
    const size_t table = md.find("## The paper's claims, reproduced on the pretrained encoder");
    REQUIRE(table != std::string::npos);
    CHECK(table < md.find("## table1"));  // at the top, before the suites
    // r1: +3, +4, +5 points, paired: mean 4, sd 1 -> reproduced; r2: -1, +1, 0 -> undecided.
    CHECK(md.find("| Table 1: AdaLoRA beats LoRA at each budget (LoRA at the matched rank) |") != std::string::npos);
    CHECK(md.find("sentiment-yelp r1 +4 points ✓; sentiment-yelp r2 +0 points ? | **undecided** | [table1](#table1) |") !=
          std::string::npos);
    CHECK(md.find("# The pretrained encoder (MiniLM) on real sentences") != std::string::npos);
    CHECK(md.find("adalora beats lora at the matched rank on sentiment-yelp at final average rank 1 per matrix: **reproduced** "
                  "(+4 points, 95% CI [+1.52 points, +6.48 points] paired over 3 seeds") != std::string::npos);
    // Unpaired, the seeds' spread (0.70 .. 0.90) hides the same difference.
    CHECK(md.find("the two sides' own 95% CIs overlap") != std::string::npos);
    CHECK(md.find("lora beats the head alone on sentiment-yelp at final average rank 2 per matrix: **reproduced** (+20 points") !=
          std::string::npos);
    CHECK(md.find("Not reproduced, and what differs") == std::string::npos);

    // The allocation suite's rank plots draw its own cells only: none from table1's encoder cells.
    fs::create_directories(t.path / "plots");
    for (const auto &p : R::make_plots(R::load_report_inputs({(t.path / "a").string()}), adalora::suites::registry(),
                                       (t.path / "plots").string(), (t.path / "no-such-gnuplot").string()))
        CHECK_MESSAGE((p.name != "rank_heatmap" && p.name != "allocation_bars"),
                      "the allocation suite's plot " << p.name << " drawn from " << p.suite << "'s cells");

    write_table1(t.path / "b", up, down);  // r2: -3, -4, -5 points: not reproduced
    write_report(options({t.path / "b"}, out));
    md = read_text(out / "REPORT.md");
    CHECK(md.find("| **not reproduced** | [table1](#table1) |") != std::string::npos);
    CHECK(md.find("- Table 1: AdaLoRA beats LoRA at each budget (LoRA at the matched rank): the model is all-MiniLM-L6-v2 "
                  "(2 layers") != std::string::npos);
    CHECK(md.find("(training / test: sentiment-yelp 800 / 100;") != std::string::npos);
}

TEST_CASE("report: fig3 answers where the rank goes from kept_rank_by_layer, per task and over all tasks") {
    TempDir t;
    write_suite(t.path, "fig3", {{"task", {"sentiment-yelp", "vader-movies"}}}, 3);
    int id = 0;
    for (const std::string task : {"sentiment-yelp", "vader-movies"})
        for (int seed = 0; seed < 3; seed++) {
            // Three layers: attention types 2 everywhere, FFN types 0 below and seed + 1 at the top layer.
            const json by_layer = {{"query", {2, 2, 2}}, {"key", {2, 2, 2}}, {"value", {2, 2, 2}},
                                   {"attention.output.dense", {2, 2, 2}},
                                   {"intermediate.dense", {0, 0, seed + 1}}, {"output.dense", {0, 0, seed + 1}}};
            write_cell(t.path, "fig3", "c" + std::to_string(id++), {{"task", task}, {"seed", seed}},
                       {{"task", task}, {"final_test_accuracy", 0.8}, {"kept_rank_by_layer", by_layer}});
        }
    const std::string c = claims_text(R::load_report_inputs({t.path.string()}), "fig3");
    CAPTURE(c);
    // FFN per matrix: (seed + 1)/3 = 1/3, 2/3, 1; attention 2: differences -5/3, -4/3, -1 -> not reproduced.
    CHECK(c.find("the FFN matrices (W_f1, W_f2) keep more rank per matrix than the attention matrices (W_q, W_k, W_v, W_o) "
                 "on sentiment-yelp: **not reproduced** (0.667 against 2 triplets") != std::string::npos);
    // Top third (layer 2): (4·2 + 2(seed + 1))/6; bottom third (layer 0): 8/6. Top − bottom = (seed + 1)/3:
    // mean 2/3, sd 1/3, 95% CI 2/3 ± t(2)·(1/3)/√3 = 2/3 ± 0.828 holds 0; at this spread t(n−1)/√n < 2 first at
    // n = 4 (3.182/2 = 1.59; n = 3: 4.303/1.732 = 2.48).
    CHECK(c.find("the top third of the layers keeps more rank per matrix than the bottom third over all tasks: **undecided** "
                 "(2 against 1.33 triplets; difference +0.667, 95% CI [-0.161, +1.49] paired over 3 seeds") != std::string::npos);
    CHECK(c.find("about 4 seeds would decide it at this mean and spread") != std::string::npos);
}

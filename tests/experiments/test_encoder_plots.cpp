// test_encoder_plots.cpp: the encoder suites' plots (experiments/suites/
// encoder_plots.h) on small Datasets built here with hand-chosen ranks and
// accuracies: the .dat numbers against means and 95% CIs worked out by hand
// (Student t for 1 and 2 degrees of freedom in closed form), the plot names,
// the labels, and missing suites, one seed and NaN values; and that gnuplot
// draws every script when it is installed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "harness/plot.h"
#include "suites/encoder_plots.h"

#include "support/test_files.h"

using nlohmann::json;
namespace R = adalora::report;
namespace S = adalora::suites;

namespace {

// A finished cell: summary.json's `fields`, its "cell" object (the variant's
// keys and the seed) and its config (`config` with the variant's keys on top).
R::Cell make_cell(const json &key, long seed, const json &fields, json config = json::object()) {
    R::Cell c;
    json k = key;
    k["seed"] = seed;
    for (auto &kv : key.items()) config[kv.key()] = kv.value();
    c.summary = fields;
    c.summary["cell"] = k;
    c.summary["config"] = config;
    c.seed = seed;
    c.id = k.dump();
    return c;
}

using SuiteCells = std::pair<std::string, std::vector<R::Cell>>;

// A Dataset of the given suites; a suite's variants are its cells grouped by
// key (the cell object without the seed) in the order they first appear.
R::Dataset dataset(std::vector<SuiteCells> suites) {
    R::Dataset d;
    d.suites.resize(suites.size());
    for (size_t i = 0; i < suites.size(); i++) {
        R::Suite &s = d.suites[i];
        s.name = suites[i].first;
        s.cells = std::move(suites[i].second);
        for (const R::Cell &c : s.cells) {
            json key = c.summary["cell"];
            key.erase("seed");
            size_t v = 0;
            while (v < s.variants.size() && s.variants[v].key != key) v++;
            if (v == s.variants.size()) s.variants.push_back(R::Variant{key, {}});
            s.variants[v].cells.push_back(&c);
        }
    }
    return d;
}

// The data rows of a .dat file, by block (a blank line ends a block; comment
// lines are skipped); each row its fields, a "quoted field" one field.
std::vector<std::vector<std::vector<std::string>>> dat_blocks(const std::string &dat) {
    std::vector<std::vector<std::vector<std::string>>> blocks(1);
    std::stringstream in(dat);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) {
            if (!blocks.back().empty()) blocks.emplace_back();
            continue;
        }
        if (line[0] == '#') continue;
        std::vector<std::string> fields;
        for (size_t i = 0; i < line.size();) {
            if (line[i] == ' ') {
                i++;
            } else if (line[i] == '"') {
                size_t end = line.find('"', i + 1);
                fields.push_back(line.substr(i + 1, end - i - 1));
                i = end + 1;
            } else {
                size_t end = std::min(line.find(' ', i), line.size());
                fields.push_back(line.substr(i, end - i));
                i = end;
            }
        }
        blocks.back().push_back(fields);
    }
    if (blocks.back().empty()) blocks.pop_back();
    return blocks;
}

double num(const std::string &field) { return std::stod(field); }

// Checks a .dat number against the expected one (NaN: the field is NaN).
void check_num(const std::string &field, double expected) {
    INFO("field " << field << ", expected " << expected);
    if (std::isnan(expected))
        CHECK(std::isnan(num(field)));
    else
        CHECK(num(field) == doctest::Approx(expected).epsilon(1e-7));
}

// Checks "mean ci_lo ci_hi n" starting at fields[at].
void check_stats(const std::vector<std::string> &fields, size_t at, double mean, double lo, double hi, int n) {
    REQUIRE(fields.size() >= at + 4);
    check_num(fields[at], mean);
    check_num(fields[at + 1], lo);
    check_num(fields[at + 2], hi);
    CHECK(fields[at + 3] == std::to_string(n));
}

std::vector<std::string> names(const std::vector<R::PlotJob> &jobs) {
    std::vector<std::string> out;
    for (const auto &j : jobs) out.push_back(j.plot.name);
    return out;
}

bool has(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

// The Student t quantile t_{0.975} in closed form: df = 1 (Cauchy): tan(π (p − 1/2));
// df = 2: (2p − 1) / sqrt(2 p (1 − p)).
const double kT1 = std::tan(std::acos(-1.0) * 0.475);
const double kT2 = 0.95 / std::sqrt(2 * 0.975 * 0.025);

// A fig3 cell on `task` with the given summary fields (kept ranks), init_r 3.
R::Cell fig3_cell(const std::string &task, long seed, const json &ranks) {
    json fields = ranks;
    fields["task"] = task;
    fields["method"] = "adalora";
    return make_cell({{"task", task}}, seed, fields, {{"init_r", 3}, {"target_r", 2}});
}

// The fig3 dataset: yelp with two seeds (kept_rank_by_layer, one null), imdb
// with one seed (kept_rank only, most matrices absent).
R::Dataset fig3_data() {
    std::vector<R::Cell> cells;
    cells.push_back(fig3_cell("sentiment-yelp", 0,
                              {{"kept_rank_by_layer",
                                {{"query", {2, 0}}, {"key", {1, 1}}, {"value", {3, 3}}, {"attention.output.dense", {0, 1}},
                                 {"intermediate.dense", {2, 2}}, {"output.dense", {1, 0}}}}}));
    cells.push_back(fig3_cell("sentiment-yelp", 1,
                              {{"kept_rank_by_layer",
                                {{"query", {3, 1}}, {"key", {1, nullptr}}, {"value", {3, 2}}, {"attention.output.dense", {1, 1}},
                                 {"intermediate.dense", {0, 2}}, {"output.dense", {1, 1}}}}}));
    cells.push_back(fig3_cell("sentiment-imdb", 0,
                              {{"kept_rank",
                                {{"0.query", 1}, {"1.query", 2}, {"1.output.dense", 3}, {"0.key", 0}, {"classifier", 9}}}}));
    return dataset({{"fig3", cells}});
}

// The fig3 .dat's matrix (block 0) as numbers, [type][layer].
std::vector<std::vector<double>> rank_matrix(const R::PlotJob &j) {
    auto blocks = dat_blocks(j.data);
    REQUIRE(blocks.size() == 2);
    std::vector<std::vector<double>> m;
    for (const auto &row : blocks[0]) {
        m.emplace_back();
        for (const auto &f : row) m.back().push_back(num(f));
    }
    return m;
}

void check_matrix(const std::vector<std::vector<double>> &m, const std::vector<std::vector<double>> &expected) {
    REQUIRE(m.size() == expected.size());
    for (size_t t = 0; t < m.size(); t++) {
        REQUIRE(m[t].size() == expected[t].size());
        for (size_t l = 0; l < m[t].size(); l++) {
            INFO("type row " << t << ", layer column " << l);
            if (std::isnan(expected[t][l]))
                CHECK(std::isnan(m[t][l]));
            else
                CHECK(m[t][l] == doctest::Approx(expected[t][l]));
        }
    }
}

}  // namespace

TEST_CASE("encoder plots: fig3's rank map is the mean over seeds per (matrix type, layer), per task and over tasks") {
    const R::Dataset d = fig3_data();
    std::vector<R::PlotJob> jobs;
    S::fig3_plots(d, jobs);
    CHECK(names(jobs) == std::vector<std::string>{"fig3_rank_map_sentiment-yelp", "fig3_rank_map_sentiment-imdb",
                                                  "fig3_rank_map_all"});
    for (const auto &j : jobs) {
        CHECK(j.plot.suite == "fig3");
        CHECK(j.plot.skipped.empty());
        CHECK(has(j.body, "set cbrange [0:3]\n"));  // init_r
        CHECK(has(j.body, "\"W_q (query)\" 0, \"W_k (key)\" 1, \"W_v (value)\" 2, \"W_o (attention.output.dense)\" 3, "
                          "\"W_f1 (intermediate.dense)\" 4, \"W_f2 (output.dense)\" 5"));
        CHECK(has(j.body, "set xtics (\"1\" 0, \"2\" 1)"));  // layers counted from 1
        CHECK(has(j.body, "'" + j.plot.name + ".dat' index 0 matrix with image"));
        CHECK(has(j.body, "with labels"));
    }
    const double nan = NAN;
    // Rows W_q, W_k, W_v, W_o, W_f1, W_f2; columns layers 1, 2. Yelp: (2+3)/2, (0+1)/2, ...; key's
    // layer 2 has one seed (the other null).
    const std::vector<std::vector<double>> yelp = {{2.5, 0.5}, {1, 1}, {3, 2.5}, {0.5, 1}, {1, 2}, {1, 0.5}};
    const std::vector<std::vector<double>> imdb = {{1, 2}, {0, nan}, {nan, nan}, {nan, nan}, {nan, nan}, {nan, 3}};
    // Each task weighs the same: the mean of the two tasks' means where both have one.
    const std::vector<std::vector<double>> all = {{1.75, 1.25}, {0.5, 1}, {3, 2.5}, {0.5, 1}, {1, 2}, {1, 1.75}};
    check_matrix(rank_matrix(jobs[0]), yelp);
    check_matrix(rank_matrix(jobs[1]), imdb);
    check_matrix(rank_matrix(jobs[2]), all);
    CHECK(has(jobs[0].plot.title, "sentiment-yelp"));
    CHECK(has(jobs[0].plot.title, "mean over 2 runs"));
    CHECK(has(jobs[1].plot.title, "mean over 1 run)"));
    // The printed values (block 1): column row text.
    auto labels = dat_blocks(jobs[0].data)[1];
    REQUIRE(labels.size() == 12);
    CHECK(labels[0] == std::vector<std::string>{"0", "0", "2.5"});
    CHECK(labels[1] == std::vector<std::string>{"1", "0", "0.5"});
    CHECK(labels[11] == std::vector<std::string>{"1", "5", "0.5"});
    CHECK(dat_blocks(jobs[1].data)[1][4] == std::vector<std::string>{"0", "2", "n/a"});
}

TEST_CASE("encoder plots: fig3 with one seed, without init_r, without ranks, or without the suite") {
    std::vector<R::PlotJob> jobs;
    S::fig3_plots(dataset({{"table1", {}}}), jobs);
    CHECK(jobs.empty());
    S::fig3_plots(dataset({{"fig3", {}}}), jobs);
    CHECK(jobs.empty());

    // One task, one seed: the seed's ranks as they are, no plot over tasks;
    // without init_r the colors run to the largest rank.
    json fields = {{"task", "vader-movies"},
                   {"kept_rank_by_layer", {{"query", {4, 1, 2}}, {"key", {0, 0, 0}}, {"value", {1, 1, 1}},
                                           {"attention.output.dense", {2, 2, 2}}, {"intermediate.dense", {3, 3, 0}},
                                           {"output.dense", {1, 0, 1}}}}};
    const R::Dataset one = dataset({{"fig3", {make_cell({}, 7, fields)}}});
    S::fig3_plots(one, jobs);
    REQUIRE(names(jobs) == std::vector<std::string>{"fig3_rank_map_vader-movies"});
    check_matrix(rank_matrix(jobs[0]), {{4, 1, 2}, {0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 3, 0}, {1, 0, 1}});
    CHECK(has(jobs[0].body, "set cbrange [0:4]\n"));
    CHECK(has(jobs[0].body, "set xtics (\"1\" 0, \"2\" 1, \"3\" 2)"));

    // A cell without kept ranks: the plot is listed as skipped, with why.
    jobs.clear();
    S::fig3_plots(dataset({{"fig3", {make_cell({}, 0, {{"task", "sentiment-yelp"}, {"final_test_accuracy", 0.9}})}}}), jobs);
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].plot.name == "fig3_rank_map_sentiment-yelp");
    CHECK(has(jobs[0].plot.skipped, "kept_rank"));
}

namespace {

R::Cell fig1_cell(const json &key, long seed, double acc) {
    return make_cell(key, seed, {{"task", "vader-movies"}, {"method", "lora"}, {"final_test_accuracy", acc}});
}

}  // namespace

TEST_CASE("encoder plots: fig1's bars are the mean test accuracy with 95% CIs, matrix types and layer groups apart") {
    const double nan = NAN;
    std::vector<R::Cell> cells = {
        fig1_cell({{"target_modules", "query"}, {"lora_r", 15}}, 0, 0.8),
        fig1_cell({{"target_modules", "query"}, {"lora_r", 15}}, 1, 0.9),
        fig1_cell({{"target_modules", "key"}, {"lora_r", 15}}, 0, nan),
        fig1_cell({{"target_modules", "value"}, {"lora_r", 15}}, 0, 0.7),
        fig1_cell({{"target_modules", "intermediate.dense"}, {"lora_r", 6}}, 0, 0.75),
        fig1_cell({{"target_modules", "intermediate.dense"}, {"lora_r", 6}}, 1, nan),
        fig1_cell({{"layers_to_transform", "0,1"}, {"lora_r", 5}}, 0, 0.6),
        fig1_cell({{"layers_to_transform", "0,1"}, {"lora_r", 5}}, 1, 0.8),
        fig1_cell({{"layers_to_transform", "2"}, {"lora_r", 5}}, 0, 0.65),
        fig1_cell({{"layers_to_transform", "0,2"}, {"lora_r", 5}}, 0, 0.66),
        fig1_cell({{"layers_to_transform", "4,5"}, {"lora_r", 5}}, 0, 0.7),
    };
    std::vector<R::PlotJob> jobs;
    S::fig1_plots(dataset({{"fig1", cells}}), jobs);
    REQUIRE(names(jobs) == std::vector<std::string>{"fig1_accuracy_vader-movies"});
    const R::PlotJob &j = jobs[0];
    auto blocks = dat_blocks(j.data);
    REQUIRE(blocks.size() == 2);
    // (a): x label mean ci_lo ci_hi n lora_r. Two seeds 0.8, 0.9: sd 0.1/√2, se 0.05.
    REQUIRE(blocks[0].size() == 4);
    CHECK(blocks[0][0][0] == "0");
    CHECK(blocks[0][0][1] == "W_q (query)");
    check_stats(blocks[0][0], 2, 0.85, 0.85 - kT1 * 0.05, 0.85 + kT1 * 0.05, 2);
    check_num(blocks[0][0][6], 15);
    CHECK(blocks[0][1][1] == "W_k (key)");
    check_stats(blocks[0][1], 2, nan, nan, nan, 0);
    CHECK(blocks[0][2][1] == "W_v (value)");
    check_stats(blocks[0][2], 2, 0.7, nan, nan, 1);
    CHECK(blocks[0][3][1] == "W_f1 (intermediate.dense)");
    check_stats(blocks[0][3], 2, 0.75, nan, nan, 1);  // the NaN seed is not counted
    // (b): layers counted from 1. 0.6, 0.8: se 0.1.
    REQUIRE(blocks[1].size() == 4);
    CHECK(blocks[1][0][1] == "layers 1-2");
    check_stats(blocks[1][0], 2, 0.7, 0.7 - kT1 * 0.1, 0.7 + kT1 * 0.1, 2);
    CHECK(blocks[1][1][1] == "layer 3");
    CHECK(blocks[1][2][1] == "layers 1, 3");
    CHECK(blocks[1][3][1] == "layers 5-6");
    check_stats(blocks[1][3], 2, 0.7, nan, nan, 1);
    CHECK(has(j.body, "set multiplot layout 1,2"));
    CHECK(has(j.body, "'fig1_accuracy_vader-movies.dat' index 0 using 1:3:xtic(2) with boxes"));
    CHECK(has(j.body, "index 1 using 1:3:4:5 with yerrorbars"));
    CHECK(has(j.body, "set yrange [0:"));  // the lowest CI end is below 0
}

TEST_CASE("encoder plots: fig1 with one seed, one panel empty, no numbers, or no suite") {
    std::vector<R::PlotJob> jobs;
    S::fig1_plots(dataset({{"fig3", {}}}), jobs);
    CHECK(jobs.empty());
    // One seed each, matrix types only: no error bars, panel (b) says no data.
    S::fig1_plots(dataset({{"fig1", {fig1_cell({{"target_modules", "query"}}, 0, 0.8),
                                     fig1_cell({{"target_modules", "output.dense"}}, 0, 0.9)}}}),
                  jobs);
    REQUIRE(jobs.size() == 1);
    auto blocks = dat_blocks(jobs[0].data);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0][1][1] == "W_f2 (output.dense)");
    check_stats(blocks[0][1], 2, 0.9, NAN, NAN, 1);
    CHECK_FALSE(has(jobs[0].body, "yerrorbars"));
    CHECK(has(jobs[0].body, "'no data'"));
    // Only NaN accuracies: listed as skipped.
    jobs.clear();
    S::fig1_plots(dataset({{"fig1", {fig1_cell({{"layers_to_transform", "0,1"}}, 0, NAN)}}}), jobs);
    REQUIRE(jobs.size() == 1);
    CHECK(has(jobs[0].plot.skipped, "final_test_accuracy"));
}

namespace {

R::Cell acc_cell(const std::string &task, const json &key, long seed, double acc) {
    return make_cell(key, seed, {{"task", task}, {"method", key.value("method", "adalora")}, {"final_test_accuracy", acc}},
                     {{"target_r", 8}});  // the driver's default; the head alone has no budget all the same
}

R::Dataset table1_data() {
    const double nan = NAN;
    const std::string y = "sentiment-yelp", i = "sentiment-imdb";
    auto key = [](const std::string &task, const std::string &method, int init_r, int target_r) {
        json k = {{"method", method}, {"task", task}};
        if (init_r) k["init_r"] = init_r;
        if (target_r) k["target_r"] = target_r;
        return k;
    };
    std::vector<R::Cell> cells = {
        acc_cell(y, key(y, "adalora", 2, 1), 0, 0.8), acc_cell(y, key(y, "adalora", 2, 1), 1, 0.9),
        acc_cell(y, key(y, "adalora", 3, 2), 0, 0.85),
        acc_cell(i, key(i, "adalora", 6, 4), 0, nan),
        acc_cell(y, key(y, "lora", 0, 1), 0, 0.7), acc_cell(y, key(y, "lora", 0, 1), 1, 0.8),
        acc_cell(y, key(y, "lora", 0, 1), 2, 0.9),
        acc_cell(y, key(y, "lora", 0, 2), 0, nan),
        acc_cell(i, key(i, "lora", 0, 4), 0, 0.5),
        acc_cell(y, key(y, "head-only", 0, 0), 0, 0.6), acc_cell(y, key(y, "head-only", 0, 0), 1, 0.7),
    };
    return dataset({{"table1", cells}});
}

}  // namespace

TEST_CASE("encoder plots: accuracy against the budget, one line per method, the head alone a dashed line") {
    const double nan = NAN;
    std::vector<R::PlotJob> jobs;
    S::accuracy_budget_plots("table1", table1_data(), jobs);
    REQUIRE(names(jobs) == std::vector<std::string>{"table1_accuracy_sentiment-yelp", "table1_accuracy_sentiment-imdb"});
    const R::PlotJob &y = jobs[0];
    CHECK(y.plot.suite == "table1");
    auto blocks = dat_blocks(y.data);
    REQUIRE(blocks.size() == 3);
    // adalora: target_r 1 from 0.8, 0.9 (se 0.05); target_r 2 one seed.
    REQUIRE(blocks[0].size() == 2);
    check_num(blocks[0][0][0], 1);
    check_stats(blocks[0][0], 1, 0.85, 0.85 - kT1 * 0.05, 0.85 + kT1 * 0.05, 2);
    check_num(blocks[0][1][0], 2);
    check_stats(blocks[0][1], 1, 0.85, nan, nan, 1);
    // lora: 0.7, 0.8, 0.9 (sd 0.1, se 0.1/√3); its target_r 2 has only NaN: no row.
    REQUIRE(blocks[1].size() == 1);
    const double half = kT2 * 0.1 / std::sqrt(3.0);
    check_stats(blocks[1][0], 1, 0.8, 0.8 - half, 0.8 + half, 3);
    // The head alone: its mean at both ends of the x range (budgets 1..2, a factor 1.3 of margin).
    REQUIRE(blocks[2].size() == 2);
    check_num(blocks[2][0][0], 1 / 1.3);
    check_num(blocks[2][1][0], 2 * 1.3);
    check_stats(blocks[2][0], 1, 0.65, 0.65 - kT1 * 0.05, 0.65 + kT1 * 0.05, 2);
    CHECK(has(y.body, "set xtics (\"1\" 1, \"2\" 2)"));
    CHECK(has(y.body, "title \"adalora\""));
    CHECK(has(y.body, "title \"lora\""));
    CHECK(has(y.body, "'table1_accuracy_sentiment-yelp.dat' index 2 using 1:2 with lines dt 2 lw 2 lc 3 title "
                      "\"head-only (no budget)\""));
    CHECK(has(y.body, "with yerrorbars"));
    // imdb: adalora has only NaN (no block), lora one seed at 4: no error bars.
    blocks = dat_blocks(jobs[1].data);
    REQUIRE(blocks.size() == 1);
    check_num(blocks[0][0][0], 4);
    check_stats(blocks[0][0], 1, 0.5, nan, nan, 1);
    CHECK(has(jobs[1].body, "index 0 using ($1*"));
    CHECK(has(jobs[1].body, "title \"lora\""));
    CHECK_FALSE(has(jobs[1].body, "yerrorbars"));
    CHECK_FALSE(has(jobs[1].body, "head-only"));
}

TEST_CASE("encoder plots: a line is the variant without its budget: importance, gamma; no suite, no numbers") {
    auto cells = [](const std::string &extra_key, const json &extra_value) {
        json ablated = {{"method", "adalora"}, {"init_r", 2}, {"target_r", 1}, {extra_key, extra_value}};
        json paper = {{"method", "adalora"}, {"init_r", 2}, {"target_r", 1}};
        return std::vector<R::Cell>{acc_cell("sentiment-yelp", ablated, 0, 0.7), acc_cell("sentiment-yelp", paper, 0, 0.8),
                                    acc_cell("sentiment-yelp", {{"method", "lora"}, {"target_r", 1}}, 0, 0.75)};
    };
    std::vector<R::PlotJob> jobs;
    S::accuracy_budget_plots("table5-encoder", dataset({{"table5-encoder", cells("orth_reg_weight", 0.0)}}), jobs);
    S::accuracy_budget_plots("table4-encoder", dataset({{"table4-encoder", cells("importance", "sens")}}), jobs);
    REQUIRE(names(jobs) == std::vector<std::string>{"table5-encoder_accuracy_sentiment-yelp",
                                                    "table4-encoder_accuracy_sentiment-yelp"});
    CHECK(has(jobs[0].data, "# block 0, adalora orth_reg_weight=0: target_r"));
    CHECK(has(jobs[0].data, "# block 1, adalora: target_r"));
    CHECK(has(jobs[0].data, "# block 2, lora: target_r"));
    CHECK(has(jobs[0].body, "title \"adalora orth_reg_weight=0\""));
    CHECK(has(jobs[1].body, "title \"adalora importance=sens\""));
    check_stats(dat_blocks(jobs[1].data)[0][0], 1, 0.7, NAN, NAN, 1);

    jobs.clear();
    S::accuracy_budget_plots("table1", dataset({{"fig1", {}}}), jobs);
    CHECK(jobs.empty());
    // Only NaN, or only the head alone: listed as skipped.
    std::vector<R::Cell> no_budget = {acc_cell("sentiment-yelp", {{"method", "lora"}, {"target_r", 1}}, 0, NAN),
                                      acc_cell("sentiment-amazon", {{"method", "head-only"}}, 0, 0.6)};
    S::accuracy_budget_plots("table1", dataset({{"table1", no_budget}}), jobs);
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].plot.name == "table1_accuracy_sentiment-yelp");
    CHECK(jobs[1].plot.name == "table1_accuracy_sentiment-amazon");
    for (const auto &j : jobs) CHECK(has(j.plot.skipped, "no cell with a budget"));
}

TEST_CASE("encoder plots: gnuplot draws every plot (when it is installed)") {
    if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) return;
    const R::Dataset fig3 = fig3_data(), table1 = table1_data();
    std::vector<R::Cell> fig1_cells = {fig1_cell({{"target_modules", "query"}}, 0, 0.8),
                                       fig1_cell({{"target_modules", "query"}}, 1, 0.9),
                                       fig1_cell({{"layers_to_transform", "0,1"}}, 0, 0.7)};
    const R::Dataset fig1 = dataset({{"fig1", fig1_cells}});
    std::vector<R::PlotJob> jobs;
    S::fig3_plots(fig3, jobs);
    S::fig1_plots(fig1, jobs);
    S::accuracy_budget_plots("table1", table1, jobs);
    REQUIRE(jobs.size() == 6);
    test::TempDir t;
    for (const R::Plot &p : R::draw_plots(jobs, t.path.string(), "gnuplot")) {
        INFO(p.name << ": " << p.skipped);
        CHECK(p.skipped.empty());
        CHECK(std::filesystem::file_size(t.path / (p.name + ".png")) > 0);
    }
}

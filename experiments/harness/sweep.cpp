// sweep.cpp: suite files, the grid, and the resumable, shardable runner.
#include "harness/sweep.h"
#include "config/options.h"

#include <CLI/CLI.hpp>
#include <cblas.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "base/read_file.h"
#include "formats/adapter_file.h"
#include "train/run.h"
#include "config/toml_input.h"

namespace adalora {

namespace fs = std::filesystem;

namespace {

// Keys a suite may not set: the sweep owns them.
const std::vector<std::string> kSweepOwned = {"out", "config", "seed", "log", "help"};

nlohmann::json to_json(const toml::node &n, const std::string &key) {
    if (auto s = n.value_exact<std::string>()) return *s;
    if (auto i = n.value_exact<int64_t>()) return *i;
    if (auto d = n.value_exact<double>()) return *d;
    if (auto b = n.value_exact<bool>()) return *b;
    throw UsageError("suite: key '" + key + "' has an unsupported value (allowed: string, number, boolean)");
}

// A short, file-name-safe rendering of a value for cell ids.
std::string id_text(const nlohmann::json &v) {
    std::string s = v.is_number_float() ? [&] { char b[32]; std::snprintf(b, sizeof b, "%g", v.get<double>()); return std::string(b); }() : config_value_text(v, "value");
    for (char &c : s)
        if (!std::isalnum((unsigned char)c) && c != '.' && c != '-' && c != '+') c = '-';
    return s;
}

// A key the suite may set, with a value of its type (one value of an axis).
void check_key(CLI::App *train, const std::string &suite, const std::string &key, const nlohmann::json &value) {
    for (const auto &owned : kSweepOwned)
        if (key == owned) throw UsageError("suite " + suite + ": key '" + key + "' is set by the sweep, not the suite");
    const CLI::Option *opt = train->get_option_no_throw("--" + key);
    if (!opt)
        throw UsageError("suite " + suite + ": unknown key '" + key + "' (allowed: the train options, description, seeds, variants, [quick])");
    check_config_value(opt, key, value, "suite " + suite);
}

// Scalars into `fixed`, arrays into `axes`, inline tables of `variants`.
void read_table(const toml::table &t, SweepSuite &s, CLI::App *train, bool top) {
    for (auto &&[k, node] : t) {
        std::string key(k.str());
        if (top && key == "quick") {
            if (!node.is_table()) throw UsageError("suite " + s.name + ": 'quick' must be a table");
            continue;
        }
        if (key == "description") {
            s.description = node.value_or(std::string());
            continue;
        }
        if (key == "seeds") {
            auto v = node.value_exact<int64_t>();
            if (!v || *v < 1 || *v > 1000) throw UsageError("suite " + s.name + ": seeds must be an integer in 1..1000");
            s.seeds = (int)*v;
            continue;
        }
        if (key == "max_jobs") {
            auto v = node.value_exact<int64_t>();
            if (!v || *v < 1 || *v > 256) throw UsageError("suite " + s.name + ": max_jobs must be an integer in 1..256");
            s.max_jobs = (int)*v;
            continue;
        }
        if (key == "variants") {
            auto *arr = node.as_array();
            if (!arr || arr->empty()) throw UsageError("suite " + s.name + ": variants must be a non-empty array of inline tables");
            s.variants = nlohmann::json::array();
            for (auto &&item : *arr) {
                auto *vt = item.as_table();
                if (!vt) throw UsageError("suite " + s.name + ": variants: every entry must be an inline table");
                nlohmann::json v = nlohmann::json::object();
                for (auto &&[vk, vn] : *vt) {
                    const std::string vkey(vk.str());
                    v[vkey] = to_json(vn, vkey);
                    check_key(train, s.name, vkey, v[vkey]);
                }
                s.variants.push_back(v);
            }
            continue;
        }
        if (auto *arr = node.as_array()) {
            if (arr->empty()) throw UsageError("suite " + s.name + ": axis '" + key + "' is empty");
            nlohmann::json values = nlohmann::json::array();
            for (auto &&item : *arr) {
                values.push_back(to_json(item, key));
                check_key(train, s.name, key, values.back());
            }
            s.fixed.erase(key);
            s.axes[key] = values;
        } else if (node.is_table()) {
            throw UsageError("suite " + s.name + ": key '" + key + "' is a table (allowed: scalars, arrays, variants)");
        } else {
            s.axes.erase(key);
            s.fixed[key] = to_json(node, key);
            check_key(train, s.name, key, s.fixed[key]);
        }
    }
}

std::string suite_path(const std::string &arg) {
    if (arg.find('/') != std::string::npos || (arg.size() > 5 && arg.compare(arg.size() - 5, 5, ".toml") == 0)) return arg;
    return "experiments/suites/" + arg + ".toml";
}

// Parses key=value settings into a RunConfig through the train options, so a
// suite means exactly what the same --config would.
RunConfig config_of(const nlohmann::json &settings, const std::string &suite, const std::string &cell_id) {
    RunConfig cfg;
    CLI::App app;
    add_train_options(&app, cfg);
    std::vector<std::string> args;
    for (auto &[k, v] : settings.items()) args.push_back("--" + k + "=" + config_value_text(v, k));
    std::reverse(args.begin(), args.end());
    try {
        app.parse(args);
    } catch (const CLI::ParseError &e) {
        throw UsageError("suite " + suite + ", cell " + cell_id + ": " + e.what());
    }
    return cfg;
}

// The grid's size, variants x axes x seeds, saturated at UINT64_MAX.
uint64_t grid_size(const SweepSuite &s) {
    uint64_t n = std::max<uint64_t>(s.variants.size(), 1);
    auto times = [&n](uint64_t k) { n = k != 0 && n > UINT64_MAX / k ? UINT64_MAX : n * k; };
    for (auto &[k, v] : s.axes.items()) times(v.size());
    times((uint64_t)s.seeds);
    return n;
}

// Refuses a grid larger than the limit, naming its factors.
void check_grid_size(const SweepSuite &s, uint64_t limit) {
    if (s.n_cells <= limit) return;
    std::string factors = std::to_string(std::max<size_t>(s.variants.size(), 1)) + " variant(s)";
    for (auto &[k, v] : s.axes.items()) factors += " x " + std::to_string(v.size()) + " " + k;
    factors += " x " + std::to_string(s.seeds) + " seed(s)";
    const std::string count = s.n_cells == UINT64_MAX ? "more than 2^64" : std::to_string(s.n_cells);
    throw UsageError("suite " + s.name + ": " + count + " cells (" + factors + ") exceed --max-cells " +
                     std::to_string(limit) + " (raise --max-cells to run a grid this large)");
}

// Every cell's configuration is valid and every id distinct, checked one
// cell at a time before any cell runs.
void check_cells(const SweepSuite &s) {
    std::set<std::string> ids;
    for (uint64_t i = 0; i < s.n_cells; i++) {
        SuiteCell c = suite_cell(s, i);
        if (!ids.insert(c.id).second) throw UsageError("suite " + s.name + ": two cells share the id " + c.id);
    }
}

void parse_shard(const std::string &text, int *index, int *count) {
    int i = 0, n = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 1 || i > n)
        throw UsageError("--shard " + text + ": allowed i/N with 1 <= i <= N");
    *index = i;
    *count = n;
}

nlohmann::json suite_record(const SweepSuite &s) {
    return {{"suite", s.name}, {"description", s.description}, {"axes", s.axes}, {"fixed", s.fixed},
            {"variants", s.variants}, {"seeds", s.seeds}, {"max_jobs", s.max_jobs}, {"quick", s.quick}};
}

// suite.json is written once; a resumed sweep must describe the same grid.
void record_suite(const SweepSuite &s, const fs::path &dir) {
    fs::path path = dir / "suite.json";
    nlohmann::json rec = suite_record(s);
    if (fs::exists(path)) {
        const std::string text = read_file(path.string(), kTextFileLimit);
        nlohmann::json old;
        try { old = nlohmann::json::parse(text); } catch (...) { old = nullptr; }
        if (old != rec)
            throw UsageError(path.string() + " describes a different grid: the suite changed since this directory was started (use a new --out)");
        return;
    }
    fs::path tmp = path;
    tmp += ".tmp";
    {
        std::ofstream f(tmp);
        f << rec.dump(2) << "\n";
        if (!f) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, path);
}

}  // namespace

SweepSuite load_suite(const SweepArgs &args) {
    std::string path = suite_path(args.suite);
    if (!fs::is_regular_file(path)) throw UsageError("suite " + args.suite + ": cannot read " + path);
    SweepSuite s;
    s.name = fs::path(path).stem().string();
    s.quick = args.quick;
    s.out = args.out;
    const toml::table table = parse_toml_file(path, "suite " + path);
    RunConfig scratch;
    CLI::App train;
    add_train_options(&train, scratch);
    read_table(table, s, &train, true);
    if (args.quick)
        if (auto *q = table["quick"].as_table()) read_table(*q, s, &train, false);
    if (args.seeds > 0) s.seeds = args.seeds;
    if (s.variants.empty()) s.variants.push_back(nlohmann::json::object());
    s.n_cells = grid_size(s);
    check_grid_size(s, args.max_cells);
    check_cells(s);
    return s;
}

SuiteCell suite_cell(const SweepSuite &s, uint64_t i) {
    const int seed = (int)(i % (uint64_t)s.seeds);
    uint64_t rest = i / (uint64_t)s.seeds;
    std::vector<std::string> keys;  // nlohmann sorts object keys: the grid order is stable
    for (auto &[k, v] : s.axes.items()) keys.push_back(k);
    std::vector<size_t> index(keys.size(), 0);
    for (size_t a = keys.size(); a-- > 0;) {  // the last axis fastest
        const uint64_t n = s.axes[keys[a]].size();
        index[a] = (size_t)(rest % n);
        rest /= n;
    }
    const nlohmann::json &variant = s.variants[(size_t)rest];
    nlohmann::json settings = s.fixed, cell = nlohmann::json::object();
    std::string id;
    auto set = [&](const std::string &k, const nlohmann::json &v) {
        settings[k] = v;
        cell[k] = v;
        id += (id.empty() ? "" : "_") + k + "-" + id_text(v);
    };
    for (auto &[k, v] : variant.items()) set(k, v);
    for (size_t a = 0; a < keys.size(); a++) set(keys[a], s.axes[keys[a]][index[a]]);
    cell["seed"] = seed;
    id += (id.empty() ? "" : "_") + std::string("seed-") + std::to_string(seed);
    settings["seed"] = seed;
    SuiteCell c{id, cell, config_of(settings, s.name, id)};
    c.config.out = s.out + "/" + s.name + "/cells/" + id;
    c.config.log = "quiet";
    try {
        validate(c.config);
    } catch (const UsageError &e) {
        throw UsageError("suite " + s.name + ", cell " + id + ": " + e.what());
    }
    return c;
}

int run_sweep(const SweepArgs &args) {
    if (args.out.empty()) throw UsageError("--out is required: the directory of the sweep");
    if (args.jobs < 1 || args.jobs > 256) throw UsageError("--jobs " + std::to_string(args.jobs) + ": allowed 1..256");
    int shard, shards;
    parse_shard(args.shard, &shard, &shards);
    SweepSuite s = load_suite(args);
    fs::path cells_dir = fs::path(args.out) / s.name / "cells";
    std::error_code ec;
    fs::create_directories(cells_dir, ec);
    if (ec) throw UsageError("--out " + args.out + ": cannot create " + cells_dir.string() + ": " + ec.message());
    record_suite(s, fs::path(args.out) / s.name);

    const int jobs = s.max_jobs > 0 ? std::min(args.jobs, s.max_jobs) : args.jobs;
    std::vector<uint64_t> todo;  // this shard's missing cells, by index
    size_t done_before = 0;
    for (uint64_t i = (uint64_t)shard - 1; i < s.n_cells; i += (uint64_t)shards) {
        if (fs::exists(suite_cell(s, i).config.out)) done_before++;
        else todo.push_back(i);
    }
    std::fprintf(stderr, "sweep %s%s shard %d/%d: %zu cells, %zu already done, %zu to run with %d job(s)\n",
                 s.name.c_str(), s.quick ? " (quick)" : "", shard, shards, todo.size() + done_before, done_before,
                 todo.size(), jobs);
    // Parallel cells share the cores: one BLAS thread each.
    if (jobs > 1) openblas_set_num_threads(1);
    std::atomic<size_t> next{0};
    std::atomic<int> failed{0};
    std::mutex log_mutex;
    size_t finished = 0;
    auto worker = [&] {
        for (size_t i; (i = next++) < todo.size();) {
            const SuiteCell c = suite_cell(s, todo[i]);
            auto t0 = std::chrono::steady_clock::now();
            std::string error;
            try {
                RunOutput out = train_run(c.config, LogMode::quiet);
                out.summary["suite"] = s.name;
                out.summary["cell_id"] = c.id;
                out.summary["cell"] = c.cell;
                drop_base_tensors(out.adapter);  // the seed reproduces W0; a wide cell's would be huge
                write_run(c.config.out, out);
            } catch (const std::exception &e) {
                error = e.what();
                failed++;
            }
            double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::lock_guard<std::mutex> lock(log_mutex);
            finished++;
            if (error.empty()) std::fprintf(stderr, "[%zu/%zu] %s (%.1f s)\n", finished, todo.size(), c.id.c_str(), sec);
            else std::fprintf(stderr, "[%zu/%zu] %s FAILED: %s\n", finished, todo.size(), c.id.c_str(), error.c_str());
        }
    };
    std::vector<std::thread> pool;
    for (int j = 0; j < std::min<int>(jobs, (int)std::max<size_t>(todo.size(), 1)); j++) pool.emplace_back(worker);
    for (auto &t : pool) t.join();
    return failed;
}

}  // namespace adalora

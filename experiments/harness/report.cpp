// report.cpp: `adalora report`: loading and merging sweep directories, the
// metrics of each suite, the header and REPORT.md.
#include "harness/report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/read_file.h"
#include "train/machine.h"
#include "config/run_config.h"


namespace adalora::report {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- small helpers

namespace {

std::string strip_slash(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

std::string read_text(const fs::path &p) {
    return read_file(p.string(), kTextFileLimit, "report: ");
}

std::string first_line(const std::string &s) { return s.substr(0, s.find('\n')); }

template <class Json>
Json parse_json_file(const fs::path &p) {
    if (!fs::is_regular_file(p)) throw UsageError("report: " + p.string() + " is missing");
    try {
        return Json::parse(read_text(p));
    } catch (const nlohmann::json::parse_error &e) {
        throw UsageError("report: " + p.string() + ": malformed JSON: " + first_line(e.what()));
    }
}

std::vector<std::string> split(const std::string &s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    std::stringstream ss(s);
    while (std::getline(ss, cur, sep)) out.push_back(cur);
    if (!s.empty() && s.back() == sep) out.push_back("");
    return out;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
    size_t i = 0;
    while (i < s.size() && s[i] == ' ') i++;
    return s.substr(i);
}

double parse_number(const std::string &field, const fs::path &file, size_t line) {
    std::string f = trim(field);
    if (f.empty() || f == "nan" || f == "NaN" || f == "-nan") return NAN;
    char *end = nullptr;
    double v = std::strtod(f.c_str(), &end);
    if (end == f.c_str() || *end != '\0')
        throw UsageError("report: " + file.string() + " line " + std::to_string(line) + ": '" + f +
                         "' is not a number");
    return v;
}

CsvTable read_csv(const fs::path &p) {
    if (!fs::is_regular_file(p)) throw UsageError("report: " + p.string() + " is missing");
    std::stringstream ss(read_text(p));
    CsvTable t;
    std::string line;
    size_t n = 0;
    while (std::getline(ss, line)) {
        n++;
        line = trim(line);
        if (line.empty()) continue;
        auto fields = split(line, ',');
        if (t.columns.empty()) {
            for (auto &f : fields) t.columns.push_back(trim(f));
            continue;
        }
        if (fields.size() != t.columns.size())
            throw UsageError("report: " + p.string() + " line " + std::to_string(n) + ": " +
                             std::to_string(fields.size()) + " fields, the header has " +
                             std::to_string(t.columns.size()));
        std::vector<double> row;
        for (auto &f : fields) row.push_back(parse_number(f, p, n));
        t.rows.push_back(std::move(row));
    }
    if (t.columns.empty()) throw UsageError("report: " + p.string() + " is empty (no header)");
    return t;
}

std::vector<RankRow> read_ranks(const fs::path &p) {
    if (!fs::is_regular_file(p)) throw UsageError("report: " + p.string() + " is missing");
    std::stringstream ss(read_text(p));
    std::vector<RankRow> rows;
    std::string line;
    size_t n = 0;
    while (std::getline(ss, line)) {
        n++;
        line = trim(line);
        if (line.empty() || n == 1) continue;  // the header: step,module,kept_rank
        auto f = split(line, ',');
        if (f.size() != 3)
            throw UsageError("report: " + p.string() + " line " + std::to_string(n) + ": expected step,module,kept_rank");
        RankRow r;
        double step = parse_number(f[0], p, n), rank = parse_number(f[2], p, n);
        if (!std::isfinite(step) || !std::isfinite(rank))
            throw UsageError("report: " + p.string() + " line " + std::to_string(n) + ": step and kept_rank must be numbers");
        r.step = (long)step;
        r.module = trim(f[1]);
        r.rank = (int)rank;
        rows.push_back(r);
    }
    return rows;
}

const std::vector<std::string> kKnownSuites = {"allocation", "table4",   "table5", "svd-cost", "revival",
                                               "orthogonality", "schedule", "digits", "conventions"};

// Grid position of a value along one axis (the axis list's length when absent).
size_t axis_index(const nlohmann::json &values, const nlohmann::json &v) {
    if (!values.is_array()) return 0;
    for (size_t i = 0; i < values.size(); i++)
        if (values[i] == v) return i;
    return values.size();
}

// Index of the first entry of suite.json's "variants" whose keys the cell
// key carries with the same values (the list's length when none matches).
size_t variant_index(const nlohmann::json &variants, const nlohmann::json &key) {
    if (!variants.is_array()) return 0;
    for (size_t i = 0; i < variants.size(); i++) {
        if (!variants[i].is_object()) continue;
        bool match = true;
        for (auto &kv : variants[i].items()) match = match && key.contains(kv.key()) && key[kv.key()] == kv.value();
        if (match) return i;
    }
    return variants.size();
}

void build_variants(Suite &s) {
    s.variants.clear();
    for (const Cell &c : s.cells) {
        nlohmann::json key = c.cell();
        key.erase("seed");
        auto it = std::find_if(s.variants.begin(), s.variants.end(), [&](const Variant &v) { return v.key == key; });
        if (it == s.variants.end()) {
            s.variants.push_back(Variant{key, {}});
            it = s.variants.end() - 1;
        }
        it->cells.push_back(&c);
    }
    // Columns: the keys of suite.json's "variants" (in their order), then its
    // axes, then any other key the cells carry, by name.
    std::vector<std::string> cols;
    auto add = [&](const std::string &k) {
        if (k != "seed" && std::find(cols.begin(), cols.end(), k) == cols.end()) cols.push_back(k);
    };
    const nlohmann::json variants = s.meta.value("variants", nlohmann::json::array());
    if (variants.is_array())
        for (const auto &v : variants)
            if (v.is_object())
                for (auto &kv : v.items()) add(kv.key());
    for (const auto &a : s.axes) add(a);
    std::set<std::string> extra;
    for (const Variant &v : s.variants)
        for (auto &kv : v.key.items()) extra.insert(kv.key());
    for (const auto &k : extra) add(k);
    s.axes = cols;
    const nlohmann::json axes = s.meta.value("axes", nlohmann::json::object());
    auto position = [&](const Variant &v) {
        std::vector<size_t> pos{variant_index(variants, v.key)};
        for (const auto &a : s.axes)
            pos.push_back(v.key.contains(a) ? axis_index(axes.contains(a) ? axes[a] : nlohmann::json(), v.key[a])
                                            : (size_t)-1);
        return pos;
    };
    std::stable_sort(s.variants.begin(), s.variants.end(), [&](const Variant &a, const Variant &b) {
        auto pa = position(a), pb = position(b);
        if (pa != pb) return pa < pb;
        return a.key.dump() < b.key.dump();
    });
    for (Variant &v : s.variants)
        std::stable_sort(v.cells.begin(), v.cells.end(), [](const Cell *a, const Cell *b) {
            return a->seed != b->seed ? a->seed < b->seed : a->id < b->id;
        });
}

Cell read_cell(const fs::path &dir, const std::string &suite) {
    Cell c;
    c.id = dir.filename().string();
    c.dir = dir.string();
    c.summary = parse_json_file<nlohmann::json>(dir / "summary.json");
    if (!c.summary.is_object()) throw UsageError("report: " + (dir / "summary.json").string() + ": not a JSON object");
    if (!c.summary.contains("cell") || !c.summary["cell"].is_object())
        throw UsageError("report: " + (dir / "summary.json").string() + ": no \"cell\" object (not written by adalora sweep?)");
    if (c.summary.contains("suite") && c.summary["suite"].is_string() && c.summary["suite"] != suite)
        throw UsageError("report: " + (dir / "summary.json").string() + ": suite \"" +
                         c.summary["suite"].get<std::string>() + "\" in the directory of suite \"" + suite + "\"");
    if (!c.summary.contains("config") || !c.summary["config"].is_object()) c.summary["config"] = nlohmann::json::object();
    double seed = json_number(c.summary["cell"], "seed");
    if (std::isnan(seed)) seed = json_number(c.summary, "seed");
    c.seed = std::isnan(seed) ? 0 : (long)seed;
    c.metrics = read_csv(dir / "metrics.csv");
    c.ranks = read_ranks(dir / "ranks.csv");
    return c;
}

void load_suite_dir(const fs::path &sdir, const std::string &root, std::map<std::string, Suite> &suites,
                    std::map<std::string, std::map<std::string, size_t>> &index) {
    nlohmann::ordered_json ometa = parse_json_file<nlohmann::ordered_json>(sdir / "suite.json");
    if (!ometa.is_object()) throw UsageError("report: " + (sdir / "suite.json").string() + ": not a JSON object");
    std::string name = ometa.contains("suite") && ometa["suite"].is_string() ? ometa["suite"].get<std::string>()
                                                                              : sdir.filename().string();
    nlohmann::json meta = nlohmann::json::parse(ometa.dump());
    auto [it, fresh] = suites.try_emplace(name);
    Suite &s = it->second;
    if (fresh) {
        s.name = name;
        s.meta = meta;
        s.description = meta.contains("description") && meta["description"].is_string()
                            ? meta["description"].get<std::string>() : "";
        if (ometa.contains("axes") && ometa["axes"].is_object())
            for (auto &kv : ometa["axes"].items())
                if (kv.key() != "seed") s.axes.push_back(kv.key());
    } else {
        // Shards of one suite share its definition; only "seeds" may differ (the largest is kept).
        nlohmann::json a = s.meta, b = meta;
        a.erase("seeds");
        b.erase("seeds");
        if (a != b)
            throw UsageError("report: suite " + name + ": suite.json in " + root + " differs from the one in " +
                             s.sources.front());
        if (meta.contains("seeds") && (!s.meta.contains("seeds") || json_number(meta, "seeds") > json_number(s.meta, "seeds")))
            s.meta["seeds"] = meta["seeds"];
    }
    s.sources.push_back(root);
    fs::path cdir = sdir / "cells";
    if (!fs::is_directory(cdir)) return;
    std::vector<fs::path> cells;
    for (auto &e : fs::directory_iterator(cdir))
        if (e.is_directory() && e.path().filename().string().find(".tmp-") == std::string::npos) cells.push_back(e.path());
    std::sort(cells.begin(), cells.end());
    auto &ids = index[name];
    for (const auto &p : cells) {
        Cell c = read_cell(p, name);
        auto found = ids.find(c.id);
        if (found != ids.end()) {
            const Cell &old = s.cells[found->second];
            if (old.summary != c.summary)
                throw UsageError("report: cell " + name + "/" + c.id + " differs between " + old.dir + " and " + c.dir +
                                 " (summary.json)");
            continue;
        }
        ids[c.id] = s.cells.size();
        s.cells.push_back(std::move(c));
    }
}

}  // namespace

// ---------------------------------------------------------------- data model

int CsvTable::column(const std::string &name) const {
    for (size_t i = 0; i < columns.size(); i++)
        if (columns[i] == name) return (int)i;
    return -1;
}

std::vector<double> CsvTable::values(const std::string &name) const {
    std::vector<double> v;
    int c = column(name);
    if (c < 0) return v;
    for (const auto &r : rows) v.push_back(r[c]);
    return v;
}

std::string Cell::method() const {
    if (summary.contains("method") && summary["method"].is_string()) return summary["method"];
    return "";
}

std::string Cell::task() const {
    if (summary.contains("task") && summary["task"].is_string()) return summary["task"];
    return "";
}

std::vector<std::string> Cell::modules() const {
    std::vector<std::string> m;
    for (const auto &r : ranks)
        if (r.step == ranks.front().step) m.push_back(r.module);
    if (m.empty() && summary.contains("kept_rank") && summary["kept_rank"].is_object())
        for (auto &kv : summary["kept_rank"].items()) m.push_back(kv.key());
    return m;
}

std::vector<long> Cell::mask_steps() const {
    std::set<long> s;
    for (const auto &r : ranks)
        if (r.step > 0) s.insert(r.step);
    return {s.begin(), s.end()};
}

std::string Variant::label() const {
    std::string s;
    for (auto &kv : key.items()) s += (s.empty() ? "" : ", ") + kv.key() + "=" + json_text(kv.value());
    return s.empty() ? "(all)" : s;
}

long Suite::expected_cells() const {
    if (!meta.contains("axes") || !meta["axes"].is_object()) return 0;
    long n = 1;
    for (auto &kv : meta["axes"].items()) {
        if (kv.key() == "seed") continue;
        n *= kv.value().is_array() ? (long)kv.value().size() : 1;
    }
    if (meta.contains("variants") && meta["variants"].is_array() && !meta["variants"].empty())
        n *= (long)meta["variants"].size();
    double seeds = json_number(meta, "seeds");
    return std::isnan(seeds) ? 0 : n * (long)seeds;
}

const Suite *Dataset::find(const std::string &name) const {
    for (const auto &s : suites)
        if (s.name == name) return &s;
    return nullptr;
}

double json_number(const nlohmann::json &j, const std::string &path) {
    const nlohmann::json *cur = &j;
    for (const auto &part : split(path, '.')) {
        if (!cur->is_object() || !cur->contains(part)) return NAN;
        cur = &(*cur)[part];
    }
    if (cur->is_number()) return cur->get<double>();
    if (cur->is_boolean()) return cur->get<bool>() ? 1 : 0;
    return NAN;
}

double json_key_number(const nlohmann::json &obj, const std::string &key) {
    if (!obj.is_object() || !obj.contains(key)) return NAN;
    const auto &v = obj[key];
    if (v.is_number()) return v.get<double>();
    if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
    return NAN;
}

std::string json_text(const nlohmann::json &v) {
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

Dataset load_report_inputs(const std::vector<std::string> &dirs) {
    if (dirs.empty()) throw UsageError("report: give at least one sweep directory");
    Dataset d;
    std::map<std::string, Suite> suites;
    std::map<std::string, std::map<std::string, size_t>> index;
    for (const auto &raw : dirs) {
        const std::string root = strip_slash(raw);
        if (!fs::is_directory(root)) throw UsageError("report: " + root + ": no such directory");
        d.dirs.push_back(root);
        std::vector<fs::path> sdirs;
        if (fs::is_regular_file(fs::path(root) / "suite.json")) sdirs.push_back(root);  // DIR is one suite
        else
            for (auto &e : fs::directory_iterator(root))
                if (e.is_directory() && fs::is_regular_file(e.path() / "suite.json")) sdirs.push_back(e.path());
        if (sdirs.empty())
            throw UsageError("report: " + root + ": no suites found (expected " + root + "/<suite>/suite.json)");
        std::sort(sdirs.begin(), sdirs.end());
        for (const auto &p : sdirs) load_suite_dir(p, root, suites, index);
    }
    for (const auto &name : kKnownSuites) {
        auto it = suites.find(name);
        if (it == suites.end()) continue;
        d.suites.push_back(std::move(it->second));
        suites.erase(it);
    }
    for (auto &kv : suites) d.suites.push_back(std::move(kv.second));
    // Variants point into their suite's cells: build them once the suites sit still.
    for (auto &s : d.suites) build_variants(s);
    return d;
}

// ---------------------------------------------------------------- metrics

namespace {

double column_sum(const Cell &c, const std::string &col) {
    if (c.metrics.column(col) < 0) return NAN;
    double s = 0;
    for (double v : c.metrics.values(col))
        if (std::isfinite(v)) s += v;
    return s;
}

// The mean of the mask_jump column over the rows whose mask steps changed the
// mask (revived + pruned > 0; every finite row when those columns are absent):
// a warm-up mask step that keeps everything moves nothing and would dilute it.
double mean_mask_jump(const Cell &c) {
    auto jump = c.metrics.values("mask_jump"), rev = c.metrics.values("revived"), pr = c.metrics.values("pruned");
    const bool counts = !rev.empty() && !pr.empty();
    double s = 0;
    int n = 0;
    for (size_t i = 0; i < jump.size(); i++) {
        if (!std::isfinite(jump[i])) continue;
        if (counts && !(rev[i] + pr[i] > 0)) continue;
        s += jump[i];
        n++;
    }
    return n ? s / n : NAN;
}

// The last metrics row's value of a column (NaN when absent).
double final_value(const Cell &c, const std::string &col) {
    auto v = c.metrics.values(col);
    return v.empty() ? NAN : v.back();
}

// λ against the true singular values, per module with a kept triplet:
//   Σ_i |s·|λ|_(i) − σ_i| / Σ_i σ_i over its kept triplets (|λ| sorted
// descending, s = the run's recorded scale, else lora_alpha / r0), averaged over the
// modules, in percent. 0 when P and Q are exactly orthonormal.
double lambda_sigma_deviation(const Cell &c) {
    const auto &s = c.summary;
    if (!s.contains("adapters") || !s["adapters"].is_object()) return NAN;
    // The run's own scale s of Eq. 3; older summaries lack it: alpha / r0.
    double scale_recorded = s.contains("scale") && s["scale"].is_number() ? s["scale"].get<double>() : NAN;
    double alpha = json_number(c.config(), "lora_alpha");
    if (!std::isfinite(alpha) && !std::isfinite(scale_recorded)) return NAN;
    double total = 0;
    int modules = 0;
    for (auto &kv : s["adapters"].items()) {
        const auto &a = kv.value();
        if (!a.contains("lambda") || !a.contains("sigma") || !a["lambda"].is_array() || !a["sigma"].is_array()) continue;
        std::vector<double> lam, sig;
        for (auto &x : a["lambda"])
            if (x.is_number()) lam.push_back(x.get<double>());
        for (auto &x : a["sigma"])
            if (x.is_number()) sig.push_back(x.get<double>());
        if (lam.empty()) continue;
        const double scale = std::fabs(std::isfinite(scale_recorded) ? scale_recorded : alpha / (double)lam.size());
        std::vector<double> kept;
        for (double l : lam)
            if (l != 0) kept.push_back(scale * std::fabs(l));
        std::sort(kept.rbegin(), kept.rend());
        std::sort(sig.rbegin(), sig.rend());
        double num = 0, den = 0;
        for (size_t i = 0; i < kept.size() && i < sig.size(); i++) {
            num += std::fabs(kept[i] - sig[i]);
            den += sig[i];
        }
        if (kept.empty() || den <= 0) continue;
        total += num / den;
        modules++;
    }
    return modules ? 100.0 * total / modules : NAN;
}

double allocation_ms(const Cell &c) {
    double steps = (double)c.mask_steps().size();
    double alloc = json_number(c.summary, "time_ms.allocation"), svd = json_number(c.summary, "time_ms.svd");
    if (std::isnan(alloc) && std::isnan(svd)) return NAN;
    if (steps == 0) return NAN;
    return ((std::isnan(alloc) ? 0 : alloc) + (std::isnan(svd) ? 0 : svd)) / steps;
}

// Mean kept rank per module over the seeds: "name r, name r, ...".
std::string kept_ranks_text(const Variant &v) {
    if (v.cells.empty()) return "—";
    std::vector<std::string> mods = v.cells.front()->modules();
    std::string out;
    for (const auto &m : mods) {
        std::vector<double> r;
        for (const Cell *c : v.cells) r.push_back(json_key_number(c->summary["kept_rank"], m));
        Stats st = summarize(r);
        if (st.n == 0) continue;
        out += (out.empty() ? "" : ", ") + m + " " + format_number(st.mean, 3);
    }
    return out.empty() ? "—" : out;
}

Metric summary_metric(const std::string &key, const std::string &label, const std::string &path, int digits = 4) {
    Metric m;
    m.key = key;
    m.label = label;
    m.value = [path](const Cell &c) { return json_number(c.summary, path); };
    m.digits = digits;
    return m;
}

Metric cell_metric(const std::string &key, const std::string &label, std::function<double(const Cell &)> f,
                   int digits = 4) {
    Metric m;
    m.key = key;
    m.label = label;
    m.value = std::move(f);
    m.digits = digits;
    return m;
}

std::map<std::string, Metric> make_metrics() {
    std::map<std::string, Metric> all;
    auto add = [&](Metric m) { all[m.key] = std::move(m); };
    add(summary_metric("final_test_loss", "test loss", "final_test_loss"));
    add(summary_metric("final_train_loss", "train loss", "final_train_loss"));
    add(summary_metric("expected_test_loss", "expected test loss", "expected_test_loss"));
    add(summary_metric("gap_to_oracle", "gap to oracle", "gap_to_oracle"));
    add(summary_metric("allocation_error", "allocation error", "allocation_error"));
    add(summary_metric("modules_matching_oracle", "modules = oracle", "modules_matching_oracle"));
    add(summary_metric("trainable_params_final", "params (final)", "trainable_params_final", 5));
    add(summary_metric("ms_per_step", "ms/step", "ms_per_step"));
    add(summary_metric("final_test_accuracy", "test accuracy", "final_test_accuracy"));
    add(cell_metric("alloc_ms", "allocation ms (allocation + svd per mask step)", allocation_ms));
    add(cell_metric("importance_ms_per_step", "importance ms/step", [](const Cell &c) {
        double steps = json_number(c.summary, "steps");
        return steps > 0 ? json_number(c.summary, "time_ms.importance") / steps : NAN;
    }));
    add(cell_metric("mask_steps", "mask steps", [](const Cell &c) { return (double)c.mask_steps().size(); }));
    add(cell_metric("revived_total", "revived (total)", [](const Cell &c) { return column_sum(c, "revived"); }));
    add(cell_metric("pruned_total", "pruned (total)", [](const Cell &c) { return column_sum(c, "pruned"); }));
    add(cell_metric("final_orth_P", "final ‖PᵀP − I‖_F", [](const Cell &c) { return final_value(c, "orth_P"); }));
    add(cell_metric("final_orth_Q", "final ‖QQᵀ − I‖_F", [](const Cell &c) { return final_value(c, "orth_Q"); }));
    add(cell_metric("mean_mask_jump", "mean mask jump (mask-changing steps)", mean_mask_jump));
    add(cell_metric("lambda_sigma_dev", "λ vs σ deviation (%)", lambda_sigma_deviation, 3));
    Metric kept;
    kept.key = "kept_ranks";
    kept.label = "kept rank per module (mean)";
    kept.value = [](const Cell &) { return NAN; };
    kept.text = kept_ranks_text;
    add(kept);
    return all;
}

}  // namespace

const Metric &metric(const std::string &key) {
    static const std::map<std::string, Metric> all = make_metrics();
    return all.at(key);
}

std::vector<std::string> suite_metric_keys(const std::string &suite) {
    static const std::map<std::string, std::vector<std::string>> lists = {
        {"allocation", {"gap_to_oracle", "final_test_loss", "allocation_error", "modules_matching_oracle", "trainable_params_final"}},
        {"table4", {"final_test_loss", "gap_to_oracle", "trainable_params_final"}},
        {"table5", {"final_test_loss", "gap_to_oracle", "trainable_params_final"}},
        {"svd-cost", {"ms_per_step", "alloc_ms", "importance_ms_per_step", "mask_steps"}},
        {"revival", {"revived_total", "pruned_total", "final_test_loss", "gap_to_oracle"}},
        {"orthogonality", {"final_orth_P", "final_orth_Q", "mean_mask_jump", "lambda_sigma_dev", "final_test_loss", "gap_to_oracle"}},
        {"schedule", {"final_test_loss", "gap_to_oracle", "allocation_error"}},
        {"digits", {"final_test_accuracy", "final_test_loss", "trainable_params_final", "kept_ranks"}},
        {"conventions", {"gap_to_oracle", "final_test_loss", "allocation_error", "modules_matching_oracle"}},
    };
    auto it = lists.find(suite);
    if (it != lists.end()) return it->second;
    return {"final_test_loss", "gap_to_oracle", "final_test_accuracy", "ms_per_step"};
}

Stats variant_stats(const Variant &v, const Metric &m) {
    std::vector<double> xs;
    for (const Cell *c : v.cells) xs.push_back(m.value(*c));
    return summarize(xs);
}

// ---------------------------------------------------------------- header

namespace {

}  // namespace

std::vector<std::string> measured_header(const Dataset &data) {
    std::vector<std::string> h;
    const MachineInfo m = machine_info();
    h.push_back("machine: " + m.cpu + ", " + (m.cores ? std::to_string(m.cores) : std::string("unknown")) +
                " logical cores (where the report was built; each cell's summary.json records its own)");
    h.push_back("BLAS: " + m.blas + "; kernel " + m.blas_kernel);
    h.push_back("OPENBLAS_CORETYPE: " + (m.coretype.empty() ? std::string("not set") : m.coretype));
    h.push_back("commit: " + m.commit);
    char date[64];
    std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
    h.push_back(std::string("date: ") + date);
#ifdef ADA_DOUBLE
    std::string precision = "double";
#else
    std::string precision = "float";
#endif
    std::map<std::string, long> cell_prec;
    for (const auto &s : data.suites)
        for (const auto &c : s.cells)
            cell_prec[c.summary.contains("precision") && c.summary["precision"].is_string()
                          ? c.summary["precision"].get<std::string>() : "unrecorded"]++;
    std::string cells;
    for (auto &kv : cell_prec) cells += (cells.empty() ? "" : ", ") + kv.first + " (" + std::to_string(kv.second) + " cells)";
    h.push_back("precision: cells ran in " + (cells.empty() ? std::string("-") : cells) + "; this report was built by the " +
                precision + " driver");
    return h;
}

// ---------------------------------------------------------------- REPORT.md

namespace {

std::string md_escape(std::string s) {
    std::string out;
    for (char ch : s) {
        if (ch == '|') out += "\\|";
        else if (ch == '\n') out += ' ';
        else out += ch;
    }
    return out;
}

std::string values_text(const nlohmann::json &v) {
    if (!v.is_array()) return json_text(v);
    std::string s;
    for (auto &x : v) s += (s.empty() ? "" : ", ") + json_text(x);
    return s;
}

std::string suite_table(const Suite &s) {
    std::vector<const Metric *> cols;
    for (const auto &k : suite_metric_keys(s.name)) {
        const Metric &m = metric(k);
        bool any = false;
        for (const auto &v : s.variants) {
            if (m.text) any = any || m.text(v) != "—";
            else any = any || variant_stats(v, m).n > 0;
        }
        if (any) cols.push_back(&m);
    }
    std::ostringstream o;
    o << "|";
    for (const auto &a : s.axes) o << " " << md_escape(a) << " |";
    o << " n |";
    for (auto *m : cols) o << " " << md_escape(m->label) << " |";
    o << "\n|";
    for (size_t i = 0; i < s.axes.size() + 1 + cols.size(); i++) o << "---|";
    o << "\n";
    for (const auto &v : s.variants) {
        o << "|";
        for (const auto &a : s.axes) o << " " << (v.key.contains(a) ? md_escape(json_text(v.key[a])) : "") << " |";
        o << " " << v.cells.size() << " |";
        for (auto *m : cols) {
            if (m->text) {
                o << " " << md_escape(m->text(v)) << " |";
                continue;
            }
            Stats st = variant_stats(v, *m);
            std::string cell = format_stats(st, m->digits);
            if (st.n > 0 && st.n != (int)v.cells.size()) cell += " (n=" + std::to_string(st.n) + ")";
            o << " " << cell << " |";
        }
        o << "\n";
    }
    return o.str();
}

void plot_lines(std::ostringstream &o, const std::vector<Plot> &plots, const std::string &suite) {
    bool any = false;
    for (const auto &p : plots) {
        if (p.suite != suite) continue;
        if (!any) o << "\n### Plots\n\n";
        any = true;
        if (p.skipped.empty())
            o << "![" << p.title << "](" << p.png << ")\n\n*" << p.title << "* ([SVG](" << p.svg << "))\n\n";
        else
            o << "- " << p.title << ": skipped (" << p.skipped << ")\n\n";
    }
    if (any) o << "\n";
}

}  // namespace

std::string report_markdown(const Dataset &data, const std::vector<std::string> &header,
                            const std::vector<Plot> &plots) {
    std::ostringstream o;
    o << "# AdaLoRA experiment report\n\n";
    o << "Generated by `adalora report` from the sweep directories";
    for (const auto &d : data.dirs) o << " `" << d << "`";
    o << "; every number below is computed from their summary.json, metrics.csv and ranks.csv.\n\n";
    for (const auto &h : header) o << "- " << h << "\n";
    o << "\nEach table has one row per variant (the cell's settings without the seed); `n` is its number of "
         "seeds. A metric reads `mean ± std [95% CI]`: the mean over seeds, the sample standard deviation "
         "(n − 1) and the Student-t interval mean ± t(0.975, n − 1)·std/√n; with one seed std and CI are "
         "`n/a`. `—`: not measured for that variant.\n\n";
    o << "Suites:";
    for (size_t i = 0; i < data.suites.size(); i++) o << (i ? "," : "") << " [" << data.suites[i].name << "](#" << data.suites[i].name << ")";
    o << "\n\n";
    for (const auto &s : data.suites) {
        o << "## " << s.name << "\n\n";
        if (!s.description.empty()) o << s.description << "\n\n";
        const nlohmann::json axes = s.meta.value("axes", nlohmann::json::object());
        if (axes.is_object() && !axes.empty()) {
            o << "- axes (grid order):";
            bool first = true;
            for (const auto &a : s.axes)
                if (axes.contains(a)) {
                    o << (first ? " " : "; ") << "`" << a << "` ∈ {" << values_text(axes[a]) << "}";
                    first = false;
                }
            o << "\n";
        }
        const nlohmann::json variants = s.meta.value("variants", nlohmann::json::array());
        if (variants.is_array() && !variants.empty()) {
            o << "- variants:";
            for (size_t i = 0; i < variants.size(); i++) {
                std::string t;
                if (variants[i].is_object())
                    for (auto &kv : variants[i].items()) t += (t.empty() ? "" : ", ") + kv.key() + " = " + json_text(kv.value());
                o << (i ? "; " : " ") << "{" << t << "}";
            }
            o << "\n";
        }
        const nlohmann::json fixed = s.meta.value("fixed", nlohmann::json::object());
        if (fixed.is_object() && !fixed.empty()) {
            o << "- fixed:";
            bool first = true;
            for (auto &kv : fixed.items()) {
                o << (first ? " " : ", ") << "`" << kv.key() << "` = " << json_text(kv.value());
                first = false;
            }
            o << "\n";
        }
        double seeds = json_number(s.meta, "seeds");
        o << "- seeds per variant: " << (std::isnan(seeds) ? std::string("unknown") : format_number(seeds, 6));
        if (s.meta.contains("quick") && s.meta["quick"].is_boolean())
            o << "; " << (s.meta["quick"].get<bool>() ? "quick version" : "full version");
        o << "\n- finished cells: " << s.cells.size();
        long expected = s.expected_cells();
        if (expected > 0) {
            o << " of " << expected;
            if ((long)s.cells.size() < expected) o << " (**incomplete**: the missing cells are not in this report)";
        }
        o << ", from " << s.sources.size() << " director" << (s.sources.size() == 1 ? "y" : "ies") << "\n\n";
        if (s.cells.empty()) {
            o << "No finished cells.\n\n";
            continue;
        }
        o << suite_table(s) << "\n";
        o << "### Claims\n\n";
        for (const auto &c : suite_claims(s)) o << c << "\n";
        o << "\n";
        plot_lines(o, plots, s.name);
    }
    std::vector<const Plot *> skipped;
    for (const auto &p : plots)
        if (!p.skipped.empty()) skipped.push_back(&p);
    if (!skipped.empty()) {
        o << "## Skipped plots\n\n";
        for (const Plot *p : skipped) o << "- " << p->title << " (" << p->suite << "): " << p->skipped << "\n";
        o << "\n";
    }
    return o.str();
}

}  // namespace adalora::report

// ---------------------------------------------------------------- the command

namespace adalora {

using namespace report;

ReportResult write_report(const ReportOptions &opt) {
    if (opt.out.empty()) throw UsageError("report: --out REPORT_DIR is required");
    const fs::path out(strip_slash(opt.out));
    std::error_code ec;
    if (fs::exists(out, ec) && !fs::is_directory(out, ec))
        throw UsageError("report: --out " + opt.out + ": exists and is not a directory");
    if (!fs::exists(out, ec)) {
        fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
        if (!fs::is_directory(parent, ec))
            throw UsageError("report: --out " + opt.out + ": parent directory " + parent.string() + " does not exist");
        if (access(parent.c_str(), W_OK) != 0)
            throw UsageError("report: --out " + opt.out + ": parent directory " + parent.string() + " is not writable");
    } else if (access(out.c_str(), W_OK) != 0) {
        throw UsageError("report: --out " + opt.out + ": not writable");
    }
    Dataset data = load_report_inputs(opt.dirs);
    fs::create_directories(out / "plots", ec);
    if (ec) throw UsageError("report: --out " + opt.out + ": cannot create " + (out / "plots").string() + ": " + ec.message());
    std::vector<Plot> plots;
    if (opt.plots) plots = make_plots(data, (out / "plots").string(), opt.gnuplot);
    std::vector<std::string> header = opt.inject_header ? opt.header : measured_header(data);
    if (!opt.plots) header.push_back("plots: not drawn (--no-plots)");
    const std::string text = report_markdown(data, header, plots);
    const fs::path final_path = out / "REPORT.md";
    fs::path tmp = out / ("REPORT.md.tmp-" + std::to_string(getpid()));
    {
        std::ofstream f(tmp, std::ios::binary);
        f << text;
        f.flush();
        if (!f) {
            fs::remove(tmp, ec);
            throw UsageError("report: cannot write " + tmp.string());
        }
    }
    fs::rename(tmp, final_path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw UsageError("report: cannot rename " + tmp.string() + " to " + final_path.string());
    }
    ReportResult r;
    r.path = final_path.string();
    r.suites = (int)data.suites.size();
    for (const auto &s : data.suites) r.cells += (int)s.cells.size();
    for (const auto &p : plots) (p.skipped.empty() ? r.plots_drawn : r.plots_skipped)++;
    return r;
}

int cmd_report(const ReportOptions &opt) {
    ReportResult r = write_report(opt);
    std::printf("wrote %s: %d suites, %d cells, %d plots drawn, %d skipped\n", r.path.c_str(), r.suites, r.cells,
                r.plots_drawn, r.plots_skipped);
    return 0;
}

}  // namespace adalora

// dataset.cpp: loading and merging sweep directories (dataset.h).
#include "harness/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/errors.h"
#include "base/read_file.h"

namespace adalora::report {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- small helpers

std::string strip_slash(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

namespace {

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

Dataset load_report_inputs(const std::vector<std::string> &dirs, const std::vector<std::string> &order) {
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
    for (const auto &name : order) {
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

}  // namespace adalora::report

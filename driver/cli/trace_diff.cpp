// trace_diff.cpp: step-by-step comparison of two traces.
#include "cli/trace_diff.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/read_file.h"
#include "base/util.h"
#include "formats/npy.h"
#include "config/run_config.h"
#include "train/run_index.h"

namespace adalora {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Scalars that must agree exactly.
const std::set<std::string> kExactScalars = {"budget", "action", "kept", "phase", "schedule_step"};

struct Trace {
    fs::path dir;
    json index;
    std::map<long, const json *> steps;
};

Trace load_trace(const std::string &dir) {
    Trace t;
    t.dir = dir;
    const fs::path path = t.dir / "index.json";
    if (!fs::is_directory(t.dir)) throw UsageError("trace-diff: " + dir + " is not a directory");
    const std::string text = read_file(path.string(), kTextFileLimit, "trace-diff: ");
    try {
        t.index = json::parse(text);
    } catch (const json::parse_error &e) {
        throw UsageError(path.string() + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
    }
    if (!t.index.is_object() || t.index.value("format", "") != "adalora-trace" || !t.index.contains("steps") ||
        !t.index["steps"].is_array())
        throw UsageError(path.string() + ": not a trace index (needs \"format\": \"adalora-trace\" and a \"steps\" list)");
    for (const json &s : t.index["steps"]) {
        if (!s.is_object() || !s.contains("step") || !s["step"].is_number_integer() || !s.contains("tensors") ||
            !s["tensors"].is_object() || !s.contains("scalars") || !s["scalars"].is_object())
            throw UsageError(path.string() + ": a \"steps\" entry lacks an integer \"step\", \"tensors\" or \"scalars\" object");
        if (!t.steps.emplace(s["step"].get<long>(), &s).second)
            throw UsageError(path.string() + ": step " + std::to_string(s["step"].get<long>()) + " is listed twice");
    }
    return t;
}

std::string ranges_text(const std::map<long, const json *> &steps) {
    std::string s;
    auto it = steps.begin();
    while (it != steps.end()) {
        long a = it->first, b = a;
        while (++it != steps.end() && it->first == b + 1) b++;
        s += (s.empty() ? "" : ",") + std::to_string(a) + (b > a ? "-" + std::to_string(b) : "");
    }
    return s.empty() ? "none" : s;
}

NpyArray tensor_file(const Trace &t, const json &name, const std::string &what) {
    if (!name.is_string()) throw UsageError((t.dir / "index.json").string() + ": " + what + " is not a file name");
    const fs::path rel = name.get<std::string>();
    for (const auto &part : rel)
        if (part == "..") throw UsageError((t.dir / "index.json").string() + ": " + what + " leaves the trace directory");
    if (rel.is_absolute() || rel.empty())
        throw UsageError((t.dir / "index.json").string() + ": " + what + " is not a relative file name");
    return read_npy((t.dir / rel).string());
}

std::string number(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

// A JSON scalar as a double: null is NaN, "inf"/"-inf" infinite.
bool scalar_value(const json &j, double &v) {
    if (j.is_null()) { v = NAN; return true; }
    if (j.is_number()) { v = j.get<double>(); return true; }
    if (j == "inf") { v = INFINITY; return true; }
    if (j == "-inf") { v = -INFINITY; return true; }
    return false;
}

struct Deviation {
    double rel = 0, abs = 0;
    size_t at = 0;
};

// The relative metric of the header; an unmatched NaN or infinity gives rel = inf.
Deviation deviation(const std::vector<double> &a, const std::vector<double> &b) {
    Deviation d;
    double scale = 1e-300;
    bool mismatch = false;
    for (size_t i = 0; i < a.size(); i++) {
        const bool same_special = (std::isnan(a[i]) && std::isnan(b[i])) || (std::isinf(a[i]) && a[i] == b[i]);
        if (same_special) continue;
        if (!std::isfinite(a[i]) || !std::isfinite(b[i])) {
            if (!mismatch) d.at = i;
            mismatch = true;
            continue;
        }
        scale = std::max({scale, std::fabs(a[i]), std::fabs(b[i])});
        double diff = std::fabs(a[i] - b[i]);
        if (diff > d.abs) {
            d.abs = diff;
            if (!mismatch) d.at = i;
        }
    }
    d.rel = mismatch ? INFINITY : d.abs / scale;
    if (mismatch) d.abs = INFINITY;
    return d;
}

class Comparison {
public:
    Comparison(const TraceDiffArgs &args) : args_(args) {}

    void tensor(long step, const std::string &module, const std::string &kind, const NpyArray &a, const NpyArray &b) {
        if (a.shape != b.shape)
            throw UsageError("trace-diff: step " + std::to_string(step) + ", module " + module + ", tensor " + kind +
                             ": shapes differ, " + npy_shape_text(a.shape) + " vs " + npy_shape_text(b.shape));
        const std::vector<double> va = a.to_double(), vb = b.to_double();
        tensors_++;
        if (kind == "keep") {
            masks_++;
            for (size_t i = 0; i < va.size(); i++)
                if (va[i] != vb[i]) {
                    differ("step " + std::to_string(step) + ", module " + module + ", keep mask differs at triplet " +
                           std::to_string(i) + ": " + number(va[i]) + " vs " + number(vb[i]));
                    break;
                }
            return;
        }
        Deviation d = deviation(va, vb);
        note(kind, d.rel);
        if (!within(d))
            differ("step " + std::to_string(step) + ", module " + module + ", tensor " + kind +
                   ": relative difference " + number(d.rel) + " > rtol " + number(args_.rtol) + " (max |a-b| " +
                   number(d.abs) + " at flat index " + std::to_string(d.at) + ": " + number(va[d.at]) + " vs " +
                   number(vb[d.at]) + ")");
    }

    void scalar(long step, const std::string &key, const json &a, const json &b) {
        scalars_++;
        const std::string where = "step " + std::to_string(step) + ", scalar " + key + ": ";
        double va, vb;
        if (kExactScalars.count(key) || !scalar_value(a, va) || !scalar_value(b, vb)) {
            if (a != b) differ(where + a.dump() + " vs " + b.dump() + " (must match exactly)");
            return;
        }
        Deviation d = deviation({va}, {vb});
        note(key, d.rel);
        if (!within(d)) differ(where + a.dump() + " vs " + b.dump() + ", relative difference " + number(d.rel));
    }

    int finish(size_t steps) const {
        std::string largest;
        for (const auto &[kind, rel] : largest_) largest += (largest.empty() ? "" : ", ") + kind + " " + number(rel);
        std::printf("trace-diff: %zu steps, %zu tensors (%zu keep masks), %zu scalars compared; largest relative "
                    "difference per kind: %s; %s\n",
                    steps, tensors_, masks_, scalars_, largest.empty() ? "none" : largest.c_str(),
                    differences_ ? (std::to_string(differences_) + " beyond tolerance (rtol " + number(args_.rtol) +
                                    ", atol " + number(args_.atol) + ")").c_str()
                                 : ("equal within rtol " + number(args_.rtol) + ", atol " + number(args_.atol)).c_str());
        if (!args_.ignore.empty()) std::printf("trace-diff: not compared (--ignore): %s\n", args_.ignore.c_str());
        return differences_ ? 1 : 0;
    }

private:
    const TraceDiffArgs &args_;
    size_t tensors_ = 0, masks_ = 0, scalars_ = 0, differences_ = 0;
    std::map<std::string, double> largest_;

    bool within(const Deviation &d) const { return d.rel <= args_.rtol || d.abs <= args_.atol; }
    void note(const std::string &kind, double rel) { largest_[kind] = std::max(largest_[kind], rel); }
    void differ(const std::string &what) {
        if (differences_++ == 0) std::printf("trace-diff: first difference: %s\n", what.c_str());
    }
};

// The keys of two objects must agree, except the ignored ones; `what` names
// the place for the message.
void require_same_keys(const json &a, const json &b, const std::string &what, const std::set<std::string> &ignored) {
    for (auto &[k, v] : a.items())
        if (!b.contains(k) && !ignored.count(k)) throw UsageError("trace-diff: " + what + ": '" + k + "' is in A but not in B");
    for (auto &[k, v] : b.items())
        if (!a.contains(k) && !ignored.count(k)) throw UsageError("trace-diff: " + what + ": '" + k + "' is in B but not in A");
}

// --ignore: names of scalars or tensor kinds; the step's own structure
// (steps, modules, keep masks) cannot be ignored.
std::set<std::string> ignored_keys(const std::string &list) {
    std::set<std::string> keys;
    for (const std::string &k : split_list(list)) {
        if (k == "keep" || k == "budget" || k == "action" || k == "kept")
            throw UsageError("--ignore " + k + ": budgets, actions, kept counts and keep masks are always compared");
        keys.insert(k);
    }
    return keys;
}

}  // namespace

int cmd_trace_diff(const TraceDiffArgs &args) {
    if (!(args.rtol >= 0) || !std::isfinite(args.rtol)) throw UsageError("--rtol = " + number(args.rtol) + ": must be finite and >= 0");
    if (!(args.atol >= 0) || !std::isfinite(args.atol)) throw UsageError("--atol = " + number(args.atol) + ": must be finite and >= 0");
    const std::set<std::string> ignored = ignored_keys(args.ignore);
    const Trace a = load_trace(args.a), b = load_trace(args.b);
    if (a.steps.size() != b.steps.size() || !std::equal(a.steps.begin(), a.steps.end(), b.steps.begin(),
                                                        [](const auto &x, const auto &y) { return x.first == y.first; }))
        throw UsageError("trace-diff: the step sets differ: A has " + ranges_text(a.steps) + ", B has " +
                         ranges_text(b.steps));
    // A hint, not a verdict: the steps decide. Which program wrote a trace
    // ("producer") and the dump-only keys are not the run.
    json header_a = a.index, header_b = b.index;
    for (json *h : {&header_a, &header_b})
        for (const char *key : {"steps", "producer", "batches", "chains"}) h->erase(key);
    const std::string header_diff = json_first_difference(header_a, header_b);
    if (!header_diff.empty())
        std::fprintf(stderr, "trace-diff: note: the runs' index headers differ, first at '%s'\n", header_diff.c_str());
    Comparison cmp(args);
    try {
        // The structure first, so bad input is never reported as a difference.
        for (const auto &[step, entry_a] : a.steps) {
            const json &ea = *entry_a, &eb = *b.steps.at(step);
            const std::string at = "step " + std::to_string(step);
            require_same_keys(ea["scalars"], eb["scalars"], at + " scalars", ignored);
            require_same_keys(ea["tensors"], eb["tensors"], at + " modules", {});
            for (auto &[module, kinds] : ea["tensors"].items())
                require_same_keys(kinds, eb["tensors"][module], at + ", module " + module + " tensors", ignored);
        }
        for (const auto &[step, entry_a] : a.steps) {
            const json &ea = *entry_a, &eb = *b.steps.at(step);
            const std::string at = "step " + std::to_string(step);
            for (auto &[key, value] : ea["scalars"].items())
                if (!ignored.count(key)) cmp.scalar(step, key, value, eb["scalars"][key]);
            for (auto &[module, kinds] : ea["tensors"].items())
                for (auto &[kind, file] : kinds.items())
                    if (!ignored.count(kind)) cmp.tensor(step, module, kind, tensor_file(a, file, at + " " + module + "." + kind),
                               tensor_file(b, eb["tensors"][module][kind], at + " " + module + "." + kind));
        }
    } catch (const json::exception &e) {
        throw UsageError("trace-diff: malformed index: " + std::string(e.what()));
    }
    return cmp.finish(a.steps.size());
}

}  // namespace adalora

// schedule.cpp: the schedule suite (schedule.toml): the budget schedule's
// settings (warm-up, final phase, the interval between mask steps, ...):
// the best and the worst, and each axis with the others at their fixed value.
#include <algorithm>
#include <cmath>
#include <map>

#include "harness/paired.h"
#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

// A variant of one task with its mean loss.
using Means = std::vector<std::pair<const Variant *, double>>;

Means variant_means(const Suite &s, const std::string &task, const Loss &loss) {
    Means means;
    for (const auto &v : s.variants) {
        if (v.cells.empty() || v.cells.front()->task() != task) continue;
        std::vector<double> xs;
        for (const Cell *c : v.cells) xs.push_back(loss.value(*c));
        Stats st = summarize(xs);
        if (st.n == 0) continue;
        means.emplace_back(&v, st.mean);
    }
    return means;
}

// The best and the worst setting and the spread between them ("" when no
// setting has a mean below infinity).
std::string best_worst_line(const std::string &task, const Loss &loss, const Means &means) {
    const Variant *best = nullptr, *worst = nullptr;
    double bm = INFINITY, wm = -INFINITY;
    for (const auto &[v, m] : means) {
        if (m < bm) bm = m, best = v;
        if (m > wm) wm = m, worst = v;
    }
    if (!best) return "";
    return "- best schedule setting" + on_task(task) + " by " + loss.name + ": " + best->label() + " (" + num(bm) +
           "); worst: " + worst->label() + " (" + num(wm) + "); spread (worst − best)/best = " + pct(wm, bm) + " over " +
           std::to_string(means.size()) + " settings";
}

// A variant's value of an axis: its own, else its config's.
nlohmann::json effective(const Variant &v, const std::string &axis) {
    if (v.key.contains(axis)) return v.key[axis];
    const auto &cfg = v.cells.front()->config();
    return cfg.contains(axis) ? cfg[axis] : nlohmann::json();
}

// One axis' settings with every other axis at the suite's fixed value (one
// change at a time), or averaged over the axes not fixed; "" with fewer than two.
std::string axis_line(const Suite &s, const std::string &axis, const std::string &task, const Loss &loss,
                      const Means &means) {
    const nlohmann::json fixed = s.meta.value("fixed", nlohmann::json::object());
    std::vector<std::string> order;
    std::map<std::string, std::vector<double>> vals;
    for (const auto &[v, m] : means) {
        nlohmann::json value = effective(*v, axis);
        if (value.is_null()) continue;
        bool others_fixed = true;
        for (const auto &other : s.axes)
            if (other != axis && other != "task" && fixed.contains(other) && effective(*v, other) != fixed[other])
                others_fixed = false;
        if (!others_fixed) continue;
        std::string k = json_text(value);
        if (!vals.count(k)) order.push_back(k);
        vals[k].push_back(m);
    }
    if (order.size() < 2) return "";
    std::string t, bk;
    double b = INFINITY, w = -INFINITY;
    for (const auto &k : order) {
        double m = summarize(vals[k]).mean;
        t += (t.empty() ? "" : ", ") + k + ": " + num(m);
        if (m < b) b = m, bk = k;
        w = std::max(w, m);
    }
    return "- `" + axis + "`" + on_task(task) + ", the others at their fixed value (" + loss.name + "): " + t +
           "; best " + bk + ", range (worst − best)/best " + pct(w, b);
}

std::vector<std::string> schedule_claims(const Suite &s) {
    std::vector<std::string> out;
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        const Means means = variant_means(s, task, loss);
        const std::string best_worst = best_worst_line(task, loss, means);
        if (best_worst.empty()) {
            out.push_back("- best schedule setting" + on_task(task) + ": " + kNotMeasured);
            continue;
        }
        out.push_back(best_worst);
        for (const auto &axis : s.axes) {
            if (axis == "task") continue;
            std::string line = axis_line(s, axis, task, loss, means);
            if (!line.empty()) out.push_back(line);
        }
    }
    return out;
}

}  // namespace

SuiteDef schedule() {
    SuiteDef d;
    d.name = "schedule";
    d.metrics = standard_metrics({"final_test_loss", "gap_to_oracle", "allocation_error"});
    d.claims = schedule_claims;
    d.part = kSyntheticPart;
    return d;
}

namespace {

// The base schedule's name: the fixed value of every setting a variant
// changes ("tinit=15, tfinal=45, deltaT=5, init_r=3"), not just the first
// variant's own key. s.axes already lists the variants' keys, in order.
std::string base_schedule_text(const Suite &s) {
    const nlohmann::json fixed = s.meta.value("fixed", nlohmann::json::object());
    std::string text;
    for (const auto &k : s.axes)
        if (fixed.contains(k)) text += (text.empty() ? "" : ", ") + k + "=" + json_text(fixed[k]);
    return "the base schedule (" + text + ")";
}

// Each setting against the suite's first (the base schedule), by test
// accuracy paired by seed.
std::vector<std::string> schedule_encoder_claims(const Suite &s) {
    std::vector<std::string> out;
    std::vector<std::string> settings;
    for (const Cell *c : ordered_cells(s)) {
        const std::string v = variant_text(s, *c);
        if (std::find(settings.begin(), settings.end(), v) == settings.end()) settings.push_back(v);
    }
    if (settings.empty()) return {std::string("- each schedule setting against the base: ") + kNotMeasured};
    for (const auto &task : tasks_of(s))
        for (auto &line : against_reference(s, task, settings.front(), base_schedule_text(s), settings))
            out.push_back(std::move(line));
    return out;
}

}  // namespace

SuiteDef schedule_encoder() {
    SuiteDef d;
    d.name = "schedule-encoder";
    d.metrics = standard_metrics({"final_test_accuracy", "final_dev_accuracy", "trainable_params_final"});
    d.claims = schedule_encoder_claims;
    d.part = kEncoderPart;
    return d;
}

}  // namespace adalora::suites

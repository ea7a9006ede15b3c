// svd-cost.cpp: the svd-cost suite (svd-cost.toml): what the exact SVD of
// svd-proj costs against adalora's SVD-free parametrisation as the width d
// grows: time per step and per allocation, fitted log-log slopes, a plot.
#include <algorithm>
#include <cmath>
#include <map>

#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

// Allocation plus SVD time per mask step, in ms.
double allocation_ms(const Cell &c) {
    double steps = (double)c.mask_steps().size();
    double alloc = json_number(c.summary, "time_ms.allocation"), svd = json_number(c.summary, "time_ms.svd");
    if (std::isnan(alloc) && std::isnan(svd)) return NAN;
    if (steps == 0) return NAN;
    return ((std::isnan(alloc) ? 0 : alloc) + (std::isnan(svd) ? 0 : svd)) / steps;
}

double importance_ms_per_step(const Cell &c) {
    double steps = json_number(c.summary, "steps");
    return steps > 0 ? json_number(c.summary, "time_ms.importance") / steps : NAN;
}

// The three cost curves: svd-proj with the full SVD, with the QR-reduced one, adalora.
struct Series {
    std::string name;
    Pred pred;
};

const std::vector<Series> &cost_series() {
    static const std::vector<Series> series = {
        {"full", [](const Cell &c) { return c.method() == "svd-proj" && cfg_str(c, "svd") == "full"; }},
        {"qr", [](const Cell &c) { return c.method() == "svd-proj" && cfg_str(c, "svd", "qr") == "qr"; }},
        {"adalora", [](const Cell &c) { return c.method() == "adalora"; }},
    };
    return series;
}

const Key kWidth = [](const Cell &c) { return format_number(cfg_num(c, "width"), 8); };
const Value kAlloc = allocation_ms;
const Value kStep = [](const Cell &c) { return json_number(c.summary, "ms_per_step"); };

// Fitted log-log slopes against d of each series, and the widths' range.
struct Slopes {
    std::map<std::string, double> alloc, step;
    double lo = INFINITY, hi = 0;
};

// The mean of f per width of one series: d in x, the means in y.
void width_curve(const Suite &s, const Series &se, const Value &f, std::vector<double> &x, std::vector<double> &y) {
    x.clear();
    y.clear();
    for (const auto &[k, st] : grouped(s, se.pred, kWidth, f)) {
        x.push_back(std::stod(k));
        y.push_back(st.mean);
    }
}

Slopes fit_slopes(const Suite &s) {
    Slopes sl;
    for (const auto &se : cost_series()) {
        std::vector<double> x, y;
        width_curve(s, se, kAlloc, x, y);
        sl.alloc[se.name] = loglog_slope(x, y);
        for (double d : x) sl.lo = std::min(sl.lo, d), sl.hi = std::max(sl.hi, d);
        width_curve(s, se, kStep, x, y);
        sl.step[se.name] = loglog_slope(x, y);
    }
    return sl;
}

std::string slope_text(const std::map<std::string, double> &m) {
    std::string t;
    for (const std::string n : {"full", "qr", "adalora"})
        t += (t.empty() ? "" : ", ") + n + " ≈ " + (std::isnan(m.at(n)) ? std::string("n/a") : num(m.at(n), 3));
    return t;
}

void slope_claims(std::vector<std::string> &out, Slopes &sl) {
    const std::string range = sl.hi > 0 ? " (d = " + num(sl.lo, 6) + ".." + num(sl.hi, 6) + ")" : "";
    if (std::isnan(sl.alloc["full"]) || std::isnan(sl.alloc["qr"]))
        out.push_back(std::string("- full SVD allocation cost grows faster with d than qr's: ") + kNotMeasured +
                      " (needs svd-proj full and qr cells at two or more widths)");
    else
        out.push_back("- full SVD allocation cost grows faster with d than qr's: " +
                      yes_no(sl.alloc["full"] > sl.alloc["qr"]) +
                      " (fitted log-log slope of allocation ms per mask step against d: " + slope_text(sl.alloc) +
                      range + "; the paper's O(d1·d2·min(d1, d2)) is slope 3 for square matrices)");
    if (!std::isnan(sl.step["full"]) || !std::isnan(sl.step["adalora"]))
        out.push_back("- time per training step against d, fitted log-log slope: " + slope_text(sl.step) + range);
}

// The mean of f over one series' cells at width d (NaN when none).
double at_width(const Suite &s, const Series &se, const Value &f, double d) {
    const auto g = grouped(s, se.pred, kWidth, f);
    const Stats *st = find_group(g, format_number(d, 8));
    return st ? st->mean : NAN;
}

// At the largest d: a step of each against adalora's, and full against QR allocation.
void largest_width_claims(std::vector<std::string> &out, const Suite &s, double hi) {
    const auto &series = cost_series();
    double a = at_width(s, series[2], kStep, hi), f = at_width(s, series[0], kStep, hi),
           q = at_width(s, series[1], kStep, hi);
    if (std::isfinite(a) && (std::isfinite(f) || std::isfinite(q))) {
        std::string line = "- at d = " + num(hi, 6) + " a training step costs";
        if (std::isfinite(f)) line += " " + num(f / a, 3) + "× adalora's with full SVD (" + num(f) + " vs " + num(a) + " ms)";
        if (std::isfinite(f) && std::isfinite(q)) line += " and";
        if (std::isfinite(q)) line += " " + num(q / a, 3) + "× with the QR-reduced SVD (" + num(q) + " ms)";
        out.push_back(line);
    } else {
        out.push_back("- at d = " + num(hi, 6) + ", step cost of svd-proj against adalora: " + kNotMeasured +
                      " (needs adalora and svd-proj cells at that width)");
    }
    double aa = at_width(s, series[2], kAlloc, hi), fa = at_width(s, series[0], kAlloc, hi),
           qa = at_width(s, series[1], kAlloc, hi);
    if (std::isfinite(fa) && std::isfinite(qa))
        out.push_back("- exact SVD made cheap by QR at d = " + num(hi, 6) + ": " + yes_no(qa < fa) +
                      " (allocation ms per mask step: full " + num(fa) + ", qr " + num(qa) +
                      (std::isfinite(aa) ? ", adalora " + num(aa) : std::string()) + "; full/qr = " +
                      num(fa / qa, 3) + "×)");
}

std::vector<std::string> svd_cost_claims(const Suite &s) {
    std::vector<std::string> out;
    Slopes sl = fit_slopes(s);
    slope_claims(out, sl);
    if (sl.hi > 0) largest_width_claims(out, s, sl.hi);
    return out;
}

// ms/step and allocation ms per mask step against d, log-log.
void cost_plot(const Dataset &d, std::vector<PlotJob> &jobs) {
    const Suite *s = d.find("svd-cost");
    if (!s) return;
    PlotJob j;
    j.plot = {"svd-cost", "cost_vs_d", "Cost against width d (log-log, mean over seeds)", "", "", ""};
    // Series: the variant without its width; points: the width's mean.
    std::vector<std::string> order;
    std::map<std::string, std::map<double, std::pair<std::vector<double>, std::vector<double>>>> series;
    for (const auto &v : s->variants)
        for (const Cell *c : v.cells) {
            std::string label = label_without(v, {"width"});
            if (label.rfind("method=", 0) == 0) label = label.substr(7);
            double w = json_number(c->config(), "width");
            if (!std::isfinite(w)) continue;
            if (!series.count(label)) order.push_back(label);
            series[label][w].first.push_back(json_number(c->summary, "ms_per_step"));
            series[label][w].second.push_back(allocation_ms(*c));
        }
    std::ostringstream dat, p1, p2;
    int block = 0;
    for (const auto &label : order) {
        dat << "# " << label << ": width ms_per_step alloc_ms_per_mask_step\n";
        for (auto &[w, vals] : series[label])
            dat << gp_num(w) << " " << gp_num(summarize(vals.first).mean) << " " << gp_num(summarize(vals.second).mean) << "\n";
        dat << "\n\n";
        std::string t = gp_quote(label.empty() ? "run" : label);
        p1 << plot_series("cost_vs_d.dat", block, 2, "linespoints lw 2 pt 7", t);
        p2 << plot_series("cost_vs_d.dat", block, 3, "linespoints lw 2 pt 7", t);
        block++;
    }
    if (block == 0) return;
    std::ostringstream b;
    b << "set multiplot layout 1,2 title " << gp_quote(j.plot.title) << "\n";
    b << "set logscale xy\nset xlabel 'd (width)'\nset grid\nset key top left font ',9'\n";
    b << "set title 'time per training step'\nset ylabel 'ms / step'\nplot " << p1.str() << "\n";
    b << "set title 'time per allocation (allocation + SVD, per mask step)'\nset ylabel 'ms / mask step'\nplot " << p2.str()
      << "\n";
    b << "unset multiplot\n";
    push_job(jobs, j, dat, b, 1400, 600);
}

}  // namespace

SuiteDef svd_cost() {
    SuiteDef d;
    d.name = "svd-cost";
    d.metrics = standard_metrics({"ms_per_step"});
    d.metrics.push_back(cell_metric("alloc_ms", "allocation ms (allocation + svd per mask step)", allocation_ms));
    d.metrics.push_back(cell_metric("importance_ms_per_step", "importance ms/step", importance_ms_per_step));
    d.metrics.push_back(
        cell_metric("mask_steps", "mask steps", [](const Cell &c) { return (double)c.mask_steps().size(); }));
    d.claims = svd_cost_claims;
    d.plots = cost_plot;
    d.part = kSyntheticPart;
    return d;
}

}  // namespace adalora::suites

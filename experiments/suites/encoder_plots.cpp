// encoder_plots.cpp: the plots of the suites on the pretrained encoder
// (encoder_plots.h): Figure 3's rank map, Figure 1's bars, and test accuracy
// against the budget for Tables 1, 4 and 5.
#include "suites/encoder_plots.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <sstream>

#include "base/util.h"
#include "config/run_config.h"
#include "harness/claims.h"
#include "harness/report_stats.h"

namespace adalora::suites {

using namespace report;

namespace {

// The paper's names of the six matrix types, in kEncoderTargets' order.
const std::vector<std::string> kPaperTypes = {"W_q", "W_k", "W_v", "W_o", "W_f1", "W_f2"};

// "W_o (attention.output.dense)"; a name that is not a matrix type as it is.
std::string type_label(const std::string &ours) {
    auto it = std::find(kEncoderTargets.begin(), kEncoderTargets.end(), ours);
    if (it == kEncoderTargets.end()) return ours;
    return kPaperTypes[(size_t)(it - kEncoderTargets.begin())] + " (" + ours + ")";
}

// A number of a .dat file: NaN (not known) spelled as gnuplot reads it.
std::string dat_num(double v) { return std::isfinite(v) ? gp_num(v) : "NaN"; }

// "mean ci_lo ci_hi n" of a .dat row; mean NaN without values, the CI NaN below two.
std::string stats_columns(const Stats &st) {
    return dat_num(st.n ? st.mean : NAN) + " " + dat_num(st.spread() ? st.ci_lo : NAN) + " " +
           dat_num(st.spread() ? st.ci_hi : NAN) + " " + std::to_string(st.n);
}

double test_accuracy(const Cell &c) { return json_number(c.summary, "final_test_accuracy"); }

// The test accuracies of a variant's cells on one task (NaN included).
std::vector<double> accuracies(const Variant &v, const std::string &task) {
    std::vector<double> out;
    for (const Cell *c : v.cells)
        if (c->task() == task) out.push_back(test_accuracy(*c));
    return out;
}

// A plot that is not drawn, with the reason (listed under "Skipped plots").
void push_skipped(std::vector<PlotJob> &jobs, const std::string &suite, const std::string &name,
                  const std::string &title, const std::string &why) {
    PlotJob j;
    j.plot = {suite, name, title, "", "", why};
    jobs.push_back(j);
}

// The elements of a gnuplot `plot` command, one a line.
std::string plot_command(const std::vector<std::string> &elements) {
    std::string s = "plot ";
    for (size_t i = 0; i < elements.size(); i++) s += (i ? ", \\\n     " : "") + elements[i];
    return s + "\n";
}

// ---------------------------------------------------------------- Figure 3

// Final kept rank of one run, [type (kEncoderTargets' order)][layer]; NaN where not known.
using RankTable = std::vector<std::vector<double>>;

size_t layer_count(const RankTable &t) {
    size_t n = 0;
    for (const auto &row : t) n = std::max(n, row.size());
    return n;
}

// A cell's final kept rank of every (type, layer): its summary's
// kept_rank_by_layer ({type: [rank of layer 0, 1, ...]}), else kept_rank
// ({"L.type": rank}); no layers when it has neither.
RankTable kept_ranks(const Cell &c) {
    RankTable t(kEncoderTargets.size());
    auto put = [&](size_t type, size_t layer, double v) {
        if (t[type].size() <= layer) t[type].resize(layer + 1, NAN);
        t[type][layer] = v;
    };
    const nlohmann::json &s = c.summary;
    if (s.contains("kept_rank_by_layer") && s["kept_rank_by_layer"].is_object()) {
        const nlohmann::json &by = s["kept_rank_by_layer"];
        for (size_t type = 0; type < kEncoderTargets.size(); type++) {
            if (!by.contains(kEncoderTargets[type]) || !by[kEncoderTargets[type]].is_array()) continue;
            const nlohmann::json &ranks = by[kEncoderTargets[type]];
            for (size_t l = 0; l < ranks.size(); l++) put(type, l, ranks[l].is_number() ? ranks[l].get<double>() : NAN);
        }
    } else if (s.contains("kept_rank") && s["kept_rank"].is_object()) {
        for (auto &kv : s["kept_rank"].items()) {
            int layer = 0;
            size_t type = 0;
            if (split_encoder_module(kv.key(), &layer, &type))
                put(type, (size_t)layer, json_key_number(s["kept_rank"], kv.key()));
        }
    }
    return t;
}

// The mean over tables of every (type, layer), over the tables that have a
// number there (NaN where none has); as many layers as the largest table.
RankTable mean_table(const std::vector<RankTable> &tables) {
    size_t layers = 0;
    for (const auto &t : tables) layers = std::max(layers, layer_count(t));
    RankTable out(kEncoderTargets.size(), std::vector<double>(layers, NAN));
    for (size_t type = 0; type < out.size(); type++)
        for (size_t l = 0; l < layers; l++) {
            std::vector<double> xs;
            for (const auto &t : tables)
                if (l < t[type].size()) xs.push_back(t[type][l]);
            const Stats st = summarize(xs);
            if (st.n) out[type][l] = st.mean;
        }
    return out;
}

// The heat map: one row per matrix type (paper order, top down), one column
// per layer (1..L), the mean printed in each cell, colors 0..init_r.
PlotJob rank_map_job(const std::string &name, const std::string &title, const RankTable &m, double init_r) {
    const size_t layers = layer_count(m);
    PlotJob j;
    j.plot = {"fig3", name, title, "", "", ""};
    std::ostringstream dat, b;
    dat << "# " << title << "\n# block 0: the mean kept rank, one row per matrix type (";
    for (size_t t = 0; t < m.size(); t++) dat << (t ? ", " : "") << type_label(kEncoderTargets[t]);
    dat << "), one column per layer 1.." << layers << " (NaN: no run has it)\n";
    for (const auto &row : m) {
        for (size_t l = 0; l < layers; l++) dat << (l ? " " : "") << dat_num(row[l]);
        dat << "\n";
    }
    dat << "\n\n# block 1: the printed values: column row text\n";
    for (size_t t = 0; t < m.size(); t++)
        for (size_t l = 0; l < layers; l++)
            dat << l << " " << t << " \"" << (std::isfinite(m[t][l]) ? format_number(m[t][l], 3) : "n/a") << "\"\n";
    b << "set title " << gp_quote(title) << "\n";
    b << "set xlabel 'layer'\nset ylabel 'matrix type'\n";
    b << "set cbrange [0:" << gp_num(init_r) << "]\nset cblabel 'final kept rank (mean)'\n";
    b << "set palette defined (0 '#f7fbff', 1 '#c6dbef', 2 '#6baed6', 3 '#2b7bba')\n";
    b << "set xrange [-0.5:" << gp_num(layers - 0.5) << "]\nset yrange [" << gp_num(m.size() - 0.5) << ":-0.5]\n";
    b << "set xtics (";
    for (size_t l = 0; l < layers; l++) b << (l ? ", " : "") << gp_quote(std::to_string(l + 1)) << " " << l;
    b << ")\nset ytics (";
    for (size_t t = 0; t < m.size(); t++) b << (t ? ", " : "") << gp_quote(type_label(kEncoderTargets[t])) << " " << t;
    b << ")\nset tics out\nunset key\nset rmargin 14\n";
    b << plot_command({"'" + name + ".dat' index 0 matrix with image notitle",
                       "'' index 1 using 1:2:3 with labels font ',11' notitle"});
    j.data = dat.str();
    j.body = b.str();
    j.width = std::max(1000, 400 + 100 * (int)layers);
    j.height = 520;
    return j;
}

// ---------------------------------------------------------------- Figure 1

// "layers 1-2" for "0,1" (the paper counts layers from 1), "layer 3" for
// "2", "layers 1, 3" when not consecutive; the text itself when it is not
// a list of layer numbers.
std::string layers_label(const std::string &list) {
    std::vector<long> ls;
    for (const std::string &item : split_list(list)) {
        if (item.empty() || item.size() > 6 ||
            !std::all_of(item.begin(), item.end(), [](unsigned char ch) { return std::isdigit(ch); }))
            return "layers " + list;
        ls.push_back(std::stol(item) + 1);
    }
    if (ls.empty()) return "layers " + list;
    if (ls.size() == 1) return "layer " + std::to_string(ls[0]);
    bool run = true;
    for (size_t i = 1; i < ls.size(); i++) run = run && ls[i] == ls[i - 1] + 1;
    if (run) return "layers " + std::to_string(ls.front()) + "-" + std::to_string(ls.back());
    std::vector<std::string> items;
    for (long l : ls) items.push_back(std::to_string(l));
    return "layers " + join(items, ", ");
}

// "W_q (query)", or several joined by " + ".
std::string targets_label(const std::string &list) {
    std::vector<std::string> items;
    for (const std::string &item : split_list(list)) items.push_back(type_label(item));
    return items.empty() ? list : join(items, " + ");
}

struct Bar {
    std::string label;
    double lora_r = NAN;
    Stats acc;
};

// One panel's bars: the next .dat block (`block`, counted on when written;
// gnuplot does not count a block without rows) and the panel's plot command.
void bars_panel(std::ostringstream &dat, std::ostringstream &b, const std::string &name, int &block,
                const std::string &title, const std::vector<Bar> &bars) {
    b << "set title " << gp_quote(title) << "\n";
    if (std::none_of(bars.begin(), bars.end(), [](const Bar &x) { return x.acc.n > 0; })) {
        b << "set label 1 'no data' at graph 0.5, 0.5 center\nplot [0:1] NaN notitle\nunset label 1\n";
        return;
    }
    dat << "# block " << block << ", " << title << ": x label mean ci_lo ci_hi n lora_r\n";
    bool spread = false;
    for (size_t i = 0; i < bars.size(); i++) {
        dat << i << " " << gp_quote(bars[i].label) << " " << stats_columns(bars[i].acc) << " " << dat_num(bars[i].lora_r)
            << "\n";
        spread = spread || bars[i].acc.spread();
    }
    dat << "\n\n";
    b << "set xrange [-0.6:" << gp_num(bars.size() - 0.4) << "]\n";
    const std::string idx = " index " + std::to_string(block++);
    std::vector<std::string> el = {"'" + name + ".dat'" + idx + " using 1:3:xtic(2) with boxes lc rgb '#4a90c2' notitle"};
    if (spread) el.push_back("''" + idx + " using 1:3:4:5 with yerrorbars lc rgb '#222222' pt 7 ps 0.5 notitle");
    b << plot_command(el);
}

// A y range around the finite means and CI ends, never below 0.
std::string accuracy_yrange(const std::vector<Stats> &all) {
    double lo = INFINITY, hi = -INFINITY;
    for (const Stats &st : all) {
        if (!st.n) continue;
        lo = std::min(lo, st.spread() ? st.ci_lo : st.mean);
        hi = std::max(hi, st.spread() ? st.ci_hi : st.mean);
    }
    if (!std::isfinite(lo) || !std::isfinite(hi)) return "set yrange [*:*]\n";
    const double pad = hi > lo ? 0.15 * (hi - lo) : 0.05;
    return "set yrange [" + gp_num(std::max(0.0, lo - pad)) + ":" + gp_num(hi + pad) + "]\n";
}

// ---------------------------------------------------------------- Tables 1, 4, 5

// A variant's line: the cells' method, then the variant's other keys but the
// budget's and the task ("adalora importance=sens"); numbers as %g.
std::string line_label(const Variant &v) {
    std::string s = v.cells.empty() || v.cells[0]->method().empty() ? "run" : v.cells[0]->method();
    for (auto &kv : v.key.items()) {
        if (kv.key() == "method" || kv.key() == "task" || kv.key() == "target_r" || kv.key() == "init_r") continue;
        s += " " + kv.key() + "=" +
             (kv.value().is_number() ? format_number(kv.value().get<double>(), 6) : json_text(kv.value()));
    }
    return s;
}

// A cell's budget, the final average rank per matrix (target_r); NaN for
// the head alone or a cell without one.
double budget(const Cell &c) {
    if (c.method() == "head-only") return NAN;
    const double r = cfg_num(c, "target_r");
    return std::isfinite(r) && r > 0 ? r : NAN;
}

struct Line {
    std::string label;
    std::map<double, std::vector<double>> points;  // budget -> accuracies
    std::vector<double> flat;                      // cells without a budget
};

}  // namespace

void fig3_plots(const Dataset &data, std::vector<PlotJob> &jobs) {
    const Suite *s = data.find("fig3");
    if (!s) return;
    double init_r = NAN, top = 1;
    for (const Cell *c : ordered_cells(*s)) {
        const double r = cfg_num(*c, "init_r");
        if (std::isfinite(r) && (std::isnan(init_r) || r > init_r)) init_r = r;
    }
    std::vector<RankTable> task_means;
    std::vector<std::pair<std::string, std::string>> names;  // name, title
    for (const std::string &task : tasks_of(*s)) {
        std::vector<RankTable> runs;
        for (const Cell *c : ordered_cells(*s))
            if (c->task() == task) {
                RankTable t = kept_ranks(*c);
                if (layer_count(t)) runs.push_back(t);
            }
        const std::string name = "fig3_rank_map_" + task;
        const std::string title = "Final kept rank per matrix type and layer on " + task + " (fig3, mean over " +
                                  std::to_string(runs.size()) + " run" + (runs.size() == 1 ? "" : "s") + ")";
        if (runs.empty()) {
            push_skipped(jobs, "fig3", name, title,
                         "no kept_rank_by_layer or kept_rank of the encoder's matrices in summary.json");
            continue;
        }
        task_means.push_back(mean_table(runs));
        names.emplace_back(name, title);
    }
    if (task_means.size() >= 2) {
        task_means.push_back(mean_table(task_means));
        names.emplace_back("fig3_rank_map_all", "Final kept rank per matrix type and layer, mean over the " +
                                                    std::to_string(task_means.size() - 1) +
                                                    " tasks of fig3 (each the mean over its seeds)");
    }
    for (const auto &m : task_means)
        for (const auto &row : m)
            for (double v : row)
                if (std::isfinite(v)) top = std::max(top, std::ceil(v));
    if (!std::isfinite(init_r)) init_r = top;
    for (size_t i = 0; i < task_means.size(); i++)
        jobs.push_back(rank_map_job(names[i].first, names[i].second, task_means[i], init_r));
}

void fig1_plots(const Dataset &data, std::vector<PlotJob> &jobs) {
    const Suite *s = data.find("fig1");
    if (!s) return;
    for (const std::string &task : tasks_of(*s)) {
        std::vector<Bar> types, groups;
        std::vector<Stats> all;
        for (const Variant &v : s->variants) {
            const std::vector<double> acc = accuracies(v, task);
            if (acc.empty()) continue;
            Bar bar;
            bar.acc = summarize(acc);
            bar.lora_r = json_number(v.key, "lora_r");
            if (v.key.contains("target_modules")) {
                bar.label = targets_label(json_text(v.key["target_modules"]));
                types.push_back(bar);
            } else if (v.key.contains("layers_to_transform")) {
                bar.label = layers_label(json_text(v.key["layers_to_transform"]));
                groups.push_back(bar);
            } else {
                continue;
            }
            all.push_back(bar.acc);
        }
        const std::string name = "fig1_accuracy_" + task;
        const std::string title = "Test accuracy with one part of the model adapted, at one budget, on " + task +
                                  " (fig1, mean over seeds, 95% CI)";
        if (all.empty()) continue;
        if (std::none_of(all.begin(), all.end(), [](const Stats &st) { return st.n > 0; })) {
            push_skipped(jobs, "fig1", name, title, "no finite final_test_accuracy");
            continue;
        }
        PlotJob j;
        j.plot = {"fig1", name, title, "", "", ""};
        std::ostringstream dat, b;
        b << "set multiplot layout 1,2 title " << gp_quote(title) << "\n";
        b << "set style fill solid 0.85 border -1\nset boxwidth 0.7\nset ylabel 'test accuracy'\nset grid ytics\n";
        b << "set xtics rotate by 25 right font ',9'\nunset key\n" << accuracy_yrange(all);
        int block = 0;
        bars_panel(dat, b, name, block, "(a) one matrix type alone, every layer", types);
        bars_panel(dat, b, name, block, "(b) all six matrices of one layer group alone", groups);
        b << "unset multiplot\n";
        push_job(jobs, j, dat, b, 1400, 620);
    }
}


namespace {

// The job of one task: the lines' .dat blocks (a line without a number
// writes none) and the plot; xs: the budgets with a number, ascending.
void budget_job(std::vector<PlotJob> &jobs, const std::string &suite, const std::string &name, const std::string &title,
                const std::vector<Line> &lines, const std::vector<double> &xs, const std::vector<Stats> &all) {
    const double x_lo = xs.front() / 1.3, x_hi = xs.back() * 1.3;  // the x range, a margin each side
    PlotJob j;
    j.plot = {suite, name, title, "", "", ""};
    std::ostringstream dat, b;
    std::vector<std::string> el;
    int block = 0;
    auto source = [&](int blk) { return "'" + name + ".dat' index " + std::to_string(blk); };
    const int n_lines = (int)lines.size();
    for (int k = 0; k < n_lines; k++) {
        const Line &l = lines[k];
        const std::string lc = " lc " + std::to_string(k + 1);
        std::ostringstream rows;
        bool spread = false;
        for (const auto &[x, acc] : l.points) {
            const Stats st = summarize(acc);
            if (!st.n) continue;
            rows << gp_num(x) << " " << stats_columns(st) << "\n";
            spread = spread || st.spread();
        }
        if (!rows.str().empty()) {
            dat << "# block " << block << ", " << l.label << ": target_r mean ci_lo ci_hi n\n" << rows.str() << "\n\n";
            // Each line a little apart on the log axis, so the error bars do not hide each other.
            const std::string x = "($1*" + gp_num(std::pow(2.0, 0.03 * (k - (n_lines - 1) / 2.0))) + ")";
            // The error bars first: the line's points are drawn over theirs.
            if (spread) el.push_back(source(block) + " using " + x + ":2:3:4 with yerrorbars pt 7" + lc + " notitle");
            el.push_back(source(block) + " using " + x + ":2 with linespoints lw 2 pt 7" + lc + " title " +
                         gp_quote(l.label));
            block++;
        }
        const Stats flat = summarize(l.flat);
        if (flat.n) {
            dat << "# block " << block << ", " << l.label
                << " (no budget): its mean at both ends of the x range: target_r mean ci_lo ci_hi n\n";
            dat << gp_num(x_lo) << " " << stats_columns(flat) << "\n" << gp_num(x_hi) << " " << stats_columns(flat)
                << "\n\n\n";
            el.push_back(source(block) + " using 1:2 with lines dt 2 lw 2" + lc + " title " +
                         gp_quote(l.label + " (no budget)"));
            block++;
        }
    }
    b << "set title " << gp_quote(title) << "\n";
    b << "set logscale x 2\nset xrange [" << gp_num(x_lo) << ":" << gp_num(x_hi) << "]\n";
    b << "set xtics (";
    for (size_t i = 0; i < xs.size(); i++)
        b << (i ? ", " : "") << gp_quote(format_number(xs[i], 6)) << " " << gp_num(xs[i]);
    b << ")\nset xlabel 'budget: final average rank per matrix (target_r)'\nset ylabel 'test accuracy'\n";
    b << accuracy_yrange(all) << "set grid\nset key outside right top font ',9'\n";
    b << plot_command(el);
    push_job(jobs, j, dat, b, 1200, 600);
}

}  // namespace

void accuracy_budget_plots(const std::string &suite, const Dataset &data, std::vector<PlotJob> &jobs) {
    const Suite *s = data.find(suite);
    if (!s) return;
    for (const std::string &task : tasks_of(*s)) {
        std::vector<Line> lines;
        for (const Variant &v : s->variants) {
            const std::string label = line_label(v);
            auto it = std::find_if(lines.begin(), lines.end(), [&](const Line &l) { return l.label == label; });
            for (const Cell *c : v.cells) {
                if (c->task() != task) continue;
                if (it == lines.end()) {
                    lines.push_back(Line{label, {}, {}});
                    it = lines.end() - 1;
                }
                const double x = budget(*c);
                (std::isfinite(x) ? it->points[x] : it->flat).push_back(test_accuracy(*c));
            }
        }
        std::vector<double> xs;
        std::vector<Stats> all;
        for (const Line &l : lines) {
            for (const auto &[x, acc] : l.points) {
                const Stats st = summarize(acc);
                if (st.n && std::find(xs.begin(), xs.end(), x) == xs.end()) xs.push_back(x);
                all.push_back(st);
            }
            all.push_back(summarize(l.flat));
        }
        std::sort(xs.begin(), xs.end());
        const std::string name = suite + "_accuracy_" + task;
        const std::string title = "Test accuracy against the budget on " + task + " (" + suite +
                                  ", mean over seeds, 95% CI)";
        if (xs.empty())
            push_skipped(jobs, suite, name, title, "no cell with a budget (target_r) and a finite final_test_accuracy");
        else
            budget_job(jobs, suite, name, title, lines, xs, all);
    }
}

}  // namespace adalora::suites

// report_plots.cpp: the report's plots, drawn by gnuplot (Debian's
// gnuplot-nox). Each plot leaves NAME.dat (its numbers), NAME.gp (the script)
// and, when gnuplot runs, NAME.png (pngcairo) and NAME.svg in plots/; a plot
// that cannot be drawn is listed with the reason.
//
//   rank_heatmap       kept rank per module (rows) at step 0 and every mask step (columns)
//                      of the first adalora cell of the allocation suite
//   allocation_bars    that run's final kept ranks against the planted and the oracle ranks
//   loss_<task>        task_loss against step, mean over seeds, one line per method,
//                      one panel per budget (allocation suite)
//   cost_vs_d          ms/step and allocation ms per mask step against d, log-log (svd-cost)
//   orthogonality      mean ‖PᵀP − I‖_F and ‖QQᵀ − I‖_F against step, one line per γ
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/run_config.h"
#include "harness/report.h"

namespace adalora::report {

namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string &s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// A string for a gnuplot script (double quotes, backslash escapes).
std::string gp_quote(const std::string &s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}



std::string num(double v) {
    char b[40];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}

// Runs a shell command; returns its exit status and its output (stdout + stderr).
int run_command(const std::string &cmd, std::string &output) {
    output.clear();
    FILE *p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return -1;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) output += buf;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string first_line(const std::string &s) {
    std::string l = s.substr(0, s.find('\n'));
    return l.size() > 200 ? l.substr(0, 200) + "..." : l;
}

struct PlotJob {
    Plot plot;
    std::string data;     // NAME.dat
    std::string body;     // the script between the terminal lines
    int width = 1000, height = 600;
};

// A data block of a .dat file as one element of a gnuplot `plot` list,
// comma-continued after the first.
std::string plot_series(const std::string &file, int block, int column, const std::string &style, const std::string &title) {
    return std::string(block ? ", \\\n     " : "") + "'" + file + "' index " + std::to_string(block) + " using 1:" +
           std::to_string(column) + " with " + style + " title " + title;
}

// Completes a job from its data and script, width x height pixels.
void push_job(std::vector<PlotJob> &jobs, PlotJob j, const std::ostringstream &dat, const std::ostringstream &body,
              int width, int height) {
    j.data = dat.str();
    j.body = body.str();
    j.width = width;
    j.height = height;
    jobs.push_back(j);
}

std::string script(const PlotJob &j) {
    const std::string name = j.plot.name;
    std::string s = "# " + j.plot.title + "\n# written by adalora report; run with: gnuplot " + name + ".gp\n";
    const std::string font = "font 'DejaVu Sans,11'";
    s += "set terminal pngcairo noenhanced size " + std::to_string(j.width) + "," + std::to_string(j.height) + " " + font + "\n";
    s += "set output '" + name + ".png'\n" + j.body + "unset output\n";
    s += "reset\n";
    s += "set terminal svg noenhanced size " + std::to_string(j.width) + "," + std::to_string(j.height) + " " + font + "\n";
    s += "set output '" + name + ".svg'\n" + j.body + "unset output\n";
    return s;
}

// The mean over cells of a metrics.csv column at each step.
std::vector<std::pair<double, double>> mean_curve(const std::vector<const Cell *> &cells, const std::string &col) {
    std::map<double, std::pair<double, int>> acc;
    for (const Cell *c : cells) {
        auto steps = c->metrics.values("step"), v = c->metrics.values(col);
        for (size_t i = 0; i < steps.size() && i < v.size(); i++)
            if (std::isfinite(v[i])) {
                acc[steps[i]].first += v[i];
                acc[steps[i]].second++;
            }
    }
    std::vector<std::pair<double, double>> out;
    for (auto &[s, p] : acc) out.emplace_back(s, p.first / p.second);
    return out;
}

// Dashed vertical lines at the end of warm-up (t_i) and the start of the
// final phase (T − t_f), labelled, from a cell's config.
std::string phase_marks(const Cell &c) {
    const double ti = json_number(c.config(), "tinit"), tf = json_number(c.config(), "tfinal"),
                 T = json_number(c.config(), "total_step");
    std::string s;
    int tag = 1;
    auto mark = [&](double x, const std::string &text) {
        if (!std::isfinite(x) || x <= 0) return;
        s += "set arrow " + std::to_string(tag) + " from " + num(x) + ", graph 0 to " + num(x) +
             ", graph 1 nohead dt 2 lc rgb '#888888'\n";
        s += "set label " + std::to_string(tag) + " " + gp_quote(text) + " at " + num(x) +
             ", graph 0.97 right offset -0.5,0 font ',9' tc rgb '#666666'\n";
        tag++;
    };
    mark(ti, "t_i");
    if (std::isfinite(T) && std::isfinite(tf)) mark(T - tf, "T - t_f");
    return s;
}

// A variant's label without some keys ("" when nothing is left).
std::string label_without(const Variant &v, const std::set<std::string> &drop) {
    std::string s;
    for (auto &kv : v.key.items())
        if (!drop.count(kv.key())) s += (s.empty() ? "" : ", ") + kv.key() + "=" + json_text(kv.value());
    return s;
}

// ---------------------------------------------------------------- the plots

const Cell *heatmap_cell(const Dataset &d, std::string &suite) {
    const Suite *alloc = d.find("allocation");
    std::vector<const Suite *> order;
    if (alloc) order.push_back(alloc);
    for (const auto &s : d.suites)
        if (&s != alloc) order.push_back(&s);
    // Prefer a run with an oracle (planted-linear), then any adalora run.
    for (int pass = 0; pass < 2; pass++)
        for (const Suite *s : order)
            for (const auto &v : s->variants)
                for (const Cell *c : v.cells)
                    if (c->method() == "adalora" && !c->ranks.empty() &&
                        (pass == 1 || (c->summary.contains("oracle_rank") && c->summary["oracle_rank"].is_object()))) {
                        suite = s->name;
                        return c;
                    }
    return nullptr;
}

void rank_plots(const Dataset &d, std::vector<PlotJob> &jobs) {
    std::string suite;
    const Cell *c = heatmap_cell(d, suite);
    if (!c) return;
    const std::string which = suite + "/" + c->id;
    std::vector<std::string> mods = c->modules();
    std::vector<long> steps;
    for (const auto &r : c->ranks)
        if (steps.empty() || steps.back() != r.step) steps.push_back(r.step);
    std::map<std::pair<long, std::string>, int> rank;
    int max_rank = 1;
    for (const auto &r : c->ranks) {
        rank[{r.step, r.module}] = r.rank;
        max_rank = std::max(max_rank, r.rank);
    }
    double init_r = json_number(c->config(), "init_r");
    if (std::isfinite(init_r) && init_r > max_rank) max_rank = (int)init_r;
    {
        PlotJob j;
        j.plot = {suite, "rank_heatmap", "Kept rank per module over training (" + which + ")", "", "", ""};
        std::ostringstream dat;
        dat << "# kept rank: one row per module (" << mods.size() << "), one column per ranks.csv step\n# steps:";
        for (long s : steps) dat << " " << s;
        dat << "\n";
        for (const auto &m : mods) {
            for (size_t i = 0; i < steps.size(); i++) {
                auto it = rank.find({steps[i], m});
                dat << (i ? " " : "") << (it == rank.end() ? std::string("NaN") : std::to_string(it->second));
            }
            dat << "\n";
        }
        j.data = dat.str();
        std::ostringstream b;
        b << "set title " << gp_quote(j.plot.title) << "\n";
        b << "set xlabel 'step (ranks.csv: step 0 and every mask step)'\nset ylabel 'module'\n";
        b << "set cbrange [0:" << max_rank << "]\nset cblabel 'kept rank'\n";
        b << "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n";
        b << "set yrange [" << mods.size() - 0.5 << ":-0.5]\nset xrange [-0.5:" << steps.size() - 0.5 << "]\n";
        b << "set ytics (";
        for (size_t i = 0; i < mods.size(); i++) b << (i ? ", " : "") << gp_quote(mods[i]) << " " << i;
        b << ") font ',9'\nset xtics (";
        size_t every = std::max<size_t>(1, steps.size() / 10);
        bool first = true;
        for (size_t i = 0; i < steps.size(); i += every) {
            b << (first ? "" : ", ") << gp_quote(std::to_string(steps[i])) << " " << i;
            first = false;
        }
        b << ")\nset tics out\nunset key\n";
        b << "plot 'rank_heatmap.dat' matrix with image\n";
        j.body = b.str();
        j.height = std::max(500, 120 + 22 * (int)mods.size());
        jobs.push_back(j);
    }
    {
        PlotJob j;
        const auto &s = c->summary;
        const bool oracle = s.contains("oracle_rank") && s["oracle_rank"].is_object();
        const bool planted = s.contains("planted_rank") && s["planted_rank"].is_object();
        j.plot = {suite, "allocation_bars",
                  "Final kept rank against planted" + std::string(oracle ? " and oracle" : "") + " ranks (" + which + ")",
                  "", "", ""};
        std::ostringstream dat;
        dat << "# module kept planted oracle (NaN: not known)\n";
        for (const auto &m : mods) {
            dat << m << " " << num(json_key_number(s["kept_rank"], m)) << " "
                << (planted ? num(json_key_number(s["planted_rank"], m)) : "NaN") << " "
                << (oracle ? num(json_key_number(s["oracle_rank"], m)) : "NaN") << "\n";
        }
        j.data = dat.str();
        std::ostringstream b;
        b << "set title " << gp_quote(j.plot.title) << "\n";
        b << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n";
        b << "set boxwidth 0.9\nset xtics rotate by 90 right font ',9'\nset ylabel 'rank'\nset yrange [0:*]\n";
        b << "set grid ytics\nset key top right\n";
        b << "plot 'allocation_bars.dat' using 2:xtic(1) title 'kept (final)' lc rgb '#21918c'";
        if (planted) b << ", '' using 3 title 'planted' lc rgb '#fde725'";
        if (oracle) b << ", '' using 4 title 'oracle (Eckart-Young)' lc rgb '#440154'";
        b << "\n";
        j.body = b.str();
        j.width = std::max(1000, 60 + 40 * (int)mods.size());
        jobs.push_back(j);
    }
}

std::string budget_label(const Cell &c) {
    double b = json_number(c.config(), "target_budget");
    if (std::isfinite(b) && b > 0) return "b(T)=" + format_number(b, 8);
    return "target_r=" + format_number(json_number(c.config(), "target_r"), 8);
}

void loss_plots(const Dataset &d, std::vector<PlotJob> &jobs) {
    const Suite *s = d.find("allocation");
    if (!s) return;
    std::vector<std::string> tasks;
    for (const auto &v : s->variants)
        if (!v.cells.empty() && std::find(tasks.begin(), tasks.end(), v.cells[0]->task()) == tasks.end())
            tasks.push_back(v.cells[0]->task());
    for (const auto &task : tasks) {
        // Panels by budget, lines by the rest of the variant.
        std::vector<std::string> budgets;
        for (const auto &v : s->variants)
            if (!v.cells.empty() && v.cells[0]->task() == task &&
                std::find(budgets.begin(), budgets.end(), budget_label(*v.cells[0])) == budgets.end())
                budgets.push_back(budget_label(*v.cells[0]));
        PlotJob j;
        const std::string name = "loss_" + task;
        j.plot = {"allocation", name, "Task loss against step on " + task + " (mean over seeds)", "", "", ""};
        std::ostringstream dat, b;
        int block = 0;
        const int cols = std::min<int>(budgets.size(), 2), rows = ((int)budgets.size() + 1) / 2;
        b << "set multiplot layout " << rows << "," << cols << " title " << gp_quote(j.plot.title) << "\n";
        b << "set logscale y\nset format y '%g'\nset xlabel 'step'\nset ylabel 'task loss (batch)'\nset grid\n"
             "set key top right font ',9' box opaque\n";
        for (const auto &v : s->variants)
            if (!v.cells.empty() && v.cells[0]->task() == task) {
                b << phase_marks(*v.cells[0]);
                break;
            }
        for (const auto &bud : budgets) {
            std::vector<std::string> plots;
            for (const auto &v : s->variants) {
                if (v.cells.empty() || v.cells[0]->task() != task || budget_label(*v.cells[0]) != bud) continue;
                auto curve = mean_curve(v.cells, "task_loss");
                if (curve.empty()) continue;
                std::string label = label_without(v, {"task", "target_r", "target_budget"});
                if (label.rfind("method=", 0) == 0) label = label.substr(7);
                dat << "# " << label << " at " << bud << "\n";
                for (auto &[x, y] : curve) dat << num(x) << " " << num(y) << "\n";
                dat << "\n\n";
                plots.push_back("'" + name + ".dat' index " + std::to_string(block++) + " using 1:2 with lines lw 2 title " +
                                gp_quote(label.empty() ? "run" : label));
            }
            b << "set title " << gp_quote(bud) << "\n";
            if (plots.empty()) {
                b << "set label 1 'no data' at graph 0.5, 0.5 center\nplot [0:1] NaN notitle\nunset label 1\n";
                continue;
            }
            b << "plot ";
            for (size_t i = 0; i < plots.size(); i++) b << (i ? ", \\\n     " : "") << plots[i];
            b << "\n";
        }
        b << "unset multiplot\n";
        push_job(jobs, j, dat, b, cols == 1 ? 900 : 1400, 450 * rows + 60);
    }
}

void cost_plot(const Dataset &d, std::vector<PlotJob> &jobs) {
    const Suite *s = d.find("svd-cost");
    if (!s) return;
    PlotJob j;
    j.plot = {"svd-cost", "cost_vs_d", "Cost against width d (log-log, mean over seeds)", "", "", ""};
    // Series: the variant without its width; points: the width's mean.
    std::vector<std::string> order;
    std::map<std::string, std::map<double, std::pair<std::vector<double>, std::vector<double>>>> series;
    const Metric &alloc = metric("alloc_ms");
    for (const auto &v : s->variants)
        for (const Cell *c : v.cells) {
            std::string label = label_without(v, {"width"});
            if (label.rfind("method=", 0) == 0) label = label.substr(7);
            double w = json_number(c->config(), "width");
            if (!std::isfinite(w)) continue;
            if (!series.count(label)) order.push_back(label);
            series[label][w].first.push_back(json_number(c->summary, "ms_per_step"));
            series[label][w].second.push_back(alloc.value(*c));
        }
    std::ostringstream dat, p1, p2;
    int block = 0;
    for (const auto &label : order) {
        dat << "# " << label << ": width ms_per_step alloc_ms_per_mask_step\n";
        for (auto &[w, vals] : series[label])
            dat << num(w) << " " << num(summarize(vals.first).mean) << " " << num(summarize(vals.second).mean) << "\n";
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

void orthogonality_plot(const Dataset &d, std::vector<PlotJob> &jobs) {
    const Suite *s = d.find("orthogonality");
    if (!s) return;
    PlotJob j;
    j.plot = {"orthogonality", "orthogonality", "Orthogonality error against step (mean over modules and seeds)", "", "", ""};
    std::ostringstream dat, p1, p2;
    int block = 0;
    for (const auto &v : s->variants) {
        auto P = mean_curve(v.cells, "orth_P"), Q = mean_curve(v.cells, "orth_Q");
        if (P.empty() && Q.empty()) continue;
        std::map<double, std::pair<double, double>> rows;
        for (auto &[x, y] : P) rows[x] = {y, NAN};
        for (auto &[x, y] : Q) {
            if (!rows.count(x)) rows[x] = {NAN, NAN};
            rows[x].second = y;
        }
        std::string label = v.label();
        if (v.key.size() == 1 && v.key.contains("orth_reg_weight")) label = "γ = " + json_text(v.key["orth_reg_weight"]);
        dat << "# " << label << ": step orth_P orth_Q\n";
        for (auto &[x, pq] : rows) dat << num(x) << " " << num(pq.first) << " " << num(pq.second) << "\n";
        dat << "\n\n";
        p1 << plot_series("orthogonality.dat", block, 2, "lines lw 2", gp_quote(label));
        p2 << plot_series("orthogonality.dat", block, 3, "lines lw 2", gp_quote(label));
        block++;
    }
    if (block == 0) {
        jobs.push_back({{"orthogonality", "orthogonality", j.plot.title, "", "", "no orth_P / orth_Q columns in metrics.csv"}, "", "", 0, 0});
        return;
    }
    std::ostringstream b;
    b << "set multiplot layout 1,2 title " << gp_quote(j.plot.title) << "\n";
    b << "set logscale y\nset format y '%.0e'\nset xlabel 'step'\nset grid\nset key bottom left font ',9'\n";
    for (const auto &v : s->variants)
        if (!v.cells.empty()) {
            b << phase_marks(*v.cells[0]);
            break;
        }
    b << "set title '‖PᵀP − I‖_F'\nplot " << p1.str() << "\n";
    b << "set title '‖QQᵀ − I‖_F'\nplot " << p2.str() << "\n";
    b << "unset multiplot\n";
    push_job(jobs, j, dat, b, 1400, 600);
}

void write_text(const fs::path &p, const std::string &text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
    f.flush();
    if (!f) throw UsageError("report: cannot write " + p.string());
}

}  // namespace

std::vector<Plot> make_plots(const Dataset &d, const std::string &plots_dir, const std::string &gnuplot) {
    std::vector<PlotJob> jobs;
    rank_plots(d, jobs);
    loss_plots(d, jobs);
    cost_plot(d, jobs);
    orthogonality_plot(d, jobs);

    std::string found, why;
    const bool have = !gnuplot.empty() && run_command("command -v " + shell_quote(gnuplot), found) == 0;
    if (!have) why = "gnuplot not found (`" + gnuplot + "`): install the Debian package gnuplot-nox";

    std::vector<Plot> out;
    const fs::path dir(plots_dir);
    for (auto &j : jobs) {
        Plot p = j.plot;
        if (!p.skipped.empty()) {
            out.push_back(p);
            continue;
        }
        const std::string name = p.name;
        write_text(dir / (name + ".dat"), j.data);
        write_text(dir / (name + ".gp"), script(j));
        p.png = "plots/" + name + ".png";
        p.svg = "plots/" + name + ".svg";
        std::error_code ec;  // an image of an earlier report must not outlive a failed plot
        fs::remove(dir / (name + ".png"), ec);
        fs::remove(dir / (name + ".svg"), ec);
        if (!have) {
            p.skipped = why;
            out.push_back(p);
            continue;
        }
        std::string log;
        int rc = run_command("cd " + shell_quote(plots_dir) + " && " + shell_quote(gnuplot) + " " + shell_quote(name + ".gp"), log);
        if (rc != 0)
            p.skipped = "gnuplot exited with code " + std::to_string(rc) + ": " + first_line(log);
        else if (!fs::is_regular_file(dir / (name + ".png"), ec) || fs::file_size(dir / (name + ".png"), ec) == 0)
            p.skipped = "gnuplot wrote no " + name + ".png" + (log.empty() ? std::string() : ": " + first_line(log));
        out.push_back(p);
    }
    return out;
}

}  // namespace adalora::report

// plot.cpp: plot primitives and the gnuplot runner (plot.h).
#include "harness/plot.h"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/errors.h"

namespace adalora::report {

namespace fs = std::filesystem;

namespace {

std::string shell_quote(const std::string &s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
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

void write_text(const fs::path &p, const std::string &text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
    f.flush();
    if (!f) throw UsageError("report: cannot write " + p.string());
}

}  // namespace

// A string for a gnuplot script (double quotes, backslash escapes).
std::string gp_quote(const std::string &s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string gp_num(double v) {
    char b[40];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}

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
        s += "set arrow " + std::to_string(tag) + " from " + gp_num(x) + ", graph 0 to " + gp_num(x) +
             ", graph 1 nohead dt 2 lc rgb '#888888'\n";
        s += "set label " + std::to_string(tag) + " " + gp_quote(text) + " at " + gp_num(x) +
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

std::vector<Plot> draw_plots(const std::vector<PlotJob> &jobs, const std::string &plots_dir, const std::string &gnuplot) {
    std::string found, why;
    const bool have = !gnuplot.empty() && run_command("command -v " + shell_quote(gnuplot), found) == 0;
    if (!have) why = "gnuplot not found (`" + gnuplot + "`): install the Debian package gnuplot-nox";

    std::vector<Plot> out;
    const fs::path dir(plots_dir);
    for (const auto &j : jobs) {
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

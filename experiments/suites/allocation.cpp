// allocation.cpp: the allocation suite (allocation.toml): every method on
// planted-linear against the Eckart-Young oracle at several budgets. Its
// table, its claims (adalora's gap to the oracle and allocation error against
// each baseline at every budget) and its plots: the rank heatmap and the
// final allocation of one adalora run, and the task loss against step.
#include <algorithm>
#include <cmath>
#include <map>

#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

namespace {

std::vector<std::string> allocation_claims(const Suite &s) {
    std::vector<std::string> out;
    for (const auto &task : tasks_of(s)) {
        Loss loss = primary_loss(s, task);
        auto on = [task](Pred p) { return in_task(task, p); };
        for (const std::string base : {"lora", "svd-lora", "svd-proj"}) {
            Verdict v = compare(s, on(adalora_paper), "adalora", on(method_is(base)), base, budget_of, loss.value, true);
            out.push_back(verdict_sentence("adalora's " + loss.name + " is smaller than " + base +
                                               "'s at every budget" + on_task(task),
                                           v, "needs adalora and " + base + " cells" + on_task(task)));
        }
        bool has_alloc = false;
        for (const Cell *c : ordered_cells(s))
            has_alloc = has_alloc || (c->task() == task && std::isfinite(json_number(c->summary, "allocation_error")));
        if (!has_alloc) continue;
        Value err = [](const Cell &c) { return json_number(c.summary, "allocation_error"); };
        for (const std::string base : {"lora", "svd-proj"}) {
            Verdict v = compare(s, on(adalora_paper), "adalora", on(method_is(base)), base, budget_of, err, true);
            out.push_back(verdict_sentence("adalora's allocation error (Σ_k |kept − oracle|) is smaller than " + base +
                                               "'s at every budget" + on_task(task),
                                           v, "needs adalora and " + base + " cells" + on_task(task)));
        }
    }
    return out;
}

// The run the rank plots show: the first adalora cell with ranks.csv of the
// allocation suite, one with an oracle (planted-linear) first. None without
// that suite: another suite's cell (an encoder's) has no planted ranks to
// draw its bars against, and its plots would stand unreferenced in plots/.
const Cell *heatmap_cell(const Dataset &d, std::string &suite) {
    const Suite *alloc = d.find("allocation");
    if (!alloc) return nullptr;
    for (int pass = 0; pass < 2; pass++)
        for (const auto &v : alloc->variants)
            for (const Cell *c : v.cells)
                if (c->method() == "adalora" && !c->ranks.empty() &&
                    (pass == 1 || (c->summary.contains("oracle_rank") && c->summary["oracle_rank"].is_object()))) {
                    suite = alloc->name;
                    return c;
                }
    return nullptr;
}

// The kept ranks of a cell at each ranks.csv step.
struct RankGrid {
    std::vector<std::string> mods;
    std::vector<long> steps;
    std::map<std::pair<long, std::string>, int> rank;
    int max_rank = 1;
};

RankGrid rank_grid(const Cell &c) {
    RankGrid g;
    g.mods = c.modules();
    for (const auto &r : c.ranks)
        if (g.steps.empty() || g.steps.back() != r.step) g.steps.push_back(r.step);
    for (const auto &r : c.ranks) {
        g.rank[{r.step, r.module}] = r.rank;
        g.max_rank = std::max(g.max_rank, r.rank);
    }
    double init_r = json_number(c.config(), "init_r");
    if (std::isfinite(init_r) && init_r > g.max_rank) g.max_rank = (int)init_r;
    return g;
}

// Kept rank per module (rows) at step 0 and every mask step (columns).
PlotJob heatmap_job(const std::string &suite, const std::string &which, const RankGrid &g) {
    const auto &mods = g.mods;
    const auto &steps = g.steps;
    PlotJob j;
    j.plot = {suite, "rank_heatmap", "Kept rank per module over training (" + which + ")", "", "", ""};
    std::ostringstream dat;
    dat << "# kept rank: one row per module (" << mods.size() << "), one column per ranks.csv step\n# steps:";
    for (long s : steps) dat << " " << s;
    dat << "\n";
    for (const auto &m : mods) {
        for (size_t i = 0; i < steps.size(); i++) {
            auto it = g.rank.find({steps[i], m});
            dat << (i ? " " : "") << (it == g.rank.end() ? std::string("NaN") : std::to_string(it->second));
        }
        dat << "\n";
    }
    j.data = dat.str();
    std::ostringstream b;
    b << "set title " << gp_quote(j.plot.title) << "\n";
    b << "set xlabel 'step (ranks.csv: step 0 and every mask step)'\nset ylabel 'module'\n";
    b << "set cbrange [0:" << g.max_rank << "]\nset cblabel 'kept rank'\n";
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
    return j;
}

// That run's final kept ranks against the planted and the oracle ranks.
PlotJob bars_job(const std::string &suite, const std::string &which, const Cell &c, const std::vector<std::string> &mods) {
    PlotJob j;
    const auto &s = c.summary;
    const bool oracle = s.contains("oracle_rank") && s["oracle_rank"].is_object();
    const bool planted = s.contains("planted_rank") && s["planted_rank"].is_object();
    j.plot = {suite, "allocation_bars",
              "Final kept rank against planted" + std::string(oracle ? " and oracle" : "") + " ranks (" + which + ")",
              "", "", ""};
    std::ostringstream dat;
    dat << "# module kept planted oracle (NaN: not known)\n";
    for (const auto &m : mods) {
        dat << m << " " << gp_num(json_key_number(s["kept_rank"], m)) << " "
            << (planted ? gp_num(json_key_number(s["planted_rank"], m)) : "NaN") << " "
            << (oracle ? gp_num(json_key_number(s["oracle_rank"], m)) : "NaN") << "\n";
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
    return j;
}

void rank_plots(const Dataset &d, std::vector<PlotJob> &jobs) {
    std::string suite;
    const Cell *c = heatmap_cell(d, suite);
    if (!c) return;
    const std::string which = suite + "/" + c->id;
    const RankGrid g = rank_grid(*c);
    jobs.push_back(heatmap_job(suite, which, g));
    jobs.push_back(bars_job(suite, which, *c, g.mods));
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
                for (auto &[x, y] : curve) dat << gp_num(x) << " " << gp_num(y) << "\n";
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

}  // namespace

SuiteDef allocation() {
    SuiteDef d;
    d.name = "allocation";
    d.metrics = standard_metrics({"gap_to_oracle", "final_test_loss", "allocation_error", "modules_matching_oracle",
                                  "trainable_params_final"});
    d.claims = allocation_claims;
    d.plots = [](const Dataset &data, std::vector<PlotJob> &jobs) {
        rank_plots(data, jobs);
        loss_plots(data, jobs);
    };
    d.part = kSyntheticPart;
    return d;
}

}  // namespace adalora::suites

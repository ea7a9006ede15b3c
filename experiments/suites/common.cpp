// common.cpp: cell predicates shared by the suites (common.h).
#include "suites/common.h"
#include "suites/encoder_plots.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace adalora::suites {

using namespace report;

bool adalora_masking(const Cell &c) {
    return c.method() == "adalora" && !cfg_flag(c, "no_prune") && !cfg_flag(c, "hard_delete");
}

bool adalora_paper(const Cell &c) {
    return adalora_masking(c) && cfg_str(c, "importance", "sens-unc") == "sens-unc" && cfg_num(c, "orth_reg_weight") > 0;
}

Pred method_is(const std::string &m) {
    return [m](const Cell &c) { return c.method() == m; };
}

std::string budget_of(const Cell &c) {
    double b = cfg_num(c, "target_budget");
    if (std::isfinite(b) && b > 0) return "b(T)=" + format_number(b, 8);
    double r = cfg_num(c, "target_r");
    return std::isfinite(r) ? "target_r=" + format_number(r, 8) : "budget ?";
}

const char *const kEncoderPart = "The pretrained encoder (MiniLM) on real sentences: the paper's ablations";
const char *const kSyntheticPart = "Synthetic tasks: tests against a known optimum";

double budget_rank(const Cell &c) {
    if (c.method() == "head-only") return NAN;
    return cfg_num(c, "target_r");
}

std::vector<int> budgets_of(const Suite &s) {
    std::set<int> r;
    for (const Cell *c : ordered_cells(s)) {
        const double b = budget_rank(*c);
        if (std::isfinite(b)) r.insert((int)b);
    }
    return {r.begin(), r.end()};
}

std::string budget_text(int r) { return "final average rank " + std::to_string(r) + " per matrix"; }

Pred at_budget(const std::string &task, int r, Pred p) {
    return [task, r, p](const Cell &c) { return c.task() == task && budget_rank(c) == r && p(c); };
}

std::string setting_differs(const Suite &s) {
    const std::vector<const Cell *> cells = ordered_cells(s);
    if (cells.empty()) return "";
    const Cell &c = *cells.front();
    const nlohmann::json &sum = c.summary;
    const nlohmann::json model = sum.contains("provenance") ? sum["provenance"]["model"]["name"] : nlohmann::json("?");
    const size_t layers = sum.contains("kept_rank_by_layer") && !sum["kept_rank_by_layer"].empty()
                              ? sum["kept_rank_by_layer"].begin()->size() : 0;
    std::string t = "the model is " + json_text(model) + " (" + std::to_string(layers) +
                    " layers), not DeBERTaV3-base (12 layers, hidden 768, 184M parameters)";
    // Each task's training and test sentences, from its first cell.
    std::string data;
    for (const std::string &task : tasks_of(s))
        for (const Cell *x : cells)
            if (x->task() == task) {
                data += (data.empty() ? "" : ", ") + task + " " + format_number(json_number(x->summary, "sentences.train"), 8) +
                        " / " + format_number(json_number(x->summary, "sentences.test"), 8);
                break;
            }
    return t + "; each run trains " + format_number(cfg_num(c, "total_step"), 6) + " steps of " +
           format_number(cfg_num(c, "batch"), 6) + " sentences, from few training sentences (training / test: " + data +
           "; GLUE's tasks have 2.5k to 393k training examples, fine-tuned over several epochs)";
}

GroupedClaim claim_by_budget(const Suite &s, const std::string &claim, const Pred &a, const Pred &b) {
    GroupedClaim g;
    for (const std::string &task : tasks_of(s))
        for (int r : budgets_of(s)) {
            const Comparison c = compare_paired(cells_where(s, at_budget(task, r, a)), cells_where(s, at_budget(task, r, b)),
                                                test_accuracy, true);
            if (c.diff.n == 0) continue;
            g.outcomes.push_back(c.outcome);
            g.lines.push_back("- " + claim + on_task(task) + " at " + budget_text(r) + ": **" + outcome_word(c.outcome) +
                              "** (" + comparison_text(c, points) + ")");
            g.ours += (g.ours.empty() ? "" : "; ") + task + " r" + std::to_string(r) + " " + points(c.diff.mean) +
                      (c.outcome == Outcome::reproduced ? " ✓" : c.outcome == Outcome::not_reproduced ? " ✗" : " ?");
        }
    if (g.lines.empty()) g.lines.push_back("- " + claim + ": " + kNotMeasured);
    return g;
}

ReproRow repro_row(const Suite &s, const std::string &claim, const std::string &paper, const GroupedClaim &g) {
    ReproRow r;
    r.claim = claim;
    r.paper = paper;
    r.ours = g.ours.empty() ? kNotMeasured : g.ours;
    r.outcome = combine(g.outcomes);
    r.differs = setting_differs(s);
    return r;
}

SuiteDef budget_suite(const std::string &name, std::vector<BudgetClaim> claims,
                      std::function<std::vector<std::string>(const Suite &)> more) {
    SuiteDef d;
    d.name = name;
    d.metrics = standard_metrics({"final_test_accuracy", "final_dev_accuracy", "trainable_params_final"});
    d.claims = [claims, more](const Suite &s) {
        std::vector<std::string> out;
        for (const BudgetClaim &c : claims) {
            const GroupedClaim g = claim_by_budget(s, c.claim, c.a, c.b);
            out.insert(out.end(), g.lines.begin(), g.lines.end());
        }
        if (more)
            for (auto &line : more(s)) out.push_back(std::move(line));
        return out;
    };
    d.reproduction = [claims](const Suite &s) {
        std::vector<ReproRow> rows;
        for (const BudgetClaim &c : claims)
            if (!c.paper_claim.empty()) rows.push_back(repro_row(s, c.paper_claim, c.paper, claim_by_budget(s, c.claim, c.a, c.b)));
        return rows;
    };
    d.part = kEncoderPart;
    d.plots = [name](const Dataset &data, std::vector<PlotJob> &jobs) { accuracy_budget_plots(name, data, jobs); };
    return d;
}

}  // namespace adalora::suites

// common.h: what several suites ask of a cell: is it AdaLoRA with masking,
// the paper's AdaLoRA, which budget did it have.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness/claims.h"
#include "harness/paired.h"
#include "harness/report.h"

namespace adalora::suites {

using report::Cell;
using report::Pred;

// AdaLoRA whose pruned triplets stay masked (may come back): neither
// --no-prune nor --hard-delete.
bool adalora_masking(const Cell &c);
// The paper's AdaLoRA: s = Ī·Ū, γ > 0, masking (pruned triplets may come back).
bool adalora_paper(const Cell &c);
Pred method_is(const std::string &m);
// The budget a cell was asked for: "b(T)=N" when given, else "target_r=N".
std::string budget_of(const Cell &c);

// ---- The suites on the pretrained encoder (table1, table4/5-encoder, fig1, fig3, ...)

extern const char *const kEncoderPart;    // the report's part heading of those suites
extern const char *const kSyntheticPart;  // and of the synthetic tasks' suites

// A cell's final average rank per matrix (its target_r); NaN for a method
// without a budget (head-only).
double budget_rank(const Cell &c);
// The distinct budgets of a suite's cells, ascending.
std::vector<int> budgets_of(const report::Suite &s);
// "final average rank 2 per matrix"
std::string budget_text(int r);
// `p` restricted to one task and one budget.
Pred at_budget(const std::string &task, int r, Pred p);

// Where our setting differs from the paper's (model, data, steps, test
// size), from a cell of the suite: the sentence a "not reproduced" row gives.
std::string setting_differs(const report::Suite &s);

// One line per group of a claim "A beats B" (a task, a budget) with its
// paired comparison by test accuracy; returns the groups' outcomes.
struct GroupedClaim {
    std::vector<std::string> lines;   // "- CLAIM on TASK at BUDGET: verdict (numbers)"
    std::vector<report::Outcome> outcomes;
    std::string ours;                 // the groups' paired differences, short, for the reproduction table
};
GroupedClaim claim_by_budget(const report::Suite &s, const std::string &claim, const Pred &a, const Pred &b);

// A row of the reproduction table from a grouped claim: ours, the combined
// verdict and, for the not reproduced, setting_differs.
report::ReproRow repro_row(const report::Suite &s, const std::string &claim, const std::string &paper,
                           const GroupedClaim &g);

// One claim "A beats B" of a suite over tasks and budgets (table1,
// table4-encoder, table5-encoder): its line in the suite's claims and, when
// `paper_claim` is set, its row in the reproduction table.
struct BudgetClaim {
    std::string claim;        // "adalora beats lora at the matched rank"
    Pred a, b;
    std::string paper_claim;  // "Table 1: AdaLoRA beats LoRA ..."; "": not a row of the table
    std::string paper;        // the paper's numbers
};

// The SuiteDef of such a suite: test and dev accuracy and parameters, the
// claims (then `more` lines, if given), the reproduction rows, accuracy
// against budget plots, in the encoder part.
report::SuiteDef budget_suite(const std::string &name, std::vector<BudgetClaim> claims,
                              std::function<std::vector<std::string>(const report::Suite &)> more = nullptr);

}  // namespace adalora::suites

// claims.h: the vocabulary of a suite's claims. A claim is a sentence
// computed from the loaded cells (never written ahead of the run); cells are
// picked by their fields (predicates), never by their position in the grid,
// and a claim whose cells are absent says "not measured in this report".
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "harness/dataset.h"
#include "harness/report_stats.h"

namespace adalora::report {

using Pred = std::function<bool(const Cell &)>;
using Key = std::function<std::string(const Cell &)>;
using Value = std::function<double(const Cell &)>;
using Groups = std::vector<std::pair<std::string, Stats>>;

extern const char *const kNotMeasured;  // "not measured in this report"

// A setting of a cell: its "cell" object first, then its config.
std::string cfg_str(const Cell &c, const std::string &key, const std::string &fallback = "");
double cfg_num(const Cell &c, const std::string &key);
bool cfg_flag(const Cell &c, const std::string &key);  // a finite, non-zero number

// Cells in the suite's (grid) order; the tasks they ran, in that order.
std::vector<const Cell *> ordered_cells(const Suite &s);
std::vector<std::string> tasks_of(const Suite &s);
// `p` restricted to the cells of one task.
Pred in_task(const std::string &task, Pred p);
// " on TASK" ("" for no task).
std::string on_task(const std::string &task);

// The loss a suite compares on a task: the gap to the oracle where the task has
// one (planted-linear), else the final test loss.
struct Loss {
    std::string name;
    Value value;
};
Loss primary_loss(const Suite &s, const std::string &task);

// Stats of `f` over the cells `p` selects, by group key, in grid order.
Groups grouped(const Suite &s, const Pred &p, const Key &key, const Value &f);
const Stats *find_group(const Groups &g, const std::string &k);

std::string num(double v, int digits = 4);
// (worst − best)/|best| in percent ("difference X" when best is 0).
std::string pct(double worst, double best);
bool disjoint(const Stats &a, const Stats &b);  // both 95% CIs known and apart
// "73% lower" / "12% higher" of a against b.
std::string relative(double a, double b);
std::string yes_no(bool y);  // "**yes**" / "**no**"

struct Verdict {
    int groups = 0, wins = 0, ci_disjoint = 0, ci_known = 0;
    std::string details;
    bool measured() const { return groups > 0; }
    bool all() const { return groups > 0 && wins == groups; }
};

// A beats B (lower or higher is better) in every group both have.
Verdict compare(const Suite &s, const Pred &a, const std::string &a_name, const Pred &b, const std::string &b_name,
                const Key &key, const Value &f, bool lower_better);
// "- CLAIM: **yes** (details; CIs)", or not measured (`missing` says what is needed).
std::string verdict_sentence(const std::string &claim, const Verdict &v, const std::string &missing);

}  // namespace adalora::report

// paired.h: comparisons of two settings across seeds, and what they decide.
//
// Cells of one suite with the same seed share the data order, the head's
// initialisation and the dropout stream, so a per-seed difference removes
// that noise and leaves the settings' own effect: for each seed present on
// both sides, d_s = mean of f over side A's cells of seed s − the same over
// side B's (a side may hold several variants: "the FFN types" = W_f1 and
// W_f2, averaged per seed). The verdict of "A is better than B" is read
// from the 95% Student-t interval of the d_s:
//   reproduced      the interval lies entirely on A's side of 0
//   not reproduced  it lies entirely on the other side
//   undecided       it contains 0 (or one seed: no interval); the report
//                   then says how many seeds would decide it at the observed
//                   mean and spread (seeds_needed).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness/claims.h"

namespace adalora::report {

using Cells = std::vector<const Cell *>;

// The setting a cell tests as text: its settings other than the grid's
// product axes (suite.json "axes", e.g. the task) and the seed
// ("method=lora, target_r=2", "convention=peft").
std::string variant_text(const Suite &s, const Cell &c);

// The cells `p` selects, in grid order.
Cells cells_where(const Suite &s, const Pred &p);

// The per-seed differences mean_A(f) − mean_B(f) over the seeds both sides have.
Stats paired_difference(const Cells &a, const Cells &b, const Value &f);
Stats paired_difference(const Cells &a, const Value &fa, const Cells &b, const Value &fb);

// The least n >= 2 whose paired 95% interval, at this mean and standard
// deviation, would exclude 0: t(0.975, n − 1)·std/√n < |mean| (at most
// 100000); 0 when the differences have no spread to extrapolate (n < 2,
// mean 0 or std 0).
long seeds_needed(const Stats &diff);

enum class Outcome { not_measured, reproduced, undecided, not_reproduced };
const char *outcome_word(Outcome o);  // "reproduced", ..., "not measured"
// Several groups (tasks, budgets) of one claim: not reproduced when any
// group is, reproduced when every measured group is, else undecided.
Outcome combine(const std::vector<Outcome> &groups);

struct Comparison {
    Stats a, b;      // each side's per-seed values
    Stats diff;      // the paired differences a − b
    Outcome outcome = Outcome::not_measured;
    bool ci_disjoint = false;  // the two sides' own 95% intervals are apart
};

// "A is better than B" by f: higher f is better when higher_better.
Comparison compare_paired(const Cells &a, const Cells &b, const Value &f, bool higher_better);
// The same with a value of its own per side (e.g. the FFN matrices' mean rank
// against the attention matrices' in the same cells).
Comparison compare_paired(const Cells &a, const Value &fa, const Cells &b, const Value &fb, bool higher_better);

// A difference as the report writes it: accuracy in points ("+1.2 points"),
// anything else as a number.
using Format = std::function<std::string(double)>;
std::string points(double fraction);

// "+1.2 points, 95% CI [−0.3, +2.7], paired over 5 seeds; the two sides'
// own 95% CIs overlap; undecided: about 14 seeds would decide it at this spread"
std::string comparison_text(const Comparison &c, const Format &fmt);

// Each setting (variant_text) against the reference setting on one task, by
// test accuracy paired by seed: one line each, "**moves it**" when the
// interval excludes 0, "**identical**" when every seed gives the same,
// "**no clear change**" otherwise, with the seeds that would decide it.
std::vector<std::string> against_reference(const Suite &s, const std::string &task, const std::string &reference,
                                           const std::string &reference_name, const std::vector<std::string> &settings);

// The test accuracy of a cell (NaN when it has none).
double test_accuracy(const Cell &c);

}  // namespace adalora::report

// train_loop.cpp: the training loop shared by every method.
#include "train/train_loop.h"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "base/errors.h"
#include "train/adapter_report.h"
#include "base/lib_status.h"
#include "train/clock.h"
#include "train/encoder_report.h"
#include "train/metrics_log.h"
#include "train/step_hooks.h"

namespace adalora {

namespace {
using Clock = std::chrono::steady_clock;

// What one step needs besides the trainer: its hooks, the guard's copy of the
// state, the orthogonality meter.
struct StepContext {
    const RunConfig &cfg;
    LogMode log;
    RunSetup &run;
    LoopState &loop;
    Checkpointer &checkpoints;
    TrainClock &clock;
    StepHooks hooks;
    OrthMeter orth_meter;
    const bool skip_nonfinite;  // --on-nonfinite skip-step restores `before_step`
    TrainState before_step;
};

// Step t through the library; a non-finite value stops the run or, under
// skip-step, puts the state back and skips the step.
void run_step(StepContext &c, long t, ada_step_info &info, const LoopHooks *hooks) {
    const ada_batch &batch = c.run.batch(t);
    if (c.skip_nonfinite) capture(c.before_step, c.run.model, c.run.tr);
    if (hooks && hooks->before_step) hooks->before_step(t, c.run.model);
    ada_status st = c.hooks.step(c.run.tr, batch, info);
    if (st != ADA_ERR_NONFINITE) return check(st, "step");
    if (!c.skip_nonfinite)
        throw NonFiniteError(std::string("training stopped: ") + ada_last_error() + "; " + c.checkpoints.kept_note());
    if (c.log != LogMode::quiet) std::fprintf(stderr, "adalora: skipped: %s\n", ada_last_error());
    restore(c.before_step, c.run.model, c.run.tr);  // back to the state before the step
    // The step's allocation still happens (from the restored state), so a
    // skipped mask step cannot leave more triplets than its budget.
    const bool projected = c.run.projection && c.run.projection->maybe_project().projected;
    check(ada_trainer_skip_step(c.run.tr, &info), "skip step");
    if (projected) info.action = ADA_ACTION_MASK;
    c.loop.skipped++;
}

// A finished run that allocates holds b(T); should the final pattern not be
// established (it always is, see ada_trainer_skip_step) the run fails rather
// than report an adapter over budget.
void check_final_budget(const RunSetup &run, const ada_step_info &last) {
    if (!(run.method.train.prune || run.method.svd_proj) || last.step == 0) return;
    if (last.kept > run.method.target_budget)
        throw NonFiniteError("training ended with " + std::to_string(last.kept) + " triplets kept, more than b(T) = " +
                             std::to_string(run.method.target_budget) +
                             ": the final mask could not be established (skipped steps)");
}

// The step's counters, its ranks.csv rows at a mask step, and its
// metrics.csv row when one is due (step 1, every log_every, the last).
void record_step(StepContext &c, long t, const ada_step_info &info) {
    LoopState &loop = c.loop;
    loop.revived += info.revived;
    loop.pruned += info.pruned;
    for (int p = 0; p < ADA_TIME_COUNT; p++) loop.ms[p] += info.ms[p];
    if (info.action == ADA_ACTION_MASK) append_ranks(loop.ranks_csv, t, c.run.model);
    if (!(t % c.cfg.log_every == 0 || t == c.cfg.total_step || t == 1)) return;
    auto m0 = Clock::now();
    OrthMeter::Mean orth = c.orth_meter.measure();
    c.clock.measure_seconds += seconds_since(m0);
    MetricsRow row;
    row.step = t;
    row.loss = info.loss;
    row.task_loss = info.task_loss;
    row.orth = info.orth_raw;
    row.budget = info.budget;
    row.kept = info.kept;
    row.threshold = info.threshold;
    row.lr = c.cfg.lr;
    row.seconds = c.clock.seconds();
    row.orth_p = orth.p;
    row.orth_q = orth.q;
    row.revived = loop.revived;
    row.pruned = loop.pruned;
    row.mask_jump = loop.jumps ? loop.jump_sum / loop.jumps : NAN;
    loop.metrics_csv += format_metrics_row(row);
    loop.revived = loop.pruned = loop.jumps = 0;
    loop.jump_sum = 0;
}

// A sentence task: the dev split every --eval-every steps and after the last,
// outside the training clock, into dev.csv and a console line.
void evaluate_dev(StepContext &c, long t) {
    const long every = c.cfg.task_opt.eval_every;
    if (!((every > 0 && t % every == 0) || t == c.cfg.total_step)) return;
    auto e0 = Clock::now();
    if (c.loop.dev_csv.empty()) c.loop.dev_csv = kDevHeader;
    double accuracy = NAN;
    c.loop.dev_csv += dev_row(t, c.run.model, c.run.task, &accuracy);
    c.clock.measure_seconds += seconds_since(e0);
    if (c.log != LogMode::quiet && c.run.task.is_classification())
        std::fprintf(stderr, "step %ld: dev accuracy %.4f (%d sentences)\n", t, accuracy, c.run.task.dev.rows);
}

}  // namespace

double TrainClock::seconds() const { return earlier + seconds_since(t0) - measure_seconds; }

bool train_loop(const RunConfig &cfg, LogMode log, RunSetup &run, LoopState &loop, Checkpointer &checkpoints,
                TrainClock &clock, const LoopHooks *hooks) {
    StepContext c{cfg,
                  log,
                  run,
                  loop,
                  checkpoints,
                  clock,
                  StepHooks(run.model, run.tracer.get(), run.projection.get(), cfg.mask_jump, loop,
                            clock.measure_seconds),
                  OrthMeter(run.model),
                  cfg.on_nonfinite == "skip-step",
                  {}};
    if (c.skip_nonfinite) capture(c.before_step, run.model, run.tr);  // sizes the copy once
    ConsoleLog console(log, cfg.total_step);
    ada_step_info info{};
    for (long t = run.tr->completed + 1; t <= cfg.total_step; t++) {
        run_step(c, t, info, hooks);
        record_step(c, t, info);
        if (run.tracer) run.tracer->after_step(t, info);
        console.step(info, run.model);
        if (run.task.has_encoder()) evaluate_dev(c, t);
        if (checkpoints.due(t)) {
            auto c0 = Clock::now();
            checkpoints.save(run.model, run.tr, *run.sampler, loop, clock.seconds());
            clock.measure_seconds += seconds_since(c0);
        }
        if (t == cfg.stop_after) return false;
    }
    check_final_budget(run, info);
    return true;
}

}  // namespace adalora

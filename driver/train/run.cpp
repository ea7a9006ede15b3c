// run.cpp: the training loop shared by every method, and the run's files.
#include "train/run.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/lib_status.h"
#include "formats/adapter_file.h"
#include "train/adapter_report.h"
#include "train/init_state.h"
#include "config/conventions.h"
#include "train/machine.h"
#include "train/methods.h"
#include "train/projection_step.h"
#include "train/run_dir.h"
#include "train/run_index.h"
#include "train/run_state.h"
#include "tasks/tasks.h"
#include "train/trace.h"

extern "C" {
#include "rng.h"
#include "trainer.h"
}

namespace adalora {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string fmt(double v) {
    if (std::isnan(v)) return "nan";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

std::string ranks_text(const ada_model *m) {
    std::string s;
    for (int k = 0; k < m->n_modules; k++) s += (k ? " " : "") + std::to_string(ada_model_kept_rank(m, k));
    return s;
}

// Whether the trainer masks at the end of its current step.
bool mask_step_due(const ada_trainer *tr) {
    long budget;
    ada_mask_action action;
    check(ada_trainer_schedule_now(tr, &budget, nullptr, &action), "schedule");
    return tr->config.prune && action == ADA_ACTION_MASK;
}

// Task loss of the current weights on one batch (no gradient).
double batch_task_loss(ada_model *m, const ada_batch &batch) {
    double loss;
    check(ada_model_forward(m, &batch, &loss, 0), "mask-jump forward");
    return loss;
}

nlohmann::json ranks_by_module(const ada_model *m, const std::vector<int> &values) {
    nlohmann::json j = nlohmann::json::object();
    for (int k = 0; k < m->n_modules; k++) j[m->modules[k].name] = values[k];
    return j;
}

void append_ranks(std::string &csv, long step, const ada_model *m) {
    for (int k = 0; k < m->n_modules; k++)
        csv += std::to_string(step) + "," + m->modules[k].name + "," + std::to_string(ada_model_kept_rank(m, k)) + "\n";
}

struct Logger {
    LogMode mode;
    long total;
    Clock::time_point t0 = Clock::now();
    double last_print = -1;
    double task_sum = 0;  // task losses since the last line: one batch is noisy
    long task_count = 0;

    void step(const ada_step_info &info, const ada_model *m) {
        if (mode == LogMode::quiet) return;
        task_sum += info.task_loss;
        task_count++;
        double now = seconds_since(t0);
        if (mode == LogMode::progress) {
            if (now - last_print < 0.2 && info.step != total) return;
            last_print = now;
            double eta = now / info.step * (total - info.step);
            std::fprintf(stderr, "\r[%ld/%ld] loss %.5g  b(t) %ld  kept %ld  ETA %.1fs   ", info.step, total,
                         info.loss, info.budget, info.kept, eta);
            if (info.step == total) std::fprintf(stderr, "\n");
            return;
        }
        long every = std::max(1L, total / 10);
        if (info.step == 1 || info.step % every == 0 || info.step == total) {
            std::fprintf(stderr, "step %6ld/%ld  loss %.6g  task loss (mean since last line) %.6g  b(t) %ld  kept ranks %s\n",
                         info.step, total, info.loss, task_sum / task_count, info.budget, ranks_text(m).c_str());
            task_sum = 0;
            task_count = 0;
        }
    }
};

}  // namespace

nlohmann::json config_json(const RunConfig &c) {
    return {{"task", c.task}, {"method", c.method}, {"seed", c.seed},
            {"init_r", c.init_r}, {"target_r", c.target_r}, {"target_budget", c.target_budget},
            {"tinit", c.tinit}, {"tfinal", c.tfinal}, {"deltaT", c.deltaT}, {"total_step", c.total_step},
            {"beta1", c.beta1}, {"beta2", c.beta2}, {"orth_reg_weight", c.orth_reg_weight},
            {"lora_alpha", c.lora_alpha}, {"lora_r", c.lora_r}, {"lr", c.lr}, {"weight_decay", c.weight_decay},
            {"clip", c.clip}, {"convention", c.convention}, {"convention_rows", c.convention_rows}, {"batch", c.batch}, {"importance", c.importance}, {"no_prune", c.no_prune}, {"hard_delete", c.hard_delete},
            {"svd", c.svd}, {"log_every", c.log_every}, {"log", c.log}, {"mask_jump", c.mask_jump}, {"on_nonfinite", c.on_nonfinite}, {"width", c.task_opt.width}, {"layers", c.task_opt.layers},
            {"planted_ranks", c.task_opt.planted_ranks}, {"noise", c.task_opt.noise},
            {"train_rows", c.task_opt.train_rows}, {"test_rows", c.task_opt.test_rows},
            {"data_dir", c.task_opt.data_dir}, {"cache_dir", c.task_opt.cache_dir},
            {"pretrain_steps", c.task_opt.pretrain_steps}, {"pretrain_seed", c.task_opt.pretrain_seed},
            {"base_weights", c.task_opt.base_weights}};
}

nlohmann::json conventions_json(const RunConfig &cfg) {
    nlohmann::json j = nlohmann::json::object();  // what each row of the conventions table of docs/SPEC.md §4 was here
    for (const auto &row : convention_rows()) j[row.option] = convention_value(cfg, row);
    return j;
}

namespace {

const char kMetricsHeader[] =
    "step,loss,task_loss,orth,budget,kept,threshold,lr,seconds,orth_P,orth_Q,revived,pruned,mask_jump\n";

// The checkpoints of a run (run_dir.h); does nothing when checkpointing is off.
// The Checkpoint and its bytes are kept across saves, so a save reuses their
// memory (the logs grow, the tensors do not).
class Checkpointer {
public:
    Checkpointer(const RunConfig &cfg, uint64_t origin) : cfg_(cfg), on_(checkpointing(cfg)) {
        ck_.config = config_json(cfg).dump();
        ck_.origin = origin;
    }
    bool on() const { return on_; }
    // Whether step t ends with a checkpoint: every save_every steps, at
    // --stop-after and at the last step (the trained adapters).
    bool due(long t) const {
        return on_ && ((cfg_.save_every > 0 && t % cfg_.save_every == 0) || t == cfg_.stop_after || t == cfg_.total_step);
    }
    // The step-0 checkpoint creates the run directory.
    void save(const ada_model *m, const ada_trainer *tr, const BatchSampler &sampler, const LoopState &loop,
              double train_seconds) {
        capture(ck_.train, m, tr);
        ck_.sampler = sampler.rng_state();
        ck_.loop = loop;
        ck_.loop.train_seconds = train_seconds;
        serialize_checkpoint(ck_, bytes_);
        if (tr->completed == 0) create_run_dir(cfg_.out, bytes_);
        else save_checkpoint(cfg_.out, bytes_);
        saved_step_ = tr->completed;
    }
    // A resumed run starts with its checkpoint on disk.
    void resumed_at(long step) { saved_step_ = step; }
    // What a stopped run leaves, for the message of a non-finite value.
    std::string kept_note() const {
        if (saved_step_ < 0) return "no checkpoint written (use --save-every N to keep one)";
        return "the last good checkpoint (step " + std::to_string(saved_step_) + ") is kept in " + cfg_.out;
    }

private:
    const RunConfig &cfg_;
    const bool on_;
    Checkpoint ck_;
    std::string bytes_;
    long saved_step_ = -1;
};

// Puts a run back where the checkpoint left it, after checking it is this run's.
void resume_from(const Checkpoint &c, uint64_t origin, ada_model *m, ada_trainer *tr, BatchSampler &sampler,
                 LoopState &loop, const std::string &dir) {
    if (c.origin != origin)
        throw UsageError("--resume " + dir + ": the frozen base or the task data differ from the checkpoint's (hash " +
                         std::to_string(c.origin) + ", now " + std::to_string(origin) + ")");
    restore(c.train, m, tr);
    sampler.set_rng_state(c.sampler);
    loop = c.loop;
}

}  // namespace

RunOutput train_run(const RunConfig &cfg, LogMode log, const Checkpoint *resume) {
    Task task = make_task(cfg);
    MethodSetup setup = setup_method(cfg, task);
    ada_model *model = nullptr;
    check(ada_model_create(&model, &setup.model), "model");
    std::unique_ptr<ada_model, void (*)(ada_model *)> model_owner(model, ada_model_free);
    apply_base(task, model);  // a pretrained base (digits) replaces the random one
    ada_trainer *tr = nullptr;
    check(ada_trainer_create(&tr, model, &setup.train), "trainer");
    std::unique_ptr<ada_trainer, void (*)(ada_trainer *)> trainer_owner(tr, ada_trainer_free);
    std::unique_ptr<ProjectionStep> projection;
    if (setup.svd_proj) projection = std::make_unique<ProjectionStep>(model, tr, cfg.svd == "full");

    RunOutput out;
    const size_t params_initial = ada_model_param_count(model, 0);
    BatchSampler sampler(task.train, cfg.batch, cfg.seed ^ 0xba7c4e5ULL);
    // --init-from replays a directory's state and batches; --dump-init writes
    // the sampler's batches and the run then replays them, the very arrays dumped.
    std::unique_ptr<BatchSet> replay;
    if (!cfg.init_from.empty()) {
        replay = std::make_unique<BatchSet>(
            load_init(cfg.init_from, run_index_header(cfg, setup, model, "adalora-init"), task.train, model));
    } else if (!cfg.dump_init.empty()) {
        replay = std::make_unique<BatchSet>(collect_batches(sampler, task.train, cfg.total_step, cfg.batch));
        dump_init(cfg.dump_init, run_index_header(cfg, setup, model, "adalora-init"), model, *replay);
    }
    std::unique_ptr<Tracer> tracer;
    if (!cfg.trace.empty()) {
        tracer = std::make_unique<Tracer>(cfg.trace, cfg.trace_steps, run_index_header(cfg, setup, model, "adalora-trace"),
                                          model, tr);
        tracer->initial();
    }
    LoopState loop;
    const uint64_t origin = origin_hash(task, model);
    Checkpointer checkpoints(cfg, origin);
    if (resume) {
        resume_from(*resume, origin, model, tr, sampler, loop, cfg.resume);
        checkpoints.resumed_at(tr->completed);
    } else {
        loop.metrics_csv = kMetricsHeader;
        loop.ranks_csv = "step,module,kept_rank\n";
        append_ranks(loop.ranks_csv, 0, model);
    }
    Logger logger{log, cfg.total_step};
    const MachineInfo machine = machine_info();
    if (log != LogMode::quiet) std::fprintf(stderr, "%s\n", blas_line(machine).c_str());
    if (log != LogMode::quiet && !task.pretrain_cache.empty() && task.base_file.empty())
        std::fprintf(stderr, "pretrained base %s: %s, test accuracy %.4f on its own task\n", task.pretrain_cache.c_str(),
                     task.pretrain_cache_status.c_str(), task.pretrain_test_accuracy);
    ada_step_info info{};
    const auto t0 = Clock::now();
    OrthMeter orth_meter(model);
    double measure_seconds = 0;  // time of the optional measurements and of checkpoints, not training
    auto train_seconds = [&] { return loop.train_seconds + seconds_since(t0) - measure_seconds; };
    if (checkpoints.on() && !resume) checkpoints.save(model, tr, sampler, loop, 0);
    // --on-nonfinite skip-step restores this copy of the state before the step.
    const bool skip_nonfinite = cfg.on_nonfinite == "skip-step";
    TrainState before_step;
    if (skip_nonfinite) capture(before_step, model, tr);  // sizes the copy once
    out.finished = true;
    for (long t = tr->completed + 1; t <= cfg.total_step; t++) {
        const ada_batch &batch = replay ? replay->at(t - 1) : sampler.next();
        if (skip_nonfinite) capture(before_step, model, tr);
        if (t == cfg.inject_nonfinite) model->params[0] = NAN;  // tests: after the copy, so skip-step undoes it
        ProjectionStep::Result proj;
        auto step = [&]() -> ada_status {
            ada_status st = ada_trainer_gradients(tr, &batch, &info);
            if (!st) st = ada_trainer_update(tr, &info);
            if (st) return st;
            if (tracer) tracer->before_mask(t);  // the weights and EMAs the allocation sees
            double before = NAN;
            if (cfg.mask_jump && (projection ? projection->due() : mask_step_due(tr))) {
                auto m0 = Clock::now();
                before = batch_task_loss(model, batch);
                measure_seconds += seconds_since(m0);
            }
            if (projection) {
                auto p0 = Clock::now();
                proj = projection->maybe_project();
                loop.svd_ms += seconds_since(p0) * 1e3;
            }
            if ((st = ada_trainer_allocate(tr, &info))) return st;
            if (projection) {  // svd-proj allocates outside the trainer
                info.budget = proj.budget;
                info.threshold = proj.threshold;
                info.action = proj.projected ? ADA_ACTION_MASK : ADA_ACTION_NONE;
            }
            if (!std::isnan(before)) {
                auto m0 = Clock::now();
                loop.jump_sum += batch_task_loss(model, batch) - before;
                loop.jumps++;
                measure_seconds += seconds_since(m0);
            }
            return ADA_OK;
        };
        ada_status st = step();
        if (st == ADA_ERR_NONFINITE) {
            if (!skip_nonfinite)
                throw NonFiniteError(std::string("training stopped: ") + ada_last_error() + "; " + checkpoints.kept_note());
            if (log != LogMode::quiet) std::fprintf(stderr, "adalora: skipped: %s\n", ada_last_error());
            restore(before_step, model, tr);  // back to the state before the step
            check(ada_trainer_skip_step(tr, &info), "skip step");
            loop.skipped++;
        } else {
            check(st, "step");
        }
        loop.revived += info.revived;
        loop.pruned += info.pruned;
        for (int p = 0; p < ADA_TIME_COUNT; p++) loop.ms[p] += info.ms[p];
        if (info.action == ADA_ACTION_MASK) append_ranks(loop.ranks_csv, t, model);
        if (t % cfg.log_every == 0 || t == cfg.total_step || t == 1) {
            auto m0 = Clock::now();
            OrthMeter::Mean orth = orth_meter.measure();
            measure_seconds += seconds_since(m0);
            loop.metrics_csv += std::to_string(t) + "," + fmt(info.loss) + "," + fmt(info.task_loss) + "," +
                                fmt(info.orth_raw) + "," + std::to_string(info.budget) + "," +
                                std::to_string(info.kept) + "," + fmt(info.threshold) + "," + fmt(cfg.lr) + "," +
                                fmt(train_seconds()) + "," + fmt(orth.p) + "," + fmt(orth.q) + "," +
                                std::to_string(loop.revived) + "," + std::to_string(loop.pruned) + "," +
                                fmt(loop.jumps ? loop.jump_sum / loop.jumps : NAN) + "\n";
            loop.revived = loop.pruned = loop.jumps = 0;
            loop.jump_sum = 0;
        }
        if (tracer) tracer->after_step(t, info);
        logger.step(info, model);
        if (checkpoints.due(t)) {
            auto c0 = Clock::now();
            checkpoints.save(model, tr, sampler, loop, train_seconds());
            measure_seconds += seconds_since(c0);
        }
        if (t == cfg.stop_after) {
            out.finished = false;
            break;
        }
    }
    if (tracer) tracer->finish();
    out.steps_done = tr->completed;
    out.metrics_csv = loop.metrics_csv;
    out.ranks_csv = loop.ranks_csv;
    if (!out.finished) return out;
    const double train_sec = train_seconds();
    const double *ms = loop.ms;

    std::vector<int> kept(model->n_modules);
    nlohmann::json pattern = nlohmann::json::object();
    for (int k = 0; k < model->n_modules; k++) {
        kept[k] = ada_model_kept_rank(model, k);
        std::vector<bool> flags(model->keep + (size_t)k * model->config.r0,
                                model->keep + (size_t)(k + 1) * model->config.r0);
        pattern[model->modules[k].name] = flags;
    }
    out.rank_pattern = pattern;

    nlohmann::json s;
    s["method"] = cfg.method;
    s["task"] = cfg.task;
    s["seed"] = cfg.seed;
    s["config"] = config_json(cfg);
    s["conventions"] = conventions_json(cfg);
    s["precision"] = ADA_PRECISION_NAME;
    s["machine"] = to_json(machine);
    s["scale"] = model->scale;
    s["final_train_loss"] = split_loss(model, task.train);
    s["final_test_loss"] = split_loss(model, task.test);
    s["kept_rank"] = ranks_by_module(model, kept);
    if (task.is_classification()) {
        s["final_train_accuracy"] = split_accuracy(model, task.train);
        s["final_test_accuracy"] = split_accuracy(model, task.test);
    }
    if (!task.pretrain_cache.empty() && task.base_file.empty()) {
        s["pretrain_test_accuracy"] = task.pretrain_test_accuracy;
        s["pretrain_cache"] = task.pretrain_cache;  // the file; whether it was a hit is logged only
    }
    if (task.planted_rank.empty()) s["planted_rank"] = nullptr;  // digits: no planted ranks
    else s["planted_rank"] = ranks_by_module(model, task.planted_rank);
    s["target_budget"] = setup.target_budget;
    if (task.has_oracle()) {
        // One oracle for every method: the asked b(T), at most init_r per module.
        Oracle oracle = oracle_allocation(task, requested_budget(cfg, model->n_modules), cfg.init_r);
        double expected = expected_loss(task, model);
        long alloc_error = 0;
        int exact = 0;
        for (int k = 0; k < model->n_modules; k++) {
            alloc_error += std::labs((long)kept[k] - oracle.rank[k]);
            exact += kept[k] == oracle.rank[k];
        }
        s["expected_test_loss"] = expected;
        s["oracle_test_loss"] = oracle.loss;
        s["gap_to_oracle"] = expected - oracle.loss;
        s["oracle_rank"] = ranks_by_module(model, oracle.rank);
        s["allocation_error"] = alloc_error;
        s["modules_matching_oracle"] = exact;
    } else {
        s["oracle_test_loss"] = nullptr;
        s["oracle_rank"] = nullptr;
    }
    s["adapters"] = adapter_report(model, task);
    s["trainable_params_initial"] = params_initial;
    s["trainable_params_final"] = ada_model_param_count(model, 1);
    s["steps"] = cfg.total_step;
    s["skipped_steps"] = loop.skipped;
    s["ms_per_step"] = train_sec * 1e3 / cfg.total_step;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    s["peak_rss_kib"] = usage.ru_maxrss;  // of the whole process, up to the end of training (Linux: KiB)
    s["time_ms"] = {{"forward", ms[ADA_TIME_FORWARD]},     {"backward", ms[ADA_TIME_BACKWARD]},
                    {"optimizer", ms[ADA_TIME_OPTIMIZER]}, {"importance", ms[ADA_TIME_IMPORTANCE]},
                    {"allocation", ms[ADA_TIME_ALLOCATION]}, {"svd", loop.svd_ms}};
    out.summary = s;
    out.adapter = run_adapter_tensors(model, s["config"]);
    return out;
}

std::vector<std::pair<std::string, std::string>> run_files(const RunOutput &out) {
    std::vector<std::pair<std::string, std::string>> files = {
            {"metrics.csv", out.metrics_csv},
            {"ranks.csv", out.ranks_csv},
            {"rank_pattern.json", out.rank_pattern.dump() + "\n"},
            {"summary.json", out.summary.dump(2) + "\n"}};
    if (!out.adapter.tensors.empty()) files.emplace_back(kAdapterFileName, serialize_safetensors(out.adapter));
    return files;
}

void write_run(const std::string &dir, const RunOutput &out) { write_dir_atomic(dir, run_files(out)); }

RunOutput run_and_write(const RunConfig &cfg, LogMode log) {
    if (!checkpointing(cfg)) {
        RunOutput out = train_run(cfg, log);
        write_run(cfg.out, out);
        return out;
    }
    std::unique_ptr<Checkpoint> resume;
    if (!cfg.resume.empty()) resume = std::make_unique<Checkpoint>(load_for_resume(cfg));
    else check_output_dir(cfg.out);
    RunOutput out = train_run(cfg, log, resume.get());
    if (out.finished) finish_run_dir(cfg.out, out);
    return out;
}

}  // namespace adalora

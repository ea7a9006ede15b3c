// run.cpp: the training loop shared by every method, and the run's files.
#include "run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "adapter_report.h"
#include "conventions.h"
#include "machine.h"
#include "methods.h"
#include "projection_step.h"
#include "tasks.h"

extern "C" {
#include "rng.h"
#include "trainer.h"
}

namespace adalora {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void check(ada_status st, const char *what) {
    if (st != ADA_OK) throw std::runtime_error(std::string(what) + ": " + ada_last_error());
}

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
            {"svd", c.svd}, {"log_every", c.log_every}, {"log", c.log}, {"mask_jump", c.mask_jump}, {"width", c.task_opt.width}, {"layers", c.task_opt.layers},
            {"planted_ranks", c.task_opt.planted_ranks}, {"noise", c.task_opt.noise},
            {"train_rows", c.task_opt.train_rows}, {"test_rows", c.task_opt.test_rows},
            {"data_dir", c.task_opt.data_dir}, {"cache_dir", c.task_opt.cache_dir},
            {"pretrain_steps", c.task_opt.pretrain_steps}, {"pretrain_seed", c.task_opt.pretrain_seed}};
}

RunOutput train_run(const RunConfig &cfg, LogMode log) {
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
    out.metrics_csv = "step,loss,task_loss,orth,budget,kept,threshold,lr,seconds,orth_P,orth_Q,revived,pruned,mask_jump\n";
    out.ranks_csv = "step,module,kept_rank\n";
    append_ranks(out.ranks_csv, 0, model);
    const size_t params_initial = ada_model_param_count(model, 0);

    BatchSampler sampler(task.train, cfg.batch, cfg.seed ^ 0xba7c4e5ULL);
    Logger logger{log, cfg.total_step};
    if (log != LogMode::quiet && !task.base.empty())
        std::fprintf(stderr, "pretrained base %s: %s, test accuracy %.4f on its own task\n", task.pretrain_cache.c_str(),
                     task.pretrain_cache_status.c_str(), task.pretrain_test_accuracy);
    double ms[ADA_TIME_COUNT] = {0}, svd_ms = 0;
    ada_step_info info{};
    const auto t0 = Clock::now();
    OrthMeter orth_meter(model);
    long revived = 0, pruned = 0, jumps = 0;
    double jump_sum = 0, measure_seconds = 0;  // time of the optional measurements, not training
    for (long t = 1; t <= cfg.total_step; t++) {
        const ada_batch &batch = sampler.next();
        check(ada_trainer_gradients(tr, &batch, &info), "gradients");
        check(ada_trainer_update(tr, &info), "update");
        double before = NAN;
        if (cfg.mask_jump && (projection ? projection->due() : mask_step_due(tr))) {
            auto m0 = Clock::now();
            before = batch_task_loss(model, batch);
            measure_seconds += seconds_since(m0);
        }
        ProjectionStep::Result proj;
        if (projection) {
            auto p0 = Clock::now();
            proj = projection->maybe_project();
            svd_ms += seconds_since(p0) * 1e3;
        }
        check(ada_trainer_allocate(tr, &info), "allocate");
        if (projection) {  // svd-proj allocates outside the trainer
            info.budget = proj.budget;
            info.threshold = proj.threshold;
            info.action = proj.projected ? ADA_ACTION_MASK : ADA_ACTION_NONE;
        }
        if (!std::isnan(before)) {
            auto m0 = Clock::now();
            jump_sum += batch_task_loss(model, batch) - before;
            jumps++;
            measure_seconds += seconds_since(m0);
        }
        revived += info.revived;
        pruned += info.pruned;
        for (int p = 0; p < ADA_TIME_COUNT; p++) ms[p] += info.ms[p];
        if (info.action == ADA_ACTION_MASK) append_ranks(out.ranks_csv, t, model);
        if (t % cfg.log_every == 0 || t == cfg.total_step || t == 1) {
            auto m0 = Clock::now();
            OrthMeter::Mean orth = orth_meter.measure();
            measure_seconds += seconds_since(m0);
            out.metrics_csv += std::to_string(t) + "," + fmt(info.loss) + "," + fmt(info.task_loss) + "," +
                               fmt(info.orth_raw) + "," + std::to_string(info.budget) + "," +
                               std::to_string(info.kept) + "," + fmt(info.threshold) + "," + fmt(cfg.lr) + "," +
                               fmt(seconds_since(t0) - measure_seconds) + "," + fmt(orth.p) + "," + fmt(orth.q) +
                               "," + std::to_string(revived) + "," + std::to_string(pruned) + "," +
                               fmt(jumps ? jump_sum / jumps : NAN) + "\n";
            revived = pruned = jumps = 0;
            jump_sum = 0;
        }
        logger.step(info, model);
    }
    const double train_seconds = seconds_since(t0) - measure_seconds;

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
    nlohmann::json conventions = nlohmann::json::object();  // what each row of the spec's table was here
    for (const auto &row : convention_rows()) conventions[row.option] = convention_value(cfg, row);
    s["conventions"] = conventions;
    s["precision"] = ADA_PRECISION_NAME;
    s["machine"] = to_json(machine_info());
    s["scale"] = model->scale;
    s["final_train_loss"] = split_loss(model, task.train);
    s["final_test_loss"] = split_loss(model, task.test);
    s["kept_rank"] = ranks_by_module(model, kept);
    if (task.is_classification()) {
        s["final_train_accuracy"] = split_accuracy(model, task.train);
        s["final_test_accuracy"] = split_accuracy(model, task.test);
    }
    if (!task.base.empty()) {
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
    s["ms_per_step"] = train_seconds * 1e3 / cfg.total_step;
    s["time_ms"] = {{"forward", ms[ADA_TIME_FORWARD]},     {"backward", ms[ADA_TIME_BACKWARD]},
                    {"optimizer", ms[ADA_TIME_OPTIMIZER]}, {"importance", ms[ADA_TIME_IMPORTANCE]},
                    {"allocation", ms[ADA_TIME_ALLOCATION]}, {"svd", svd_ms}};
    out.summary = s;
    return out;
}

namespace {
// "runs/x/" names the directory runs/x.
std::string without_trailing_slash(std::string dir) {
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir;
}
}  // namespace

void check_output_dir(const std::string &dir) {
    fs::path p(without_trailing_slash(dir));
    std::error_code ec;
    if (fs::exists(p, ec)) throw UsageError("--out " + dir + ": already exists (choose a new directory)");
    fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
    if (!fs::is_directory(parent, ec)) throw UsageError("--out " + dir + ": parent directory " + parent.string() + " does not exist");
    // access(W_OK) says yes to root even where mkdir fails (a read-only or
    // virtual file system such as /proc), so try to create an entry there.
    fs::path probe = p;
    probe += ".probe-" + std::to_string(getpid());
    if (!fs::create_directory(probe, ec) && ec)
        throw UsageError("--out " + dir + ": parent directory " + parent.string() + " is not writable (" + ec.message() + ")");
    fs::remove(probe, ec);
}

namespace {
void write_file(const fs::path &path, const std::string &text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + path.string());
}
}  // namespace

void write_run(const std::string &dir, const RunOutput &out) {
    check_output_dir(dir);
    fs::path final_dir(without_trailing_slash(dir));
    fs::path tmp = final_dir;
    tmp += ".tmp-" + std::to_string(getpid());
    fs::remove_all(tmp);
    try {
        fs::create_directory(tmp);
        write_file(tmp / "metrics.csv", out.metrics_csv);
        write_file(tmp / "ranks.csv", out.ranks_csv);
        write_file(tmp / "rank_pattern.json", out.rank_pattern.dump() + "\n");
        write_file(tmp / "summary.json", out.summary.dump(2) + "\n");
        fs::rename(tmp, final_dir);
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
}

}  // namespace adalora

// summary.cpp: what a finished run reports.
#include "train/summary.h"

#include <sys/resource.h>

#include <cstdlib>
#include <vector>

#include "train/adapter_report.h"
#include "tasks/sentence_tasks.h"
#include "train/config_json.h"
#include "train/encoder_report.h"
#include "train/methods.h"
#include "base/util.h"

namespace adalora {

namespace {

nlohmann::json ranks_by_module(const ada_model *m, const std::vector<int> &values) {
    nlohmann::json j = nlohmann::json::object();
    for (int k = 0; k < m->n_modules; k++) j[m->modules[k].name] = values[k];
    return j;
}

std::vector<int> kept_ranks(const ada_model *m) {
    std::vector<int> kept(m->n_modules);
    for (int k = 0; k < m->n_modules; k++) kept[k] = ada_model_kept_rank(m, k);
    return kept;
}

// The final losses and accuracies, the pretrained base and the planted ranks.
// Each split is one pass (split_metrics); a sentence task's training split
// none with --no-train-eval.
void add_results(nlohmann::json &s, const RunConfig &cfg, const Task &task, ada_model *model) {
    const bool classify = task.is_classification();
    auto put = [&](const char *split, const SplitMetrics &r) {
        s[std::string("final_") + split + "_loss"] = r.loss;
        if (classify) s[std::string("final_") + split + "_accuracy"] = r.accuracy;
    };
    if (task.has_encoder() && cfg.task_opt.no_train_eval) {
        s["final_train_loss"] = nullptr;
        if (classify) s["final_train_accuracy"] = nullptr;
    } else {
        put("train", split_metrics(model, task.train, classify));
    }
    put("test", split_metrics(model, task.test, classify));
    s["kept_rank"] = ranks_by_module(model, kept_ranks(model));
    if (task.has_encoder()) {  // the sentence tasks: the dev split, the model, the data
        put("dev", split_metrics(model, task.dev, classify));
        s["model_dir"] = recorded_path(task.encoder->checkpoint.dir);
        s["data_file"] = recorded_path(task.encoder->data_file);
        s["sentences"] = {{"train", task.train.rows}, {"dev", task.dev.rows}, {"test", task.test.rows}};
        s["provenance"] = sentence_provenance(task);
        s["kept_rank_by_layer"] = kept_rank_by_layer(model);
    }
    if (!task.pretrain_cache.empty() && task.base_file.empty()) {
        s["pretrain_test_accuracy"] = task.pretrain_test_accuracy;
        s["pretrain_cache"] = task.pretrain_cache;  // the file; whether it was a hit is logged only
    }
    if (task.planted_rank.empty()) s["planted_rank"] = nullptr;  // digits: no planted ranks
    else s["planted_rank"] = ranks_by_module(model, task.planted_rank);
}

// The oracle's allocation and how far the run's is from it.
void add_oracle(nlohmann::json &s, const RunConfig &cfg, const Task &task, ada_model *model) {
    if (!task.has_oracle()) {
        s["oracle_test_loss"] = nullptr;
        s["oracle_rank"] = nullptr;
        return;
    }
    // One oracle for every method: the asked b(T), at most init_r per module.
    Oracle oracle = oracle_allocation(task, requested_budget(cfg, model->n_modules), cfg.init_r);
    double expected = expected_loss(task, model);
    const std::vector<int> kept = kept_ranks(model);
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
}

// Parameter counts, steps, time per step and per phase, peak memory.
void add_costs(nlohmann::json &s, const RunConfig &cfg, const RunSetup &run, const LoopState &loop,
               double train_seconds) {
    const double *ms = loop.ms;
    s["trainable_params_initial"] = run.params_initial;
    s["trainable_params_final"] = ada_model_param_count(run.model, 1);
    s["steps"] = cfg.total_step;
    s["skipped_steps"] = loop.skipped;
    s["blas_changes"] = nlohmann::json::parse(loop.blas_changes);  // resumes under another BLAS (run_checkpoints.h)
    s["ms_per_step"] = train_seconds * 1e3 / cfg.total_step;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    s["peak_rss_kib"] = usage.ru_maxrss;  // of the whole process, up to the end of training (Linux: KiB)
    s["time_ms"] = {{"forward", ms[ADA_TIME_FORWARD]},     {"backward", ms[ADA_TIME_BACKWARD]},
                    {"optimizer", ms[ADA_TIME_OPTIMIZER]}, {"importance", ms[ADA_TIME_IMPORTANCE]},
                    {"allocation", ms[ADA_TIME_ALLOCATION]}, {"svd", loop.svd_ms}};
}

}  // namespace

nlohmann::json rank_pattern_json(const ada_model *m) {
    nlohmann::json pattern = nlohmann::json::object();
    for (int k = 0; k < m->n_modules; k++) {
        std::vector<bool> flags(m->keep + (size_t)k * m->config.r0, m->keep + (size_t)(k + 1) * m->config.r0);
        pattern[m->modules[k].name] = flags;
    }
    return pattern;
}

nlohmann::json summary_json(const RunConfig &cfg, RunSetup &run, const MachineInfo &machine, const LoopState &loop,
                            double train_seconds) {
    nlohmann::json s;
    s["method"] = cfg.method;
    s["task"] = cfg.task;
    s["seed"] = cfg.seed;
    s["config"] = config_json(cfg);
    s["conventions"] = conventions_json(cfg);
    s["precision"] = ADA_PRECISION_NAME;
    s["machine"] = to_json(machine);
    s["scale"] = run.model->scale;
    add_results(s, cfg, run.task, run.model);
    s["target_budget"] = run.method.target_budget;
    add_oracle(s, cfg, run.task, run.model);
    s["adapters"] = adapter_report(run.model, run.task);
    add_costs(s, cfg, run, loop, train_seconds);
    return s;
}

}  // namespace adalora

// run.cpp: one training run: its parts (run_setup.h), the loop
// (train_loop.h), then its files (metrics_log.h, summary.h).
#include "train/run.h"

#include <cstdio>
#include <memory>

#include "formats/adapter_file.h"
#include "train/encoder_report.h"
#include "train/machine.h"
#include "train/memory_estimate.h"
#include "train/metrics_log.h"
#include "train/run_checkpoints.h"
#include "train/run_dir.h"
#include "train/run_setup.h"
#include "train/summary.h"
#include "train/train_loop.h"

namespace adalora {

namespace {

// What the run tells stderr before its first step.
void log_start(LogMode log, const MachineInfo &machine, const Task &task) {
    if (log == LogMode::quiet) return;
    std::fprintf(stderr, "%s\n", blas_line(machine).c_str());
    if (!task.pretrain_cache.empty() && task.base_file.empty())
        std::fprintf(stderr, "pretrained base %s: %s, test accuracy %.4f on its own task\n", task.pretrain_cache.c_str(),
                     task.pretrain_cache_status.c_str(), task.pretrain_test_accuracy);
}

// The loop state of a new run, or of the checkpoint a resumed run continues.
LoopState start_state(const RunConfig &cfg, const Checkpoint *resume, RunSetup &run, Checkpointer &checkpoints,
                      const std::string &blas) {
    LoopState loop;
    if (resume) {
        resume_from(*resume, run.task, run.origin, blas, run.model, run.tr, *run.sampler, loop, cfg.resume);
        checkpoints.resumed_at(run.tr->completed);
    } else {
        loop.metrics_csv = kMetricsHeader;
        loop.ranks_csv = kRanksHeader;
        append_ranks(loop.ranks_csv, 0, run.model);
    }
    return loop;
}

}  // namespace

RunOutput train_run(const RunConfig &cfg, LogMode log, const Checkpoint *resume, const LoopHooks *hooks) {
    check_run_fits(cfg);  // before anything is allocated
    RunSetup run(cfg);
    const MachineInfo machine = machine_info();
    Checkpointer checkpoints(cfg, run.origin, blas_config(machine));
    LoopState loop = start_state(cfg, resume, run, checkpoints, blas_config(machine));
    log_start(log, machine, run.task);
    TrainClock clock;
    clock.earlier = loop.train_seconds;
    if (checkpoints.on() && !resume) checkpoints.save(run.model, run.tr, *run.sampler, loop, 0);
    RunOutput out;
    out.finished = train_loop(cfg, log, run, loop, checkpoints, clock, hooks);
    if (run.tracer) run.tracer->finish();
    out.steps_done = run.tr->completed;
    out.metrics_csv = loop.metrics_csv;
    out.ranks_csv = loop.ranks_csv;
    out.dev_csv = loop.dev_csv;
    if (!out.finished) return out;
    if (run.task.has_encoder() && log != LogMode::quiet)
        std::fprintf(stderr, "%s", kept_rank_table(run.model).c_str());
    const double train_seconds = clock.seconds();
    out.rank_pattern = rank_pattern_json(run.model);
    out.summary = summary_json(cfg, run, machine, loop, train_seconds);
    // An encoder's trained head goes in as head.weight / head.bias (formats/adapter_file.h).
    const int head_outputs = run.encoder ? ada_encoder_config_of(run.encoder.get())->n_outputs : 0;
    out.adapter = run_adapter_tensors(run.model, out.summary["config"], head_outputs);
    return out;
}

std::vector<std::pair<std::string, std::string>> run_files(const RunOutput &out) {
    std::vector<std::pair<std::string, std::string>> files = {
            {"metrics.csv", out.metrics_csv},
            {"ranks.csv", out.ranks_csv},
            {"rank_pattern.json", out.rank_pattern.dump() + "\n"},
            {"summary.json", out.summary.dump(2) + "\n"}};
    if (!out.adapter.tensors.empty()) files.emplace_back(kAdapterFileName, serialize_safetensors(out.adapter));
    if (!out.dev_csv.empty()) files.emplace_back("dev.csv", out.dev_csv);
    return files;
}

void write_run(const std::string &dir, const RunOutput &out) { write_dir_atomic(dir, run_files(out)); }

RunOutput run_and_write(const RunConfig &cfg, LogMode log, const LoopHooks *hooks) {
    if (!checkpointing(cfg)) {
        RunOutput out = train_run(cfg, log, nullptr, hooks);
        write_run(cfg.out, out);
        return out;
    }
    RunDirLease lease(cfg.out);  // the run directory's lock (run_dir.h) ends with this run
    std::unique_ptr<Checkpoint> resume;
    if (!cfg.resume.empty()) {
        load_for_resume(cfg);  // reads only: a refused resume changes nothing, not even the lock file
        lock_run_dir(cfg.resume);
        resume = std::make_unique<Checkpoint>(load_for_resume(cfg));  // as the holder of the lock sees it
    } else {
        check_output_dir(cfg.out);
    }
    RunOutput out = train_run(cfg, log, resume.get(), hooks);
    if (out.finished) finish_run_dir(cfg.out, out);
    return out;
}

}  // namespace adalora

// commands.cpp: train, compare and schedule.
#include "cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <vector>

#include "base/util.h"
#include "train/run.h"
#include "train/trace.h"

extern "C" {
#include "schedule.h"
}

namespace adalora {

int cmd_train(const RunConfig &cfg) {
    validate(cfg);
    if (cfg.resume.empty()) check_output_dir(cfg.out);
    validate_crosscheck(cfg);
    LogMode mode = cfg.log == "lines" ? LogMode::lines
                   : cfg.log == "progress" ? LogMode::progress
                   : cfg.log == "quiet"    ? LogMode::quiet
                   : isatty(2)             ? LogMode::progress
                                           : LogMode::lines;
    RunOutput out = run_and_write(cfg, mode);
    if (!out.finished) {
        std::printf("%s on %s: stopped after step %ld of %ld; checkpoint in %s; continue with: adalora train --resume %s\n",
                    cfg.method.c_str(), cfg.task.c_str(), out.steps_done, cfg.total_step, cfg.out.c_str(),
                    cfg.out.c_str());
        return 0;
    }
    const auto &s = out.summary;
    std::printf("%s on %s: final test loss %.6g", cfg.method.c_str(), cfg.task.c_str(),
                s["final_test_loss"].get<double>());
    if (!s["oracle_test_loss"].is_null())
        std::printf(", expected loss %.6g, oracle %.6g", s["expected_test_loss"].get<double>(),
                    s["oracle_test_loss"].get<double>());
    if (s.contains("final_test_accuracy"))
        std::printf(", test accuracy %.4f", s["final_test_accuracy"].get<double>());
    std::printf(", %zu -> %zu trainable parameters, %.3f ms/step; wrote %s\n",
                s["trainable_params_initial"].get<size_t>(), s["trainable_params_final"].get<size_t>(),
                s["ms_per_step"].get<double>(), cfg.out.c_str());
    return 0;
}

int cmd_compare(const RunConfig &base, const std::string &methods) {
    std::vector<std::string> list;
    std::stringstream ss(methods);
    for (std::string m; std::getline(ss, m, ',');) list.push_back(m);
    RunConfig probe = base;
    if (probe.out.empty()) probe.out = "-";  // compare writes only when --out is given
    if (list.empty()) throw UsageError("--methods is empty: allowed values are comma lists of " + join(kMethods, ", "));
    for (size_t i = 0; i < list.size(); i++) {
        probe.method = list[i];
        validate(probe);
        if (std::find(list.begin(), list.begin() + i, list[i]) != list.begin() + i)
            throw UsageError("--methods: '" + list[i] + "' is listed twice");
    }
    if (!base.out.empty()) check_output_dir(base.out);
    std::vector<RunOutput> runs;
    for (const auto &m : list) {
        RunConfig cfg = base;
        cfg.method = m;
        std::fprintf(stderr, "== %s\n", m.c_str());
        runs.push_back(train_run(cfg, m == "adalora" ? LogMode::lines : LogMode::quiet));
    }
    std::printf("\n%s, seed %llu, b(T) = %ld, T = %ld", base.task.c_str(), (unsigned long long)base.seed,
                runs[0].summary["target_budget"].get<long>(), base.total_step);
    if (runs[0].summary["planted_rank"].is_object()) {
        long planted = 0;
        for (auto &kv : runs[0].summary["planted_rank"].items())
            planted += std::min(kv.value().get<long>(), (long)base.init_r);
        std::printf(" (planted ranks capped at init_r sum to %ld)", planted);
    }
    std::printf("\n");
    std::printf("%-11s %10s %12s %12s %10s %10s %9s\n", "method", "params", "test loss", "gap", "alloc err",
                "exact mods", "ms/step");
    for (size_t i = 0; i < runs.size(); i++) {
        const auto &s = runs[i].summary;
        bool oracle = !s["oracle_test_loss"].is_null();
        double loss = oracle ? s["expected_test_loss"].get<double>() : s["final_test_loss"].get<double>();
        std::printf("%-11s %10zu %12.5g", list[i].c_str(), s["trainable_params_final"].get<size_t>(), loss);
        if (s.contains("final_test_accuracy")) std::printf("  accuracy %.4f", s["final_test_accuracy"].get<double>());
        if (oracle)
            std::printf(" %12.5g %10ld %10d", s["gap_to_oracle"].get<double>(), s["allocation_error"].get<long>(),
                        s["modules_matching_oracle"].get<int>());
        else
            std::printf(" %12s %10s %10s", "-", "-", "-");
        std::printf(" %9.3f\n", s["ms_per_step"].get<double>());
    }
    if (!runs.empty() && !runs[0].summary["oracle_test_loss"].is_null())
        std::printf("%-11s %10s %12.5g %12s\n", "oracle", "-", runs[0].summary["oracle_test_loss"].get<double>(), "0");
    if (!base.out.empty()) {
        // DIR/<method> for every method, staged whole (write_run needs an
        // existing parent), so a failure leaves nothing.
        StagedDir staged(base.out, "--out");
        for (size_t i = 0; i < runs.size(); i++) write_run((staged.tmp() / list[i]).string(), runs[i]);
        staged.commit();
    }
    return 0;
}

int cmd_schedule(const ScheduleArgs &a) {
    if (a.convention != "paper" && a.convention != "peft")
        throw UsageError("--convention = '" + a.convention + "': allowed values are paper, peft");
    ada_schedule s{};
    s.b0 = a.b0;
    s.bT = a.bT;
    s.t_init = a.tinit;
    s.t_final = a.tfinal;
    s.total = a.total;
    s.delta_t = 1;
    ada_schedule_set_convention(&s, a.convention == "peft" ? ADA_SCHED_PEFT : ADA_SCHED_PAPER);
    if (a.b0 < 0) throw UsageError("--init-bgt = " + std::to_string(a.b0) + ": must be >= 0");
    if (a.bT < 0 || a.bT > a.b0)
        throw UsageError("--target-bgt = " + std::to_string(a.bT) + ": allowed 0..init-bgt = " + std::to_string(a.b0));
    if (a.tinit < 0) throw UsageError("--tinit = " + std::to_string(a.tinit) + ": must be >= 0");
    if (a.tfinal < 0) throw UsageError("--tfinal = " + std::to_string(a.tfinal) + ": must be >= 0");
    if (a.total <= a.tinit + a.tfinal)
        throw UsageError("--total-step = " + std::to_string(a.total) + ": must be > tinit + tfinal = " +
                         std::to_string(a.tinit + a.tfinal));
    const bool peft = s.step_base == 0;
    std::printf("# adalora schedule: Eq. 14 with (t - t_i) in the cubic term, convention %s\n", a.convention.c_str());
    std::printf("# %s\n", peft ? "steps 0..T-1 (global_step), warm-up step <= tinit, int() of PEFT's own cubic expression"
                               : "steps 1..T, warm-up t < t_i, the cubic value rounded to nearest");
    std::printf("# t b(t)\n");
    for (long t = peft ? 0 : 1; t <= (peft ? a.total - 1 : a.total); t++) {
        long b;
        if (ada_budget_at(&b, nullptr, t, &s) != ADA_OK) throw UsageError(ada_last_error());
        std::printf("%ld %ld\n", t, b);
    }
    return 0;
}

}  // namespace adalora

// main.cpp: the `adalora` command line. Parsing is CLI11's (Debian's
// libcli11-dev): typed options and one-line errors. Every bad input ends with
// one line on stderr and exit code 2, before anything is written; a
// non-finite value in training with exit code 3 (README: exit codes).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "train/blas_kernel.h"
#include "cli/commands.h"
#include "cli/encoder_step.h"
#include "config/conventions.h"
#include "config/options.h"
#include "cli/peft_commands.h"
#include "harness/report.h"
#include "train/run_dir.h"
#include "harness/sweep.h"
#include "suites/registry.h"
#include "cli/tokenize_command.h"
#include "cli/trace_diff.h"

namespace {

// The value of `--name V` or `--name=V` in args, "" when absent; given twice
// it is refused (a second --config was once silently ignored).
std::string single_option_value(const std::vector<std::string> &args, const std::string &name) {
    std::vector<std::string> values;
    for (size_t i = 0; i < args.size(); i++) {
        if (args[i] == name && i + 1 < args.size()) values.push_back(args[i + 1]);
        else if (args[i].rfind(name + "=", 0) == 0) values.push_back(args[i].substr(name.size() + 1));
    }
    if (values.size() > 1)
        throw adalora::UsageError(name + " given " + std::to_string(values.size()) + " times ('" + values[0] + "', '" +
                                  values[1] + "'): allowed once");
    if (!values.empty() && values[0].empty()) throw adalora::UsageError(name + " is empty: give a path");
    return values.empty() ? "" : values[0];
}

// argv with the tokens of `--resume DIR` (the run's stored options) and of
// `--config FILE` (after the subcommand) spliced in front of the flags, in
// that order, so the file overrides nothing stored and flags override the file.
std::vector<std::string> expand_config(int argc, char **argv, CLI::App *cmd) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::vector<std::string> file_tokens;
    const std::string config = single_option_value(args, "--config");
    if (!config.empty()) file_tokens = adalora::config_file_tokens(config, cmd);
    const std::string resume = !args.empty() && args[0] == "train" ? single_option_value(args, "--resume") : "";
    if (!resume.empty()) {
        std::vector<std::string> stored = adalora::resume_tokens(resume);
        file_tokens.insert(file_tokens.begin(), stored.begin(), stored.end());
    }
    if (file_tokens.empty() || args.empty()) return args;
    std::vector<std::string> out{args[0]};
    out.insert(out.end(), file_tokens.begin(), file_tokens.end());
    out.insert(out.end(), args.begin() + 1, args.end());
    return out;
}

// CLI11 answers a missing or misspelt subcommand only with "A subcommand is
// required"; this names the word given and the allowed ones.
void check_subcommand(CLI::App &app, int argc, char **argv) {
    if (argc > 1 && argv[1][0] == '-') return;  // --help, or an option CLI11 names
    std::string names;
    bool known = false;
    for (const CLI::App *sub : app.get_subcommands([](CLI::App *) { return true; })) {
        names += (names.empty() ? "" : ", ") + sub->get_name();
        known = known || (argc > 1 && sub->get_name() == argv[1]);
    }
    if (argc < 2) throw adalora::UsageError("a subcommand is required (allowed: " + names + ")");
    if (!known) throw adalora::UsageError("unknown subcommand '" + std::string(argv[1]) + "' (allowed: " + names + ")");
}

// The registration of each subcommand (its options into `a`); main keeps the
// argument structs and dispatches on which subcommand was given.

CLI::App *add_compare_command(CLI::App &app, adalora::RunConfig &c, std::string &methods) {
    c.out.clear();
    CLI::App *compare = app.add_subcommand("compare", "train every method on one task at one budget and print a table");
    adalora::add_train_options(compare, c);
    compare->add_option("--methods", methods, "comma list of methods")->capture_default_str();
    return compare;
}

CLI::App *add_sweep_command(CLI::App &app, adalora::SweepArgs &a) {
    CLI::App *sweep = app.add_subcommand("sweep", "run every cell of a suite (resumable, shardable)");
    sweep->add_option("suite", a.suite, "suite name (experiments/suites/NAME.toml) or path")->required();
    sweep->add_option("--out", a.out, "sweep directory (cells already in it are skipped)")->required();
    sweep->add_option("--seeds", a.seeds, "seeds per cell (default: the suite's)")->check(CLI::Range(1, 1000));
    sweep->add_option("--shard", a.shard, "run shard i of N: i/N")->capture_default_str();
    sweep->add_option("--jobs", a.jobs, "cells run in parallel")->check(CLI::Range(1, 256))->capture_default_str();
    sweep->add_flag("--quick", a.quick, "apply the suite's [quick] settings");
    sweep->add_option("--max-cells", a.max_cells, "refuse a grid of more cells than this")
        ->check(CLI::Range(uint64_t(1), UINT64_MAX))->capture_default_str();
    return sweep;
}

CLI::App *add_report_command(CLI::App &app, adalora::ReportOptions &o, bool &no_plots) {
    CLI::App *report = app.add_subcommand("report", "merge sweep directories into REPORT_DIR/REPORT.md with plots");
    report->add_option("dirs", o.dirs, "sweep directories (DIR/<suite>/...), e.g. one per shard")->required();
    report->add_option("--out", o.out, "report directory (created; its parent must exist)")->required();
    report->add_flag("--replace", o.replace, "write into an existing report directory, replacing its REPORT.md and plots");
    report->add_option("--gnuplot", o.gnuplot, "gnuplot command")->capture_default_str();
    report->add_flag("--no-plots", no_plots, "write REPORT.md without plots");
    return report;
}

CLI::App *add_schedule_command(CLI::App &app, adalora::ScheduleArgs &a) {
    CLI::App *schedule = app.add_subcommand("schedule", "print b(t) of Eq. 14, one 't b(t)' line per step");
    schedule->add_option("--init-bgt,--init_bgt", a.b0, "b(0)")->required();
    schedule->add_option("--target-bgt,--target_bgt", a.bT, "b(T)")->required();
    schedule->add_option("--tinit", a.tinit, "warm-up steps t_i")->required();
    schedule->add_option("--tfinal", a.tfinal, "final steps t_f")->required();
    schedule->add_option("--total-step,--total_step", a.total, "total steps T")->required();
    schedule->add_option("--convention", a.convention, "paper (t = 1..T) or peft (step = 0..T-1)")
        ->capture_default_str();
    return schedule;
}

CLI::App *add_trace_diff_command(CLI::App &app, adalora::TraceDiffArgs &a) {
    CLI::App *trace_diff = app.add_subcommand("trace-diff", "compare two --trace directories step by step (exit 0 equal, 1 different)");
    trace_diff->add_option("A", a.a, "first trace directory")->required();
    trace_diff->add_option("B", a.b, "second trace directory")->required();
    trace_diff->add_option("--rtol", a.rtol, "largest allowed max|a-b| / max(max|a|, max|b|)")->capture_default_str();
    trace_diff->add_option("--atol", a.atol, "largest allowed max|a-b| when rtol fails")->capture_default_str();
    trace_diff->add_option("--ignore", a.ignore,
                           "scalars and tensor kinds left out of the comparison, e.g. S,orth_raw,phase "
                           "(what the other implementation does not expose)");
    return trace_diff;
}

// Parses argv (config file and --resume tokens spliced in): -1 when a
// subcommand is ready to run, else the exit code (0 after --help, 2 on a
// usage error, its one line printed).
int parse_command_line(CLI::App &app, CLI::App *train, CLI::App *compare, int argc, char **argv) {
    try {
        check_subcommand(app, argc, argv);
        // The subcommand decides which options a config file may set.
        CLI::App *cmd = argc > 1 && std::string(argv[1]) == "compare" ? compare : train;
        std::vector<std::string> args = expand_config(argc, argv, cmd);
        std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
        app.parse(args);
    } catch (const CLI::ParseError &e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        std::fprintf(stderr, "adalora: %s\n", e.what());
        return 2;
    } catch (const adalora::UsageError &e) {
        std::fprintf(stderr, "adalora: %s\n", e.what());
        return 2;
    }
    return -1;
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"adalora: AdaLoRA reference implementation (see README.md)"};
    app.require_subcommand(1);
    std::string blas_kernel = "auto";  // blas_kernel.h; valid after any subcommand too (fallthrough)
    app.add_option("--blas-kernel", blas_kernel, "auto, keep or an OpenBLAS kernel name (OPENBLAS_CORETYPE)")
        ->capture_default_str();
    app.fallthrough();

    adalora::RunConfig train_cfg;
    CLI::App *train = app.add_subcommand("train", "train one method on one task and write its run directory");
    adalora::add_train_options(train, train_cfg);
    adalora::add_checkpoint_options(train, train_cfg);
    adalora::add_crosscheck_options(train, train_cfg);
    adalora::RunConfig compare_cfg;
    std::string compare_methods = "adalora,lora,lora-orth,svd-lora,prune-lora,svd-proj";
    CLI::App *compare = add_compare_command(app, compare_cfg, compare_methods);
    adalora::SweepArgs sweep_args;
    CLI::App *sweep = add_sweep_command(app, sweep_args);
    adalora::ReportOptions report_opt;
    bool report_no_plots = false;
    CLI::App *report = add_report_command(app, report_opt, report_no_plots);
    auto peft_commands = adalora::add_peft_commands(app);  // export, import
    CLI::App *conventions = app.add_subcommand("conventions", "print what each convention preset sets (docs/SPEC.md §4)");
    adalora::ScheduleArgs sched;
    CLI::App *schedule = add_schedule_command(app, sched);
    adalora::TraceDiffArgs diff_args;
    CLI::App *trace_diff = add_trace_diff_command(app, diff_args);
    adalora::RunConfig step_cfg;
    adalora::EncoderStepArgs step_args;
    CLI::App *encoder_step = app.add_subcommand(
        "encoder-step", "one training step of a sentence task (forward, gradients) as .npy, for tests/crosscheck/encoder_check.py");
    adalora::add_train_options(encoder_step, step_cfg);
    CLI::Option *perturb = encoder_step
        ->add_option("--perturb", step_args.perturb, "std of the random trainable parameters (λ starts at 0)")
        ->capture_default_str();
    encoder_step
        ->add_option("--adapter", step_args.adapter,
                     "a run's adapter.safetensors (or import --out's): its adapters, keep flags and head instead of "
                     "random parameters, so logits.npy are the adapter's (it must fit the run's options)")
        ->excludes(perturb);
    encoder_step->add_option("--rows", step_args.rows, "training sentences in the step (<= --batch)")->capture_default_str();
    auto tokenize_command = adalora::add_tokenize_command(app);  // last: the usage lists keep their order

    if (int code = parse_command_line(app, train, compare, argc, argv); code >= 0) return code;
    try {
        adalora::check_blas_kernel_mode(blas_kernel);
        if (*train || *compare || *sweep) adalora::apply_blas_kernel(blas_kernel, argv);
        if (*train) return adalora::cmd_train(train_cfg);
        if (*compare) return adalora::cmd_compare(compare_cfg, compare_methods);
        if (*trace_diff) return adalora::cmd_trace_diff(diff_args);
        if (*encoder_step) return adalora::cmd_encoder_step(step_cfg, step_args);
        if (*schedule) return adalora::cmd_schedule(sched);
        if (int code = adalora::run_peft_command(*peft_commands); code >= 0) return code;
        if (int code = adalora::run_tokenize_command(*tokenize_command); code >= 0) return code;
        if (*conventions) {
            std::fputs(adalora::conventions_table().c_str(), stdout);
            return 0;
        }
        if (*report) {
            report_opt.plots = !report_no_plots;
            return adalora::cmd_report(report_opt, adalora::suites::registry());
        }
        if (*sweep) return adalora::run_sweep(sweep_args) == 0 ? 0 : 1;
    } catch (const adalora::UsageError &e) {
        std::fprintf(stderr, "adalora: %s\n", e.what());
        return 2;
    } catch (const adalora::NonFiniteError &e) {
        std::fprintf(stderr, "adalora: %s\n", e.what());
        return 3;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "adalora: %s\n", e.what());
        return 1;
    }
    return 0;
}

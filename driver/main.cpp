// main.cpp: the `adalora` command line. Parsing is CLI11's (Debian's
// libcli11-dev): every option gets range checks and one-line errors for free.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "demo.h"

int main(int argc, char **argv) {
    CLI::App app{"adalora: AdaLoRA reference implementation"};
    app.require_subcommand(1);

    adalora::DemoOptions demo;
    CLI::App *demo_cmd = app.add_subcommand("demo", "train AdaLoRA on the built-in planted-rank MLP task");
    demo_cmd->add_option("--seed", demo.seed, "random seed")->capture_default_str();
    demo_cmd->add_option("--init_r,--init-r", demo.init_r, "initial rank r0 per layer")
        ->check(CLI::Range(1, 1 << 20))->capture_default_str();
    demo_cmd->add_option("--target_r,--target-r", demo.target_r, "target average rank: b(T) = n·target_r")
        ->check(CLI::Range(0, 1 << 20))->capture_default_str();
    demo_cmd->add_option("--tinit", demo.tinit, "warm-up steps t_i")->check(CLI::NonNegativeNumber)->capture_default_str();
    demo_cmd->add_option("--tfinal", demo.tfinal, "final fine-tuning steps t_f")->check(CLI::NonNegativeNumber)->capture_default_str();
    demo_cmd->add_option("--total_step,--total-step", demo.total_step, "total steps T")->check(CLI::PositiveNumber)->capture_default_str();
    demo_cmd->add_option("--deltaT,--delta-t", demo.delta_t, "steps between mask steps")->check(CLI::PositiveNumber)->capture_default_str();
    demo_cmd->add_option("--lr", demo.lr, "AdamW learning rate")->check(CLI::NonNegativeNumber)->capture_default_str();
    demo_cmd->add_option("--orth_reg_weight,--orth-reg-weight", demo.orth_reg_weight, "gamma of Eq. 4")
        ->check(CLI::NonNegativeNumber)->capture_default_str();
    demo_cmd->add_option("--batch", demo.batch, "mini-batch rows")->check(CLI::Range(1, 1 << 16))->capture_default_str();
    demo_cmd->add_option("--print-every", demo.print_every, "steps between log lines")->check(CLI::PositiveNumber)->capture_default_str();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    try {
        if (*demo_cmd) return adalora::run_demo(demo);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "adalora: %s\n", e.what());
        return 2;
    }
    return 0;
}

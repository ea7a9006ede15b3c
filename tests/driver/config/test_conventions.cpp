// test_conventions.cpp: the presets of the conventions table of docs/SPEC.md §4 and the
// rows that override them.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>

#include "config/conventions.h"
#include "config/options.h"
#include "train/methods.h"
#include "support/test_files.h"

namespace {

// A RunConfig as `adalora train` parses these flags.
adalora::RunConfig parse(std::vector<std::string> flags) {
    adalora::RunConfig c;
    CLI::App app;
    adalora::add_train_options(&app, c);
    flags.push_back("--out=x");
    std::reverse(flags.begin(), flags.end());
    app.parse(flags);
    adalora::validate(c);
    return c;
}

struct Resolved {
    ada_model_config model;
    ada_train_config train;
};

Resolved resolve(const std::vector<std::string> &flags) {
    adalora::RunConfig c = parse(flags);
    c.task_opt.width = 8;
    c.task_opt.layers = 1;
    c.task_opt.train_rows = c.task_opt.test_rows = 16;
    adalora::Task task = adalora::make_task(c);
    adalora::MethodSetup s = adalora::setup_method(c, task);
    return {s.model, s.train};
}

}  // namespace

TEST_CASE("conventions: each preset sets every row of the conventions table of docs/SPEC.md §4") {
    Resolved paper = resolve({}), peft = resolve({"--convention=peft"}), orig = resolve({"--convention=original"});
    // paper (the default)
    CHECK(paper.train.orth_norm == ADA_ORTH_SQUARED);
    CHECK(paper.train.orth_reduce == ADA_ORTH_SUM);
    CHECK(paper.train.sens_weights == ADA_SENS_PRE_STEP);
    CHECK(paper.train.schedule.step_base == 1);
    CHECK(paper.train.schedule.warmup_end == ADA_WARMUP_BEFORE_TINIT);
    CHECK(paper.train.schedule.rounding == ADA_ROUND_NEAREST);
    CHECK(paper.train.ties == ADA_TIES_EXACT);
    CHECK(paper.train.schedule.final_phase == ADA_FINAL_FREEZE);
    CHECK(paper.model.scale_eps == 0.0);
    CHECK(paper.model.init_std == doctest::Approx(0.02));
    CHECK(paper.train.clip == 0.0);
    // PEFT
    CHECK(peft.train.orth_norm == ADA_ORTH_PLAIN);
    CHECK(peft.train.orth_reduce == ADA_ORTH_MEAN);
    CHECK(peft.train.sens_weights == ADA_SENS_POST_STEP);
    CHECK(peft.train.schedule.step_base == 0);
    CHECK(peft.train.schedule.warmup_end == ADA_WARMUP_THROUGH_TINIT);
    CHECK(peft.train.schedule.rounding == ADA_ROUND_FLOOR);
    CHECK(peft.train.ties == ADA_TIES_KTHVALUE);
    CHECK(peft.train.schedule.final_phase == ADA_FINAL_FREEZE);
    CHECK(peft.train.final_emas == ADA_FINAL_EMAS_RESET);  // reset_ipt() after the forced mask
    CHECK(paper.train.final_emas == ADA_FINAL_EMAS_KEEP);
    CHECK(orig.train.final_emas == ADA_FINAL_EMAS_KEEP);
    CHECK(peft.model.scale_eps == doctest::Approx(1e-5));
    CHECK(peft.train.clip == 0.0);
    // the authors' code: PEFT's rows, clipping at 1.0, the mask recomputed in the final phase
    CHECK(orig.train.orth_norm == ADA_ORTH_PLAIN);
    CHECK(orig.train.sens_weights == ADA_SENS_POST_STEP);
    CHECK(orig.train.schedule.final_phase == ADA_FINAL_RECOMPUTE);
    CHECK(orig.train.clip == 1.0);
}

TEST_CASE("conventions: a row set explicitly overrides the preset") {
    Resolved r = resolve({"--convention=peft", "--ties=exact", "--orth_norm=squared", "--scale-eps=0"});
    CHECK(r.train.ties == ADA_TIES_EXACT);
    CHECK(r.train.orth_norm == ADA_ORTH_SQUARED);
    CHECK(r.model.scale_eps == 0.0);
    CHECK(r.train.orth_reduce == ADA_ORTH_MEAN);  // the rows not named keep the preset's
    CHECK(resolve({"--convention=original", "--clip=0"}).train.clip == 0.0);
    CHECK(resolve({"--convention=paper", "--final-phase=recompute"}).train.schedule.final_phase ==
          ADA_FINAL_RECOMPUTE);
    CHECK(resolve({"--sensitivity-weights=post-step"}).train.sens_weights == ADA_SENS_POST_STEP);
    CHECK(resolve({"--step-base=0"}).train.schedule.step_base == 0);
    CHECK(resolve({"--warmup-end=through-tinit"}).train.schedule.warmup_end == ADA_WARMUP_THROUGH_TINIT);
    CHECK(resolve({"--budget-rounding=floor"}).train.schedule.rounding == ADA_ROUND_FLOOR);
    Resolved mixed = resolve({"--convention=peft", "--step-base=1"});  // one row alone, the others PEFT's
    CHECK(mixed.train.schedule.step_base == 1);
    CHECK(mixed.train.schedule.rounding == ADA_ROUND_FLOOR);
    CHECK(resolve({"--init-std=0.5"}).model.init_std == doctest::Approx(0.5));
}

TEST_CASE("conventions: bad presets and row values name the option and the allowed values") {
    using test::usage_error;
    auto msg = [](std::vector<std::string> f) { return usage_error([&] { parse(f); }); };
    CHECK(msg({"--convention=torch"}).find("--convention") != std::string::npos);
    CHECK(msg({"--convention=torch"}).find("paper, peft, original") != std::string::npos);
    CHECK(msg({"--orth-norm=l1"}).find("squared, plain") != std::string::npos);
    CHECK(msg({"--ties=random"}).find("--ties") != std::string::npos);
    CHECK(msg({"--final-emas=zero"}).find("keep, reset") != std::string::npos);
    // PEFT's reset with the authors' recomputed final masks: refused, naming both
    const std::string both = msg({"--convention=peft", "--final-phase=recompute"});
    CHECK(both.find("--final-emas") != std::string::npos);
    CHECK(both.find("recompute") != std::string::npos);
    CHECK_NOTHROW(parse({"--convention=peft", "--final-phase=recompute", "--final-emas=keep"}));
    CHECK(msg({"--step-base=2"}).find("1, 0") != std::string::npos);
    CHECK(msg({"--budget-rounding=up"}).find("nearest, floor") != std::string::npos);
    CHECK(msg({"--final-phase=none"}).find("freeze-pattern, recompute") != std::string::npos);
    CHECK(msg({"--scale-eps=-1"}).find("--scale-eps") != std::string::npos);
    CHECK(msg({"--init-std=abc"}).find("--init-std") != std::string::npos);
    CHECK(msg({"--clip=-2"}).find("--clip") != std::string::npos);
}

TEST_CASE("conventions: the printed table lists every row with each preset's value") {
    std::string t = adalora::conventions_table();
    for (const auto &row : adalora::convention_rows()) {
        CAPTURE(row.option);
        CHECK(t.find("| --" + row.option + " | " + row.rows + " | ") != std::string::npos);
        CHECK(t.find(" | " + row.paper + " | " + row.peft + " | " + row.original + " |") != std::string::npos);
    }
}

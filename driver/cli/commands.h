// commands.h: the subcommands of `adalora`.
#pragma once

#include <string>

#include "config/run_config.h"

namespace adalora {

struct ScheduleArgs {
    long b0 = 0, bT = 0, tinit = 0, tfinal = 0, total = 0;
    std::string convention = "paper";
};

int cmd_train(const RunConfig &cfg);
int cmd_compare(const RunConfig &cfg, const std::string &methods);
int cmd_schedule(const ScheduleArgs &args);

}  // namespace adalora

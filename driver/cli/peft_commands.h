// peft_commands.h: the `export` and `import` subcommands (PEFT's AdaLoRA
// format, formats/peft_format.h).
#pragma once

#include <memory>

namespace CLI { class App; }

namespace adalora {

struct PeftCommands;

// Registers `export` and `import` on the app; run_peft_command runs the one
// parsed (returns its exit code, or -1 when neither was chosen).
std::shared_ptr<PeftCommands> add_peft_commands(CLI::App &app);
int run_peft_command(const PeftCommands &cmds);

}  // namespace adalora

// tokenize_command.h: `adalora tokenize`: BERT's WordPiece tokenizer
// (tasks/wordpiece.h) over a file of sentences, one line of ids per sentence.
#pragma once

#include <memory>

namespace CLI { class App; }

namespace adalora {

struct TokenizeCommand;

// Registers `tokenize` on the app; run_tokenize_command runs it when it was
// parsed (returns its exit code, or -1 when it was not chosen).
std::shared_ptr<TokenizeCommand> add_tokenize_command(CLI::App &app);
int run_tokenize_command(const TokenizeCommand &cmd);

}  // namespace adalora

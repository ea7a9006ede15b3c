// tokenize_command.cpp: `adalora tokenize --vocab FILE --input FILE --out FILE`.
//   --format lines  one sentence per line (\n, a trailing \r dropped)
//   --format uci    a sentiment fixtures JSON (tasks/sentences.h)
//   --format vader  VADER's ground-truth snippets (score-0 snippets dropped)
// Writes one line per sentence: its ids, space-separated, no special tokens
// added, no truncation (an empty line for a sentence without tokens). The
// output is written only when every sentence tokenized.
#include "cli/tokenize_command.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "base/errors.h"
#include "base/read_file.h"
#include "formats/staged_dir.h"
#include "tasks/sentences.h"
#include "tasks/wordpiece.h"

namespace adalora {

struct TokenizeCommand {
    CLI::App *cmd = nullptr;
    std::string vocab, input, out, format = "lines", strip_accents = "auto";
    bool no_lowercase = false, no_chinese_chars = false;
};

std::shared_ptr<TokenizeCommand> add_tokenize_command(CLI::App &app) {
    auto c = std::make_shared<TokenizeCommand>();
    c->cmd = app.add_subcommand("tokenize", "BERT WordPiece ids of each sentence of a file, one line each");
    c->cmd->add_option("--vocab", c->vocab, "vocab.txt (one token per line, id = line number)")->required();
    c->cmd->add_option("--input", c->input, "the sentences")->required();
    c->cmd->add_option("--out", c->out, "output file: one line of space-separated ids per sentence")->required();
    c->cmd->add_option("--format", c->format, "lines (one sentence per line), uci (sentiment fixtures JSON) or vader")
        ->check(CLI::IsMember({"lines", "uci", "vader"}))
        ->capture_default_str();
    c->cmd->add_flag("--no-lowercase", c->no_lowercase, "keep the case (HF do_lower_case=False)");
    c->cmd->add_option("--strip-accents", c->strip_accents, "auto (as lowercasing), yes or no")
        ->check(CLI::IsMember({"auto", "yes", "no"}))
        ->capture_default_str();
    c->cmd->add_flag("--no-chinese-chars", c->no_chinese_chars, "do not split CJK ideographs (HF tokenize_chinese_chars=False)");
    return c;
}

namespace {

std::vector<std::string> input_sentences(const TokenizeCommand &c) {
    std::vector<std::string> out;
    if (c.format == "uci" || c.format == "vader") {
        for (const Sentence &s : c.format == "uci" ? load_uci_sentences(c.input) : load_vader_snippets(c.input))
            out.push_back(s.text);
        return out;
    }
    const std::string text = read_file(c.input, kTextFileLimit, "--input ");
    for (size_t at = 0; at < text.size();) {
        size_t end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        out.push_back(text.substr(at, end - at));
        if (!out.back().empty() && out.back().back() == '\r') out.back().pop_back();
        at = end + 1;
    }
    return out;
}

}  // namespace

int run_tokenize_command(const TokenizeCommand &c) {
    if (!*c.cmd) return -1;
    WordPieceSettings s;
    s.lowercase = !c.no_lowercase;
    s.strip_accents = c.strip_accents == "auto" ? s.lowercase : c.strip_accents == "yes";
    s.tokenize_chinese_chars = !c.no_chinese_chars;
    const WordPiece wp(c.vocab, s);
    const std::vector<std::string> sentences = input_sentences(c);
    std::string out;
    size_t n_ids = 0;
    for (size_t i = 0; i < sentences.size(); i++) {
        std::vector<int32_t> ids;
        try {
            ids = wp.tokenize(sentences[i]);
        } catch (const UsageError &e) {
            throw UsageError("--input " + c.input + ", sentence " + std::to_string(i + 1) + ": " + e.what());
        }
        for (size_t k = 0; k < ids.size(); k++) out += (k ? " " : "") + std::to_string(ids[k]);
        out += '\n';
        n_ids += ids.size();
    }
    write_text_file(c.out, out);
    std::printf("tokenized %zu sentences into %zu tokens: %s\n", sentences.size(), n_ids, c.out.c_str());
    return 0;
}

}  // namespace adalora

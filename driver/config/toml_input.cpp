// toml_input.cpp: TOML parsing with one kind of error (see toml_input.h).
#include "config/toml_input.h"


#include "base/read_file.h"
#include "config/run_config.h"

namespace adalora {

void toml_check_failed(const char *check) { throw TomlCheckFailed(check); }

toml::table parse_toml(const std::string &text, const std::string &path, const std::string &what) {
    // toml++ 3.3.0 reaches __builtin_unreachable() (undefined behaviour) on
    // some non-ASCII characters after a key (found by the config fuzz
    // target), so a TOML file here is ASCII; a string still holds any
    // character as a \uXXXX escape.
    long line = 1;
    for (const char ch : text) {
        if (ch == '\n') line++;
        if (static_cast<unsigned char>(ch) >= 0x80)
            throw UsageError(what + ": TOML error at line " + std::to_string(line) +
                             ": a non-ASCII byte (allowed: ASCII; write other characters in strings as \\uXXXX)");
    }
    try {
        return toml::parse(text, path);
    } catch (const toml::parse_error &e) {
        const auto &where = e.source().begin;
        throw UsageError(what + ": TOML error at line " + std::to_string(where.line) + ", column " +
                         std::to_string(where.column) + ": " + std::string(e.description()));
    } catch (const TomlCheckFailed &e) {
        throw UsageError(what + ": TOML error: malformed text the parser cannot read (its check '" +
                         std::string(e.what()) + "' failed)");
    }
}

toml::table parse_toml_file(const std::string &path, const std::string &what) {
    return parse_toml(read_file(path, kTextFileLimit), path, what);
}

}  // namespace adalora

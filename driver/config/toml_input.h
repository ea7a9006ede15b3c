// toml_input.h: TOML text (config files, suites) into a toml::table, every
// malformed input a UsageError. Include this header, never <toml++/toml.h>
// directly: toml++ 3.3.0 (Debian 12) is header-only and guards some of its
// parsing steps with assert(), which aborts the whole program on inputs such
// as `seed = 1979-05-27T:07` (a date, 'T', then no time; found by the config
// fuzz target, tests/fuzz/regressions/config/). Here a failed check throws
// instead. Every file that includes toml++ must see the same definition
// (its functions are inline), hence this one header.
#pragma once

#include <stdexcept>
#include <string>

namespace adalora {
// A check inside toml++ that malformed text failed.
struct TomlCheckFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Throws TomlCheckFailed naming the check. A call, not a throw written into
// the macro: inside toml++'s few noexcept helpers a failed check still ends
// the program (as its assert did); everywhere else, which covers the parser,
// it becomes a UsageError.
[[noreturn]] void toml_check_failed(const char *check);
}  // namespace adalora

#define TOML_ASSERT(expr) ((expr) ? static_cast<void>(0) : ::adalora::toml_check_failed(#expr))
#include <toml++/toml.h>

namespace adalora {

// Parses `text` read from `path`; a malformed text throws UsageError
// "<what>: TOML error at line L, column C: ..." (`what`: "config FILE", ...).
toml::table parse_toml(const std::string &text, const std::string &path, const std::string &what);

// The same for the file at `path` (which the caller checked is readable).
toml::table parse_toml_file(const std::string &path, const std::string &what);

}  // namespace adalora

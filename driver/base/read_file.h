// read_file.h: the one way the driver reads a whole input file, with one set
// of checks, so every input (config, index, array, checkpoint, weights) is
// refused the same way.
#pragma once

#include <cstdint>
#include <string>

namespace adalora {

// What an input of each kind may reasonably weigh: a larger file is refused
// from its size before any of it is read, instead of filling memory.
constexpr uintmax_t kTextFileLimit = uintmax_t(64) << 20;  // configs, JSON, CSV: 64 MiB
constexpr uintmax_t kDataFileLimit = uintmax_t(16) << 30;  // arrays, weights, checkpoints: 16 GiB

// The bytes of the regular file `path`. Every refusal is a one-line
// UsageError "<context><path>: <problem>", the problem being one of:
//   cannot read the file (<the system's reason>)  missing, no permission
//   not a regular file (a directory|FIFO|...)     decided from stat(), before
//                                                 opening: a FIFO cannot block
//   N bytes, more than the M allowed              N > max_bytes
//   read error (...)                              short read, or it grew
// `context` names the input's role where the path alone does not
// ("--config ", "report: "); it ends with its own separator.
std::string read_file(const std::string &path, uintmax_t max_bytes, const std::string &context = "");

}  // namespace adalora

// sha256.h: SHA-256 (FIPS 180-4), for naming a file's exact bytes (a dump's
// checkpoint, the vendored data). Not the driver's fast hash (hash.h).
#pragma once

#include <string>

namespace adalora {

// SHA-256 of `bytes`, as 64 lowercase hex digits.
std::string sha256_hex(const std::string &bytes);

// SHA-256 of a file's bytes, read 1 MiB at a time (a checkpoint is hashed
// without holding it in memory). UsageError naming the file if it cannot be read.
std::string sha256_file_hex(const std::string &path);

}  // namespace adalora

// sha256.h: SHA-256 (FIPS 180-4), for naming a file's exact bytes (a dump's
// checkpoint, the vendored data). Not the driver's fast hash (hash.h).
#pragma once

#include <string>

namespace adalora {

// SHA-256 of `bytes`, as 64 lowercase hex digits.
std::string sha256_hex(const std::string &bytes);

}  // namespace adalora

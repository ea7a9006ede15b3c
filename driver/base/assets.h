// assets.h: where the installed assets are (the pretrained checkpoint, the
// sentence data): `make deps` puts them in build/assets/NAME, and the driver
// finds them from its own location, so it runs from any working directory and
// no machine path is written in the code.
#pragma once

#include <string>

namespace adalora {

// The folder assets/NAME in `exe_folder` or in its parent folder, the first
// that is a directory (a link to one counts), as that path: build/adalora
// (exe_folder build) and build/float/adalora (exe_folder build/float) both
// find build/assets/NAME. Otherwise throws the UsageError
// "asset NAME not found in A or B: run `make deps` or pass --model/--data DIR".
std::string find_asset(const std::string &name, const std::string &exe_folder);

// The same from the running executable's folder (/proc/self/exe's).
std::string find_asset(const std::string &name);

}  // namespace adalora

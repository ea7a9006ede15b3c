// util.h: small text helpers every layer of the driver shares.
#pragma once

#include <string>
#include <vector>

namespace adalora {

// The items joined by `sep` ("a, b, c").
std::string join(const std::vector<std::string> &items, const char *sep);

// Whether `s` ends with `tail`.
bool ends_with(const std::string &s, const std::string &tail);

// A number as the command line would take it back exactly ("%.17g").
std::string number_text(double v);

// The items of a comma list, each trimmed of spaces ("a, b" -> {"a", "b"}).
std::vector<std::string> split_list(const std::string &list);

// A path as a record should keep it: relative to the working directory when
// it lies inside it ("build/assets/x"), so records written from a checkout
// name no machine's folders; as given otherwise.
std::string recorded_path(const std::string &path);

}  // namespace adalora

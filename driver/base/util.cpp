// util.cpp: small text helpers every layer of the driver shares.
#include "base/util.h"

#include <cstdio>

namespace adalora {

std::string join(const std::vector<std::string> &items, const char *sep) {
    std::string s;
    for (size_t i = 0; i < items.size(); i++) s += (i ? sep : "") + items[i];
    return s;
}

bool ends_with(const std::string &s, const std::string &tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string number_text(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}


}  // namespace adalora

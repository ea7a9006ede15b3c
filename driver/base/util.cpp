// util.cpp: small text helpers every layer of the driver shares.
#include "base/util.h"

#include <cstdio>
#include <filesystem>

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


std::vector<std::string> split_list(const std::string &list) {
    std::vector<std::string> items;
    size_t at = 0;
    while (at <= list.size()) {
        size_t end = list.find(',', at);
        if (end == std::string::npos) end = list.size();
        std::string item = list.substr(at, end - at);
        const size_t first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
        items.push_back(first == std::string::npos ? "" : item.substr(first, last - first + 1));
        at = end + 1;
    }
    return items;
}

std::string recorded_path(const std::string &path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path full = fs::absolute(path, ec).lexically_normal();
    const fs::path cwd = fs::current_path(ec);
    if (ec) return path;
    const fs::path rel = full.lexically_relative(cwd);
    if (rel.empty() || *rel.begin() == "..") return path;
    return rel.string();
}

}  // namespace adalora

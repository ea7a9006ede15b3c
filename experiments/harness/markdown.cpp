// markdown.cpp: Markdown pieces of REPORT.md (markdown.h).
#include "harness/markdown.h"

#include <sstream>

namespace adalora::report {

std::string md_escape(std::string s) {
    std::string out;
    for (char ch : s) {
        if (ch == '|') out += "\\|";
        else if (ch == '\n') out += ' ';
        else out += ch;
    }
    return out;
}

std::string values_text(const nlohmann::json &v) {
    if (!v.is_array()) return json_text(v);
    std::string s;
    for (auto &x : v) s += (s.empty() ? "" : ", ") + json_text(x);
    return s;
}

std::string metrics_table(const Suite &s, const std::vector<Metric> &metrics) {
    std::vector<const Metric *> cols;
    for (const Metric &m : metrics) {
        bool any = false;
        for (const auto &v : s.variants) {
            if (m.text) any = any || m.text(v) != "—";
            else any = any || variant_stats(v, m).n > 0;
        }
        if (any) cols.push_back(&m);
    }
    std::ostringstream o;
    o << "|";
    for (const auto &a : s.axes) o << " " << md_escape(a) << " |";
    o << " n |";
    for (auto *m : cols) o << " " << md_escape(m->label) << " |";
    o << "\n|";
    for (size_t i = 0; i < s.axes.size() + 1 + cols.size(); i++) o << "---|";
    o << "\n";
    for (const auto &v : s.variants) {
        o << "|";
        for (const auto &a : s.axes) o << " " << (v.key.contains(a) ? md_escape(json_text(v.key[a])) : "") << " |";
        o << " " << v.cells.size() << " |";
        for (auto *m : cols) {
            if (m->text) {
                o << " " << md_escape(m->text(v)) << " |";
                continue;
            }
            Stats st = variant_stats(v, *m);
            std::string cell = format_stats(st, m->digits);
            if (st.n > 0 && st.n != (int)v.cells.size()) cell += " (n=" + std::to_string(st.n) + ")";
            o << " " << cell << " |";
        }
        o << "\n";
    }
    return o.str();
}

}  // namespace adalora::report

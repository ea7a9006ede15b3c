// encoder_report.cpp: dev rows and the kept-rank table of a sentence task.
#include "train/encoder_report.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

namespace adalora {

const char *const kDevHeader = "step,dev_loss,dev_accuracy\n";

std::string dev_row(long step, ada_model *m, const Task &task, double *accuracy) {
    const SplitMetrics dev = split_metrics(m, task.dev, task.is_classification());
    const double loss = dev.loss;
    *accuracy = dev.accuracy;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%ld,%.9g,%.9g\n", step, loss, *accuracy);
    return buf;
}

namespace {

// Kept rank by matrix type, then layer, in the order the modules come.
struct ByLayer {
    std::vector<std::string> types;
    std::map<std::string, std::vector<int>> rank;
    int layers = 0;
};

ByLayer by_layer(const ada_model *m) {
    ByLayer b;
    for (int k = 0; k < m->n_modules; k++) {
        const std::string name = m->modules[k].name;
        const size_t dot = name.find('.');
        const int layer = std::stoi(name.substr(0, dot));
        const std::string type = name.substr(dot + 1);
        if (!b.rank.count(type)) b.types.push_back(type);
        std::vector<int> &row = b.rank[type];
        if ((int)row.size() <= layer) row.resize((size_t)layer + 1, 0);
        row[(size_t)layer] = ada_model_kept_rank(m, k);
        b.layers = std::max(b.layers, layer + 1);
    }
    return b;
}

}  // namespace

std::string kept_rank_table(const ada_model *m) {
    if (m->n_modules == 0) return "kept rank: no adapted matrix (head-only: the classification head alone trains)\n";
    const ByLayer b = by_layer(m);
    std::string out = "kept rank            layer";
    char buf[64];
    for (int l = 0; l < b.layers; l++) {
        std::snprintf(buf, sizeof buf, " %3d", l);
        out += buf;
    }
    out += "   sum\n";
    for (const std::string &type : b.types) {
        std::snprintf(buf, sizeof buf, "  %-25s", type.c_str());
        out += buf;
        int sum = 0;
        for (int l = 0; l < b.layers; l++) {
            const std::vector<int> &row = b.rank.at(type);
            const int r = l < (int)row.size() ? row[(size_t)l] : 0;
            sum += r;
            std::snprintf(buf, sizeof buf, " %3d", r);
            out += buf;
        }
        std::snprintf(buf, sizeof buf, " %5d\n", sum);
        out += buf;
    }
    return out;
}

nlohmann::json kept_rank_by_layer(const ada_model *m) {
    const ByLayer b = by_layer(m);
    nlohmann::json j = nlohmann::json::object();
    for (const std::string &type : b.types) j[type] = b.rank.at(type);
    return j;
}

}  // namespace adalora

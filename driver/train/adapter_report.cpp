// adapter_report.cpp: per-module analysis of a trained adapter.
#include "train/adapter_report.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/lib_status.h"

extern "C" {
#include "analysis.h"
}

namespace adalora {

nlohmann::json adapter_report(const ada_model *m, const Task &task) {
    const int r = m->config.r0;
    int max_d1 = 1, max_d2 = 1;
    for (int k = 0; k < m->n_modules; k++) {
        max_d1 = std::max(max_d1, m->modules[k].d_out);
        max_d2 = std::max(max_d2, m->modules[k].d_in);
    }
    ref_svd_workspace *raw = nullptr;
    // Principal angles run QR on d_out x max(r0, r*) matrices.
    check(ref_svd_workspace_create(&raw, max_d1, max_d2, std::max(r, 16)), "analysis workspace");
    std::unique_ptr<ref_svd_workspace, void (*)(ref_svd_workspace *)> ws(raw, ref_svd_workspace_free);
    std::vector<real> sigma(r), work((size_t)r * r), U, cosines;
    nlohmann::json report = nlohmann::json::object();
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module &mod = m->modules[k];
        ada_adapter_view w = ada_model_view(m, m->params, k);
        U.assign((size_t)mod.d_out * r, 0);
        if (w.lam)
            check(ref_adapter_singular_values(sigma.data(), U.data(), r, nullptr, 0, w.P, r, w.lam, nullptr, w.Q,
                                              mod.d_in, mod.d_out, mod.d_in, r, ws.get()),
                  "adapter singular values");
        else
            check(ref_lowrank_svd(U.data(), r, sigma.data(), nullptr, 0, w.P, r, w.Q, mod.d_in, mod.d_out, mod.d_in,
                                  r, REF_SVD_QR, ws.get()),
                  "adapter singular values");
        double orth_p, orth_q;
        check(ref_orth_errors(&orth_p, &orth_q, w.P, r, w.Q, mod.d_in, mod.d_out, mod.d_in, r, work.data()),
              "orthogonality");
        nlohmann::json entry;
        std::vector<double> s(r);
        for (int i = 0; i < r; i++) s[i] = std::fabs((double)m->scale) * sigma[i];
        entry["sigma"] = s;
        if (w.lam) entry["lambda"] = std::vector<double>(w.lam, w.lam + r);
        entry["orth_P"] = orth_p;
        entry["orth_Q"] = orth_q;
        if ((size_t)k < task.planted_left.size() && (size_t)k < task.planted_rank.size()) {
            int planted = task.planted_rank[k];
            int learned = 0;
            for (int i = 0; i < r; i++) learned += s[i] > 1e-6 * std::max(s[0], 1e-30);
            int dims = std::min(planted, learned);
            if (dims > 0) {
                cosines.assign(dims, 0);
                check(ref_principal_cosines(cosines.data(), U.data(), r, dims, task.planted_left[k].data(), planted,
                                            dims, mod.d_out, ws.get()),
                      "principal angles");
                entry["planted_cosines"] = std::vector<double>(cosines.begin(), cosines.end());
            }
        }
        report[mod.name] = entry;
    }
    return report;
}

OrthMeter::OrthMeter(const ada_model *m) : model_(m), work_((size_t)m->config.r0 * m->config.r0) {}

OrthMeter::Mean OrthMeter::measure() {
    const int r = model_->config.r0;
    if (model_->n_modules == 0) return {NAN, NAN};  // no adapter to measure (head-only)
    Mean mean{0, 0};
    for (int k = 0; k < model_->n_modules; k++) {
        const ada_module &mod = model_->modules[k];
        ada_adapter_view w = ada_model_view(model_, model_->params, k);
        double p, q;
        check(ref_orth_errors(&p, &q, w.P, r, w.Q, mod.d_in, mod.d_out, mod.d_in, r, work_.data()), "orthogonality");
        mean.p += p / model_->n_modules;
        mean.q += q / model_->n_modules;
    }
    return mean;
}

}  // namespace adalora

// trace.cpp: the per-step trace of a run.
#include "train/trace.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "formats/npy.h"
#include "config/run_config.h"
#include "train/run_index.h"

namespace adalora {

std::vector<long> parse_trace_steps(const std::string &text, long total) {
    std::vector<char> on(total + 1, text.empty());
    auto bad = [&](const std::string &item, const std::string &why) {
        return UsageError("--trace-steps = '" + text + "': item '" + item + "' " + why +
                          " (allowed: comma list of steps and inclusive ranges A-B within 0.." + std::to_string(total) + ")");
    };
    auto number = [&](const std::string &item, const std::string &s) {
        if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
            throw bad(item, "is not a step number or range");
        long v = std::strtol(s.c_str(), nullptr, 10);
        if (v > total) throw bad(item, "is past the last step");
        return v;
    };
    size_t start = 0;
    while (!text.empty()) {
        size_t comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        size_t dash = item.find('-');
        long a = number(item, item.substr(0, dash));
        long b = dash == std::string::npos ? a : number(item, item.substr(dash + 1));
        if (b < a) throw bad(item, "is a range whose end comes before its start");
        for (long t = a; t <= b; t++) on[t] = 1;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    std::vector<long> steps;
    for (long t = 0; t <= total; t++)
        if (on[t]) steps.push_back(t);
    return steps;
}

void validate_crosscheck(const RunConfig &c) {
    if (!c.trace_steps.empty() && c.trace.empty()) throw UsageError("--trace-steps needs --trace DIR");
    if (!c.dump_init.empty() && !c.init_from.empty())
        throw UsageError("--dump-init and --init-from: choose one (the dump of a replayed run is its source)");
    // A checkpoint holds the sampler, not a replayed batch set or a trace in
    // progress, so a resumed run could not follow the same batches.
    if ((c.save_every > 0 || c.stop_after > 0 || !c.resume.empty()) &&
        (!c.trace.empty() || !c.dump_init.empty() || !c.init_from.empty()))
        throw UsageError("--save-every, --stop-after and --resume cannot be combined with --trace, --dump-init or --init-from");
    if (!c.trace.empty()) {
        check_output_dir(c.trace, "--trace");
        parse_trace_steps(c.trace_steps, c.total_step);
    }
    if (!c.dump_init.empty()) check_output_dir(c.dump_init, "--dump-init");
    if (!c.init_from.empty() && !std::filesystem::is_regular_file(std::filesystem::path(c.init_from) / "index.json"))
        throw UsageError("--init-from " + c.init_from + ": no index.json there (expected a --dump-init directory)");
    const std::vector<std::pair<std::string, std::string>> dirs = {
        {"--out", c.out}, {"--trace", c.trace}, {"--dump-init", c.dump_init}};
    for (size_t i = 0; i < dirs.size(); i++)
        for (size_t j = i + 1; j < dirs.size(); j++)
            if (!dirs[i].second.empty() && dirs[i].second == dirs[j].second)
                throw UsageError(dirs[i].first + " and " + dirs[j].first + " name the same directory " + dirs[i].second);
}

Tracer::Tracer(const std::string &dir, const std::string &steps, nlohmann::json header, ada_model *m, ada_trainer *tr)
    : m_(m), tr_(tr), traced_(tr->config.schedule.total + 1, 0), dir_(dir, "--trace"), index_(std::move(header)) {
    for (long t : parse_trace_steps(steps, tr->config.schedule.total)) traced_[t] = 1;
    index_["steps"] = nlohmann::json::array();
    saved_scores_.resize((size_t)m->n_triplets);
}

namespace {
std::string step_dir(long t) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "step_%06ld", t);
    return buf;
}
const char *action_name(ada_mask_action a) {
    return a == ADA_ACTION_MASK ? "mask" : a == ADA_ACTION_REAPPLY ? "reapply" : "none";
}
const char *phase_name(ada_phase p) {
    return p == ADA_PHASE_WARMUP ? "warmup" : p == ADA_PHASE_DECAY ? "decay" : "final";
}
}  // namespace

void Tracer::write(long t, int k, const std::string &kind, const real *data, std::vector<uint64_t> shape) {
    const std::string name = m_->modules[k].name;
    const std::string rel = step_dir(t) + "/" + name + "." + kind + ".npy";
    std::filesystem::create_directories(dir_.tmp() / step_dir(t));
    write_npy((dir_.tmp() / rel).string(), npy_array(data, std::move(shape)));
    step_["tensors"][name][kind] = rel;
}

void Tracer::write_keep(long t, int k) {
    const std::string name = m_->modules[k].name;
    const std::string rel = step_dir(t) + "/" + name + ".keep.npy";
    write_npy((dir_.tmp() / rel).string(), npy_array(m_->modules[k].keep, {(uint64_t)m_->config.r0}));
    step_["tensors"][name]["keep"] = rel;
}

void Tracer::write_arena(long t, const real *arena, const std::string &prefix, const std::string &suffix,
                         bool p, bool lam, bool q) {
    const uint64_t r = (uint64_t)m_->config.r0;
    for (int k = 0; k < m_->n_modules; k++) {
        const ada_module &mod = m_->modules[k];
        ada_adapter_view v = ada_model_view(m_, const_cast<real *>(arena), k);
        if (p) write(t, k, prefix + "P" + suffix, v.P, {(uint64_t)mod.d_out, r});
        if (lam && v.lam) write(t, k, prefix + "lam" + suffix, v.lam, {r});
        if (q) write(t, k, prefix + "Q" + suffix, v.Q, {r, (uint64_t)mod.d_in});
    }
}

void Tracer::initial() {
    if (!traced(0)) return;
    step_ = {{"step", 0}, {"tensors", nlohmann::json::object()}};
    write_arena(0, m_->params, "", "", true, true, true);
    long kept = 0;
    for (int k = 0; k < m_->n_modules; k++) {
        write_keep(0, k);
        kept += ada_model_kept_rank(m_, k);
    }
    step_["scalars"] = {{"kept", kept}};
    index_["steps"].push_back(step_);
}

void Tracer::before_mask(long t) {
    if (!traced(t)) return;
    step_ = {{"step", t}, {"tensors", nlohmann::json::object()}};
    const bool svd = m_->config.form == ADA_FORM_SVD;
    write_arena(t, m_->params, "", "_pre", !svd, svd, !svd);  // what masking may change
    write_arena(t, m_->grads, "grad_", "", true, true, true);
    if (!tr_->config.prune) return;
    // Eq. 9 now, as the allocator would score; tr->scores is put back as it was.
    std::copy_n(tr_->scores, saved_scores_.size(), saved_scores_.data());
    if (ada_trainer_scores(tr_) != ADA_OK) throw std::runtime_error(std::string("trace scores: ") + ada_last_error());
    for (int k = 0; k < m_->n_modules; k++)
        write(t, k, "S", tr_->scores + (size_t)k * m_->config.r0, {(uint64_t)m_->config.r0});
    std::copy_n(saved_scores_.data(), saved_scores_.size(), tr_->scores);
}

void Tracer::after_step(long t, const ada_step_info &info) {
    if (!traced(t)) return;
    write_arena(t, m_->params, "", "", true, true, true);
    for (int k = 0; k < m_->n_modules; k++) write_keep(t, k);
    if (tr_->config.prune) {  // the EMAs as the step leaves them (row 9: PEFT empties them at the forced mask)
        write_arena(t, tr_->ibar, "ibar_", "", true, true, true);
        write_arena(t, tr_->ubar, "ubar_", "", true, true, true);
    }
    step_["scalars"] = {{"schedule_step", info.schedule_step},
                        {"loss", json_number(info.loss)},
                        {"task_loss", json_number(info.task_loss)},
                        {"orth_raw", json_number(info.orth_raw)},
                        {"orth_term", json_number(info.orth_term)},
                        {"grad_norm", json_number(info.grad_norm)},
                        {"budget", info.budget},
                        {"threshold", json_number(info.threshold)},
                        {"action", action_name(info.action)},
                        {"phase", phase_name(info.phase)},
                        {"kept", info.kept}};
    index_["steps"].push_back(step_);
}

void Tracer::finish() {
    write_text_file(dir_.tmp() / "index.json", index_.dump(1) + "\n");
    dir_.commit();
}

}  // namespace adalora

// tasks.cpp: planted-linear and planted-mlp (digits: digits.cpp).
#include "tasks/tasks.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "base/lib_status.h"
#include "formats/adapter_file.h"
#include "tasks/digits.h"
#include "tasks/sentence_tasks.h"

extern "C" {
#include "rng.h"
}

namespace adalora {

namespace {

// n x k matrix with orthonormal columns (modified Gram–Schmidt on Gaussians, in double).
std::vector<double> orthonormal_columns(ada_rng &rng, int n, int k) {
    std::vector<double> a((size_t)n * k);
    for (auto &e : a) e = ada_rng_normal(&rng);
    for (int j = 0; j < k; j++) {
        for (int p = 0; p < j; p++) {
            double dot = 0;
            for (int i = 0; i < n; i++) dot += a[(size_t)i * k + j] * a[(size_t)i * k + p];
            for (int i = 0; i < n; i++) a[(size_t)i * k + j] -= dot * a[(size_t)i * k + p];
        }
        double norm = 0;
        for (int i = 0; i < n; i++) norm += a[(size_t)i * k + j] * a[(size_t)i * k + j];
        norm = std::sqrt(norm);
        for (int i = 0; i < n; i++) a[(size_t)i * k + j] /= norm;
    }
    return a;
}

// Δ = U diag(σ) Vᵀ, d_out x d_in, with U, V orthonormal; U is returned in *left.
std::vector<real> planted_update(ada_rng &rng, int d_out, int d_in, const std::vector<double> &sigma,
                                 std::vector<real> *left) {
    const int k = (int)sigma.size();
    std::vector<real> delta((size_t)d_out * d_in, 0);
    left->clear();
    if (k == 0) return delta;
    std::vector<double> u = orthonormal_columns(rng, d_out, k), v = orthonormal_columns(rng, d_in, k);
    left->assign(u.begin(), u.end());
    for (int a = 0; a < d_out; a++)
        for (int b = 0; b < d_in; b++) {
            double s = 0;
            for (int j = 0; j < k; j++) s += u[(size_t)a * k + j] * sigma[j] * v[(size_t)b * k + j];
            delta[(size_t)a * d_in + b] = (real)s;
        }
    return delta;
}

// A rank draw: a quarter of the modules 0, most 1..3, about one in six 5..8
// (above the average), so the best allocation is far from uniform.
int draw_rank(ada_rng &rng) {
    double u = ada_rng_uniform(&rng);
    if (u < 0.25) return 0;
    if (u < 0.84) return 1 + (int)ada_rng_below(&rng, 3);
    return 5 + (int)ada_rng_below(&rng, 4);
}

// σ_j = top · 0.75^j with top ~ U(0.5, 1.5): decaying spectra that overlap
// across modules.
std::vector<double> draw_spectrum(ada_rng &rng, int rank) {
    std::vector<double> s(rank);
    double top = 0.5 + ada_rng_uniform(&rng);
    for (int j = 0; j < rank; j++) s[j] = top * std::pow(0.75, j);
    return s;
}

std::vector<int> parse_ranks(const std::string &text, size_t n) {
    std::vector<int> ranks;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        size_t used = 0;
        int v = -1;
        try { v = std::stoi(item, &used); } catch (...) { used = 0; }
        if (used != item.size() || v < 0)
            throw UsageError("--planted-ranks: '" + item + "' is not a rank (allowed: integers >= 0, comma separated)");
        ranks.push_back(v);
    }
    if (ranks.size() != n)
        throw UsageError("--planted-ranks: " + std::to_string(ranks.size()) + " ranks given, the task has " +
                         std::to_string(n) + " modules");
    return ranks;
}

// The frozen base that a student built with `seed` will have.
ada_model *base_model(Task &task, uint64_t seed, int max_batch) {
    task.bind_names();
    ada_model_config cfg = ada_model_defaults();
    cfg.n_modules = (int)task.specs.size();
    cfg.modules = task.specs.data();
    cfg.r0 = 1;
    cfg.max_batch = max_batch;
    cfg.seed = seed;
    cfg.loss = task.loss;
    ada_model *m = nullptr;
    check(ada_model_create(&m, &cfg), "task base");
    return m;
}

Split gaussian_inputs(ada_rng &rng, const Task &task, int rows) {
    Split s;
    s.rows = rows;
    for (size_t k = 0; k < task.specs.size(); k++) {
        const ada_module_spec &spec = task.specs[k];
        bool first = k == 0 || task.specs[k - 1].chain != spec.chain;
        bool last = k + 1 == task.specs.size() || task.specs[k + 1].chain != spec.chain;
        if (first) {
            s.chains.emplace_back();
            s.chains.back().d_in = spec.d_in;
            s.chains.back().x.resize((size_t)rows * spec.d_in);
            ada_rng_fill_normal(&rng, s.chains.back().x.data(), s.chains.back().x.size(), 0.0, 1.0);
        }
        if (last) {
            s.chains.back().d_out = spec.d_out;
            s.chains.back().y.resize((size_t)rows * spec.d_out);
        }
    }
    return s;
}

// The last module of every chain: where a chain's output is.
std::vector<const ada_module *> chain_outputs(const ada_model *m) {
    std::vector<const ada_module *> last(m->n_chains, nullptr);
    for (int k = 0; k < m->n_modules; k++) last[m->modules[k].chain] = &m->modules[k];
    return last;
}

// Forwards a split through `m`, max_batch rows at a time, and calls
// visit(at, n, loss) after each chunk (rows at..at+n). With targets the
// chunk's mean task loss is computed, else loss is NaN.
void for_each_chunk(ada_model *m, const Split &split, bool with_targets,
                    const std::function<void(int, int, double)> &visit) {
    const int chunk = m->config.max_batch;
    if (split.has_tokens()) {  // a sentence task: the encoder's batches
        TokenBatch tokens;
        tokens.reserve(chunk, split.tokens.seq);
        for (int at = 0; at < split.rows; at += chunk) {
            const int n = std::min(chunk, split.rows - at);
            tokens.gather(split.tokens, n, [at](int i) { return (size_t)(at + i); }, with_targets);
            ada_batch batch{};
            batch.n = n;
            batch.host = tokens.host();
            double loss = NAN;
            check(ada_model_forward(m, &batch, with_targets ? &loss : nullptr, 0), "forward over a split");
            visit(at, n, loss);
        }
        return;
    }
    const size_t chains = split.chains.size();
    std::vector<const real *> xs(chains), ys(chains);
    std::vector<const int32_t *> ls(chains);
    const bool labelled = chains > 0 && !split.chains[0].labels.empty();
    for (int at = 0; at < split.rows; at += chunk) {
        int n = std::min(chunk, split.rows - at);
        for (size_t c = 0; c < chains; c++) {
            const ChainData &d = split.chains[c];
            xs[c] = d.x.data() + (size_t)at * d.d_in;
            if (labelled) ls[c] = d.labels.data() + at;
            else ys[c] = d.y.data() + (size_t)at * d.d_out;
        }
        ada_batch batch = {n, xs.data(), nullptr, nullptr, nullptr};
        if (with_targets) {
            batch.y = labelled ? nullptr : ys.data();
            batch.labels = labelled ? ls.data() : nullptr;
        }
        double loss = NAN;
        check(ada_model_forward(m, &batch, with_targets ? &loss : nullptr, 0), "forward over a split");
        visit(at, n, loss);
    }
}

// One module of the teacher on one row, without BLAS: z_i = Σ_j W_ij x_j + b_i
// summed in double in the order j = 0, 1, ..., rounded once, then the
// activation. The task's data must not depend on the BLAS library's kernel
// or thread count (their GEMMs order the sums differently), or a run could
// not resume on another node: the checkpoint's origin hash covers the data.
void teacher_module_row(const ada_module &mod, const real *x, real *z, real *a) {
    for (int i = 0; i < mod.d_out; i++) {
        const real *w = mod.W0 + (size_t)i * mod.d_in;
        double acc = 0;
        for (int j = 0; j < mod.d_in; j++) acc += (double)w[j] * x[j];
        z[i] = (real)(acc + (mod.bias ? (double)mod.bias[i] : 0.0));
    }
    check(ada_activation_forward(a, z, (size_t)mod.d_out, mod.act), "teacher activation");
}

// Runs `teacher` (base already replaced by W0 + Δ*; its adapter is zero and
// not applied) over a split, row by row without BLAS, writing the targets,
// then adds noise.
void label(ada_model *teacher, Split &split, ada_rng &rng, double noise) {
    std::vector<real> z, a, x;
    for (int row = 0; row < split.rows; row++) {
        int c = -1;
        for (int k = 0; k < teacher->n_modules; k++) {
            const ada_module &mod = teacher->modules[k];
            const bool first = k == 0 || teacher->modules[k - 1].chain != mod.chain;
            if (first) {
                const ChainData &d = split.chains[(size_t)++c];
                x.assign(d.x.begin() + (size_t)row * d.d_in, d.x.begin() + (size_t)(row + 1) * d.d_in);
            }
            z.resize((size_t)mod.d_out);
            a.resize((size_t)mod.d_out);
            teacher_module_row(mod, x.data(), z.data(), a.data());
            x.swap(a);
            const bool last = k + 1 == teacher->n_modules || teacher->modules[k + 1].chain != mod.chain;
            if (last) {
                ChainData &d = split.chains[(size_t)c];
                std::copy(x.begin(), x.end(), d.y.begin() + (size_t)row * d.d_out);
            }
        }
    }
    for (auto &chain : split.chains)
        for (auto &y : chain.y) y += (real)(noise * ada_rng_normal(&rng));
}


}  // namespace

void Task::bind_names() {
    for (size_t k = 0; k < specs.size(); k++) specs[k].name = module_names[k].c_str();
}

Task make_task(const RunConfig &cfg) {
    if (is_encoder_task(cfg.task)) return make_sentence_task(cfg);
    if (cfg.task == "digits") {
        Task task = make_digits_task(cfg);
        if (!cfg.task_opt.base_weights.empty()) load_base_weights(cfg.task_opt.base_weights, task);
        return task;
    }
    const TaskOptions &o = cfg.task_opt;
    Task task;
    task.name = cfg.task;
    const int d = o.width;
    if (cfg.task == "planted-linear") {
        static const char *kinds[] = {"q", "k", "v", "o", "f1", "f2"};
        task.loss = ADA_LOSS_SSE;
        for (int l = 0; l < o.layers; l++)
            for (int j = 0; j < 6; j++) {
                int d_out = j == 4 ? 4 * d : d, d_in = j == 5 ? 4 * d : d;
                task.module_names.push_back("l" + std::to_string(l) + "." + kinds[j]);
                task.specs.push_back({nullptr, (int)task.specs.size(), d_in, d_out, 0, ADA_ACT_IDENTITY});
            }
    } else {  // planted-mlp
        task.loss = ADA_LOSS_MSE;
        for (int l = 0; l < o.layers; l++) {
            task.module_names.push_back("l" + std::to_string(l));
            task.specs.push_back({nullptr, 0, d, d, 1, l + 1 < o.layers ? ADA_ACT_GELU : ADA_ACT_IDENTITY});
        }
    }
    const size_t n = task.specs.size();
    // A base from a file is the teacher's too, so Δ* and the oracle still hold.
    if (!o.base_weights.empty()) load_base_weights(o.base_weights, task);
    ada_rng rng;
    ada_rng_seed(&rng, cfg.seed ^ 0x7a5c0ffeeULL);
    if (o.planted_ranks.empty())
        for (size_t k = 0; k < n; k++) task.planted_rank.push_back(draw_rank(rng));
    else
        task.planted_rank = parse_ranks(o.planted_ranks, n);
    // Owned here: a refused --planted-ranks or a failed call throws past it.
    const std::unique_ptr<ada_model, void (*)(ada_model *)> teacher(base_model(task, cfg.seed, 256), ada_model_free);
    apply_base(task, teacher.get());
    for (size_t k = 0; k < n; k++) {
        const ada_module &mod = teacher->modules[k];
        const int most = std::min(mod.d_in, mod.d_out);
        if (!o.planted_ranks.empty() && task.planted_rank[k] > most)  // given, not drawn: never clamped
            throw UsageError("--planted-ranks: rank " + std::to_string(task.planted_rank[k]) + " of module " +
                             task.module_names[k] + " exceeds its " + std::to_string(mod.d_out) + " x " +
                             std::to_string(mod.d_in) + " matrix (allowed: 0.." + std::to_string(most) + ")");
        int rank = std::min(task.planted_rank[k], most);  // a drawn rank of a narrow task
        task.planted_rank[k] = rank;
        std::vector<double> sigma = draw_spectrum(rng, rank);
        std::vector<real> left;
        std::vector<real> delta = planted_update(rng, mod.d_out, mod.d_in, sigma, &left);
        std::vector<real> w(delta);
        for (size_t i = 0; i < w.size(); i++) w[i] += mod.W0[i];
        check(ada_model_set_base(teacher.get(), (int)k, w.data(), mod.d_in, nullptr), "teacher base");
        if (task.loss == ADA_LOSS_SSE) {  // planted-linear keeps what the oracle needs
            task.planted_delta.push_back(std::move(delta));
            task.planted_left.push_back(std::move(left));
            task.planted_sigma.push_back(std::move(sigma));
        }
    }
    task.train = gaussian_inputs(rng, task, o.train_rows);
    task.test = gaussian_inputs(rng, task, o.test_rows);
    label(teacher.get(), task.train, rng, o.noise);
    label(teacher.get(), task.test, rng, 0.0);
    return task;
}

Oracle oracle_allocation(const Task &task, long budget, int r0) {
    struct Value { double sigma; int module; };
    std::vector<Value> usable;  // at most r0 per module can be represented
    double unusable = 0;        // σ's beyond r0: always dropped
    for (size_t k = 0; k < task.planted_sigma.size(); k++)
        for (size_t j = 0; j < task.planted_sigma[k].size(); j++) {
            double s = task.planted_sigma[k][j];
            if ((int)j < r0) usable.push_back({s, (int)k});
            else unusable += s * s;
        }
    std::stable_sort(usable.begin(), usable.end(), [](const Value &a, const Value &b) { return a.sigma > b.sigma; });
    Oracle o;
    o.rank.assign(task.planted_sigma.size(), 0);
    o.loss = unusable;  // summed from the dropped values: no cancellation
    for (size_t i = 0; i < usable.size(); i++) {
        if ((long)i < budget) o.rank[usable[i].module]++;
        else o.loss += usable[i].sigma * usable[i].sigma;
    }
    return o;
}

double expected_loss(const Task &task, const ada_model *m) {
    double total = 0;
    std::vector<real> dw;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module &mod = m->modules[k];
        dw.resize((size_t)mod.d_out * mod.d_in);
        check(ada_model_delta_weight(m, k, dw.data(), mod.d_in), "delta weight");
        const std::vector<real> &target = task.planted_delta[k];
        for (size_t i = 0; i < dw.size(); i++) {
            double e = (double)target[i] - dw[i];
            total += e * e;
        }
    }
    return total;
}

namespace {

// The argmax of a row of scores (the first of equal maxima).
int argmax(const real *row, int n) { return (int)(std::max_element(row, row + n) - row); }

// Counts the rows of the chunk [at, at + n) just forwarded whose label is the
// argmax of the model's output: the encoder's logits, or each labelled
// chain's last module.
struct AccuracyCounter {
    long correct = 0, counted = 0;
    void add(ada_model *m, const Split &split, const std::vector<const ada_module *> &out, int at, int n) {
        if (split.has_tokens()) {  // the host's outputs are the classifier's logits
            const ada_cmat logits = m->host.outputs(m->host.self);
            for (int i = 0; i < n; i++)
                correct += argmax(logits.data + (size_t)i * logits.ld, logits.cols) == split.tokens.labels[(size_t)at + i];
            counted += n;
            return;
        }
        for (size_t c = 0; c < split.chains.size(); c++) {
            const ChainData &d = split.chains[c];
            if (d.labels.empty()) continue;
            const int classes = out[c]->d_out;
            for (int i = 0; i < n; i++) {
                correct += argmax(out[c]->a + (size_t)i * classes, classes) == d.labels[(size_t)at + i];
                counted++;
            }
        }
    }
    double fraction() const { return counted ? (double)correct / counted : NAN; }
};

// Whether the split's rows carry class labels the model's outputs can be read against.
bool has_labels(const ada_model *m, const Split &split) {
    if (split.has_tokens()) return !split.tokens.labels.empty() && m->host.outputs;
    return true;  // chains: AccuracyCounter skips unlabelled ones (NaN when none is labelled)
}

std::vector<const ada_module *> label_outputs(ada_model *m, const Split &split) {
    return split.has_tokens() ? std::vector<const ada_module *>{} : chain_outputs(m);
}

}  // namespace

double split_loss(ada_model *m, const Split &split) {
    double total = 0;
    for_each_chunk(m, split, true, [&](int, int n, double loss) { total += loss * n; });
    return total / split.rows;
}

double split_accuracy(ada_model *m, const Split &split) {
    if (!has_labels(m, split)) return NAN;
    const std::vector<const ada_module *> out = label_outputs(m, split);
    AccuracyCounter acc;
    for_each_chunk(m, split, false, [&](int at, int n, double) { acc.add(m, split, out, at, n); });
    return acc.fraction();
}

SplitMetrics split_metrics(ada_model *m, const Split &split, bool accuracy) {
    const bool count = accuracy && has_labels(m, split);
    const std::vector<const ada_module *> out = count ? label_outputs(m, split) : std::vector<const ada_module *>{};
    AccuracyCounter acc;
    double total = 0;
    for_each_chunk(m, split, true, [&](int at, int n, double loss) {
        total += loss * n;
        if (count) acc.add(m, split, out, at, n);
    });
    return {total / split.rows, count ? acc.fraction() : NAN};
}

void apply_base(const Task &task, ada_model *m) {
    if (!task.base.empty() && task.base.size() != (size_t)m->n_modules)
        throw std::runtime_error("pretrained base: " + std::to_string(task.base.size()) + " modules, the model has " +
                                 std::to_string(m->n_modules));
    for (size_t k = 0; k < task.base.size(); k++) {
        if (task.base[k].size() != (size_t)m->modules[k].d_out * m->modules[k].d_in)
            throw std::runtime_error("pretrained base: module " + std::to_string(k) + " has the wrong size");
        const bool bias = k < task.base_bias.size() && !task.base_bias[k].empty();
        check(ada_model_set_base(m, (int)k, task.base[k].data(), m->modules[k].d_in,
                                 bias ? task.base_bias[k].data() : nullptr),
              "pretrained base");
    }
}

void TokenBatch::reserve(int rows, int seq) {
    ids_.assign((size_t)rows * seq, 0);
    mask_.assign((size_t)rows * seq, 0);
    labels_.assign((size_t)rows, 0);
    targets_.assign((size_t)rows, 0);
}

void TokenBatch::gather(const TokenData &data, int n, const std::function<size_t(int)> &row_of, bool with_targets) {
    int T = 1;
    for (int i = 0; i < n; i++) T = std::max(T, (int)data.length[row_of(i)]);
    for (int i = 0; i < n; i++) {
        const size_t row = row_of(i);
        std::copy_n(&data.ids[row * data.seq], T, &ids_[(size_t)i * T]);
        std::copy_n(&data.mask[row * data.seq], T, &mask_[(size_t)i * T]);
        if (!data.labels.empty()) labels_[(size_t)i] = data.labels[row];
        if (!data.targets.empty()) targets_[(size_t)i] = data.targets[row];
    }
    host_ = {};
    host_.T = T;
    host_.ids = ids_.data();
    host_.mask = mask_.data();
    if (with_targets) {
        host_.labels = data.labels.empty() ? nullptr : labels_.data();
        host_.targets = data.targets.empty() ? nullptr : targets_.data();
    }
}

BatchSampler::BatchSampler(const Split &split, int rows, uint64_t seed) : split_(split) {
    ada_rng_seed(&rng_, seed);
    if (split.has_tokens()) {
        tokens_.reserve(rows, split.tokens.seq);
        token_rows_.assign((size_t)rows, 0);
        batch_.n = rows;
        batch_.host = tokens_.host();
        return;
    }
    for (const auto &c : split.chains) {
        x_.emplace_back((size_t)rows * c.d_in);
        y_.emplace_back(c.y.empty() ? 0 : (size_t)rows * c.d_out);
        labels_.emplace_back(c.labels.empty() ? 0 : (size_t)rows);
    }
    for (size_t c = 0; c < x_.size(); c++) {
        xs_.push_back(x_[c].data());
        ys_.push_back(y_[c].data());
        ls_.push_back(labels_[c].data());
    }
    const bool labelled = !split.chains.empty() && !split.chains[0].labels.empty();
    batch_ = {rows, xs_.data(), labelled ? nullptr : ys_.data(), labelled ? ls_.data() : nullptr, nullptr};
}

const ada_batch &BatchSampler::next() {
    if (split_.has_tokens()) {
        std::vector<size_t> &rows = token_rows_;
        rows.resize((size_t)batch_.n);
        for (auto &row : rows) row = (size_t)ada_rng_below(&rng_, (uint64_t)split_.rows);
        tokens_.gather(split_.tokens, batch_.n, [&rows](int i) { return rows[(size_t)i]; }, true);
        return batch_;
    }
    for (int b = 0; b < batch_.n; b++) {
        size_t row = (size_t)ada_rng_below(&rng_, (uint64_t)split_.rows);
        for (size_t c = 0; c < x_.size(); c++) {
            const ChainData &d = split_.chains[c];
            std::copy_n(&d.x[row * d.d_in], d.d_in, &x_[c][(size_t)b * d.d_in]);
            if (!d.y.empty()) std::copy_n(&d.y[row * d.d_out], d.d_out, &y_[c][(size_t)b * d.d_out]);
            if (!d.labels.empty()) labels_[c][b] = d.labels[row];
        }
    }
    return batch_;
}

void load_base_weights(const std::string &path, Task &task) {
    Safetensors file = read_safetensors(path);
    const size_t n = task.specs.size();
    task.base.assign(n, {});
    task.base_bias.assign(n, {});
    std::vector<std::string> known;
    for (size_t k = 0; k < n; k++) {
        const ada_module_spec &spec = task.specs[k];
        const std::string &name = task.module_names[k];
        known.push_back(name + ".W0");
        known.push_back(name + ".bias");
        const Tensor *w = file.find(name + ".W0");
        if (!w) throw UsageError(path + ": the tensor '" + name + ".W0' is missing (the task's module '" + name + "')");
        require_shape(*w, {spec.d_out, spec.d_in}, path);
        task.base[k] = tensor_values(*w);
        if (const Tensor *b = file.find(name + ".bias")) {
            if (!spec.has_bias)
                throw UsageError(path + ": tensor '" + b->name + "': the task's module '" + name + "' has no bias");
            require_shape(*b, {spec.d_out}, path);
            task.base_bias[k] = tensor_values(*b);
        }
        for (const auto *values : {&task.base[k], &task.base_bias[k]})
            for (real x : *values)
                if (!std::isfinite(x))
                    throw UsageError(path + ": the base of module '" + name + "' holds NaN or Inf");
    }
    for (const Tensor &t : file.tensors) {
        if (is_base_tensor(t.name) && std::find(known.begin(), known.end(), t.name) == known.end())
            throw UsageError(path + ": tensor '" + t.name + "' names no module of the task " + task.name);
    }
    task.base_file = path;
}

}  // namespace adalora

// test_encoder.cpp: the BERT encoder host (hosts/encoder.h) on tiny random
// checkpoints: its forward against a naive loop implementation written here
// from the equations (no BLAS, no shared code), every trainable gradient
// against central differences (double, bar 1e-6), padding invariance, no
// allocation in a step, refused batches, dropout, and the trainer driving it
// through the host interface.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <memory>
#include <vector>

#include "lib/grad_check.h"
#include "support/alloc_counter.h"
#include "support/test_util.h"

extern "C" {
#include "encoder.h"
#include "trainer.h"
}

namespace {

using test::Vec;

// Dimensions small enough for a full finite-difference sweep.
struct Dims {
    int V = 13, P = 9, Y = 2, C = 8, L = 2, H = 2, FF = 12, K = 3, B = 3, T = 6, r = 3;
};

struct EncoderFixture {
    Dims d;
    std::unique_ptr<ada_encoder, void (*)(ada_encoder *)> enc{nullptr, ada_encoder_free};
    std::vector<int32_t> ids, types, labels;
    std::vector<uint8_t> mask;
    Vec targets;
    ada_encoder_batch eb{};
    ada_batch batch{};

    EncoderFixture(ada_form form, unsigned targets_mask, ada_loss_kind loss = ADA_LOSS_CROSS_ENTROPY,
                   double dropout = 0.0, uint64_t seed = 7) {
        ada_encoder_config c{};
        c.vocab = d.V, c.max_positions = d.P, c.type_vocab = d.Y;
        c.hidden = d.C, c.layers = d.L, c.heads = d.H, c.intermediate = d.FF;
        c.ln_eps = 1e-12;
        c.n_outputs = loss == ADA_LOSS_MSE ? 1 : d.K;
        c.loss = loss;
        c.targets = targets_mask;
        c.max_batch = d.B, c.max_seq = d.T;
        c.dropout = dropout;
        c.dropout_seed = 11;
        c.adapters = ada_model_defaults();
        c.adapters.form = form;
        c.adapters.r0 = d.r;
        c.adapters.seed = seed;
        ada_encoder *e = nullptr;
        REQUIRE(ada_encoder_create(&e, &c) == ADA_OK);
        enc.reset(e);
        randomize(seed);
        make_batch(d.T, seed);
    }

    ada_model *model() { return ada_encoder_model(enc.get()); }
    const ada_encoder_config &cfg() { return *ada_encoder_config_of(enc.get()); }

    // Every frozen weight array, its length and the mean and std randomize()
    // draws it from (embeddings N(0, 0.5²), matrices N(0, 0.3²), biases
    // N(0, 0.1²), LayerNorm gains 1 + N(0, 0.1²)).
    void for_each_frozen(const std::function<void(real *, size_t, double, double)> &fill) {
        ada_encoder_weights *w = ada_encoder_weights_of(enc.get());
        const int C = d.C;
        fill(w->word, (size_t)d.V * C, 0, 0.5);
        fill(w->pos, (size_t)d.P * C, 0, 0.5);
        fill(w->type, (size_t)d.Y * C, 0, 0.5);
        fill(w->emb_ln_g, C, 1, 0.1);
        fill(w->emb_ln_b, C, 0, 0.1);
        for (int l = 0; l < d.L; l++) {
            ada_encoder_layer_weights &lw = w->layer[l];
            for (int t = 0; t < ADA_ENC_MATRICES; t++) {
                const int rows = t == ADA_ENC_FFN_IN ? d.FF : C, cols = t == ADA_ENC_FFN_OUT ? d.FF : C;
                fill(lw.W[t], (size_t)rows * cols, 0, 0.3);
                fill(lw.b[t], (size_t)rows, 0, 0.1);
            }
            fill(lw.ln1_g, C, 1, 0.1);
            fill(lw.ln1_b, C, 0, 0.1);
            fill(lw.ln2_g, C, 1, 0.1);
            fill(lw.ln2_b, C, 0, 0.1);
        }
        fill(w->pool_W, (size_t)C * C, 0, 0.3);
        fill(w->pool_b, C, 0, 0.1);
    }

    // The frozen weights drawn as above; every trainable parameter N(0, 0.3²)
    // (λ nonzero, so P and Q get gradients).
    void randomize(uint64_t seed) {
        ada_rng rng;
        ada_rng_seed(&rng, seed * 31 + 5);
        auto fill = [&](real *x, size_t n, double mean, double std) { ada_rng_fill_normal(&rng, x, n, mean, std); };
        for_each_frozen(fill);
        fill(model()->params, model()->n_params, 0, 0.3);
    }

    // A copy of every frozen weight, in for_each_frozen's order.
    Vec frozen() {
        Vec all;
        for_each_frozen([&](real *x, size_t n, double, double) { all.insert(all.end(), x, x + n); });
        return all;
    }

    // B sequences of lengths T, T-2, 2 (padding after), token types mixed.
    void make_batch(int T, uint64_t seed) {
        ada_rng rng;
        ada_rng_seed(&rng, seed + 99);
        ids.assign((size_t)d.B * T, 0);
        types.assign((size_t)d.B * T, 0);
        mask.assign((size_t)d.B * T, 0);
        const int lengths[3] = {T, std::max(1, T - 2), std::min(T, 2)};
        for (int b = 0; b < d.B; b++)
            for (int t = 0; t < T; t++) {
                const size_t i = (size_t)b * T + t;
                mask[i] = t < lengths[b % 3];
                ids[i] = mask[i] ? (int32_t)ada_rng_below(&rng, (uint64_t)d.V) : 0;
                types[i] = mask[i] && t >= lengths[b % 3] / 2;
            }
        labels = {0, 2, 1};
        targets = {0.5, -1.0, 2.0};
        eb = {};
        eb.T = T;
        eb.ids = ids.data();
        eb.type_ids = types.data();
        eb.mask = mask.data();
        eb.labels = labels.data();
        eb.targets = targets.data();
        batch = {};
        batch.n = d.B;
        batch.host = &eb;
    }

    double loss() {
        double v = NAN;
        REQUIRE(ada_model_forward(model(), &batch, &v, 0) == ADA_OK);
        return v;
    }
};

// ---------------------------------------------------------------- reference

// The encoder of encoder.h, written out in loops, in double.
struct Naive {
    const Dims &d;
    const ada_encoder_weights &w;
    const ada_model *m;
    const ada_encoder_config &c;
    const ada_encoder *enc_;

    using M = std::vector<double>;  // row-major

    // W + ΔW of layer l, matrix t (rows x cols), ΔW from the model's adapter.
    M weight(int l, int t, int rows, int cols) const {
        M W((size_t)rows * cols);
        for (size_t i = 0; i < W.size(); i++) W[i] = w.layer[l].W[t][i];
        for (int k = 0; k < m->n_modules; k++) {
            int kl, kt;
            ada_encoder_module_at(enc_, k, &kl, &kt);
            if (kl != l || kt != t) continue;
            ada_adapter_view v = ada_model_view(m, m->params, k);
            const int r = m->config.r0;
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) {
                    double s = 0;
                    for (int q = 0; q < r; q++) s += v.P[i * r + q] * (v.lam ? v.lam[q] : 1.0) * v.Q[q * cols + j];
                    W[(size_t)i * cols + j] += m->scale * s;
                }
        }
        return W;
    }

    static M linear(const M &x, int n, int in, const M &W, const real *b, int out) {
        M y((size_t)n * out);
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out; o++) {
                double s = b ? b[o] : 0;
                for (int j = 0; j < in; j++) s += x[(size_t)i * in + j] * W[(size_t)o * in + j];
                y[(size_t)i * out + o] = s;
            }
        return y;
    }
    M layernorm(const M &x, int n, const real *g, const real *b) const {
        M y(x.size());
        const int C = d.C;
        for (int i = 0; i < n; i++) {
            double mean = 0, var = 0;
            for (int j = 0; j < C; j++) mean += x[(size_t)i * C + j];
            mean /= C;
            for (int j = 0; j < C; j++) var += (x[(size_t)i * C + j] - mean) * (x[(size_t)i * C + j] - mean);
            var /= C;
            for (int j = 0; j < C; j++)
                y[(size_t)i * C + j] = (x[(size_t)i * C + j] - mean) / std::sqrt(var + c.ln_eps) * g[j] + b[j];
        }
        return y;
    }

    // Hidden states of every layer (0: embeddings) and the logits.
    void forward(const ada_encoder_batch &eb, int B, std::vector<M> &hidden, M &logits) const {
        const int T = eb.T, N = B * T, C = d.C, Dh = C / d.H;
        M x((size_t)N * C);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < C; j++)
                x[(size_t)i * C + j] = (double)w.word[eb.ids[i] * C + j] + w.pos[(i % T) * C + j] +
                                       w.type[(eb.type_ids ? eb.type_ids[i] : 0) * C + j];
        x = layernorm(x, N, w.emb_ln_g, w.emb_ln_b);
        hidden = {x};
        for (int l = 0; l < d.L; l++) {
            const ada_encoder_layer_weights &lw = w.layer[l];
            M q = linear(x, N, C, weight(l, 0, C, C), lw.b[0], C), k = linear(x, N, C, weight(l, 1, C, C), lw.b[1], C),
              v = linear(x, N, C, weight(l, 2, C, C), lw.b[2], C), ctx((size_t)N * C, 0);
            for (int b = 0; b < B; b++)
                for (int h = 0; h < d.H; h++)
                    for (int i = 0; i < T; i++) {
                        std::vector<double> p(T);
                        double mx = -INFINITY, z = 0;
                        for (int j = 0; j < T; j++) {
                            double s = 0;
                            for (int e = 0; e < Dh; e++)
                                s += q[(size_t)(b * T + i) * C + h * Dh + e] * k[(size_t)(b * T + j) * C + h * Dh + e];
                            p[j] = eb.mask[b * T + j] ? s / std::sqrt((double)Dh) : -INFINITY;
                            mx = std::max(mx, p[j]);
                        }
                        for (int j = 0; j < T; j++) z += (p[j] = std::exp(p[j] - mx));
                        for (int j = 0; j < T; j++)
                            for (int e = 0; e < Dh; e++)
                                ctx[(size_t)(b * T + i) * C + h * Dh + e] += p[j] / z * v[(size_t)(b * T + j) * C + h * Dh + e];
                    }
            M o = linear(ctx, N, C, weight(l, 3, C, C), lw.b[3], C);
            for (size_t i = 0; i < o.size(); i++) o[i] += x[i];
            M y1 = layernorm(o, N, lw.ln1_g, lw.ln1_b);
            M a = linear(y1, N, C, weight(l, 4, d.FF, C), lw.b[4], d.FF);
            for (double &e : a) e = 0.5 * e * (1 + std::erf(e / std::sqrt(2.0)));
            M f = linear(a, N, d.FF, weight(l, 5, C, d.FF), lw.b[5], C);
            for (size_t i = 0; i < f.size(); i++) f[i] += y1[i];
            x = layernorm(f, N, lw.ln2_g, lw.ln2_b);
            hidden.push_back(x);
        }
        M cls((size_t)B * C), Wp((size_t)C * C);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < C; j++) cls[(size_t)b * C + j] = x[(size_t)b * T * C + j];
        for (size_t i = 0; i < Wp.size(); i++) Wp[i] = w.pool_W[i];
        M pooled = linear(cls, B, C, Wp, w.pool_b, C);
        for (double &e : pooled) e = std::tanh(e);
        const int K = c.n_outputs;
        const real *head = m->params + m->adapter_params;
        M Wc((size_t)K * C);
        for (size_t i = 0; i < Wc.size(); i++) Wc[i] = head[i];
        logits = linear(pooled, B, C, Wc, head + (size_t)K * C, K);
    }
};

double max_rel(const real *got, int rows, int cols, int ld, const std::vector<double> &want) {
    double dev = 0, scale = 1e-300;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            dev = std::max(dev, std::fabs((double)got[(size_t)i * ld + j] - want[(size_t)i * cols + j]));
            scale = std::max(scale, std::fabs(want[(size_t)i * cols + j]));
        }
    return dev / scale;
}

constexpr unsigned kAll = (1u << ADA_ENC_MATRICES) - 1;

using TrainerPtr = std::unique_ptr<ada_trainer, void (*)(ada_trainer *)>;

// ada_train_defaults() at lr 1e-2, the budget going b0 -> bT over `total`
// steps with t_init and t_final.
ada_train_config train_config(long b0, long bT, long t_init, long t_final, long total) {
    ada_train_config tc = ada_train_defaults();
    tc.opt.lr = 1e-2;
    tc.schedule.b0 = b0;
    tc.schedule.bT = bT;
    tc.schedule.t_init = t_init;
    tc.schedule.t_final = t_final;
    tc.schedule.total = total;
    return tc;
}

TrainerPtr make_trainer(ada_model *m, const ada_train_config &tc) {
    ada_trainer *tr = nullptr;
    REQUIRE_MESSAGE(ada_trainer_create(&tr, m, &tc) == ADA_OK, ada_last_error());
    return TrainerPtr(tr, ada_trainer_free);
}

}  // namespace

TEST_CASE("encoder: forward equals a naive loop implementation (every layer's hidden states and the logits)") {
    for (ada_form form : {ADA_FORM_SVD, ADA_FORM_LORA}) {
        EncoderFixture f(form, form == ADA_FORM_SVD ? kAll : 0x15u);
        f.loss();
        Naive ref{f.d, *ada_encoder_weights_of(f.enc.get()), f.model(), f.cfg(), f.enc.get()};
        std::vector<std::vector<double>> hidden;
        std::vector<double> logits;
        ref.forward(f.eb, f.d.B, hidden, logits);
        const double bar = sizeof(real) == 8 ? 1e-12 : 1e-5;
        for (int l = 0; l <= f.d.L; l++) {
            ada_cmat h = ada_encoder_hidden(f.enc.get(), l);
            CAPTURE(l);
            CHECK(max_rel(h.data, h.rows, h.cols, h.ld, hidden[(size_t)l]) <= bar);
        }
        ada_cmat lg = ada_encoder_logits(f.enc.get());
        CHECK(max_rel(lg.data, lg.rows, lg.cols, lg.ld, logits) <= bar);
    }
}

TEST_CASE("encoder: every trainable gradient against central differences (double)") {
    if (sizeof(real) != 8) return;  // the finite differences need double
    struct Case {
        const char *what;
        ada_form form;
        unsigned targets;
        ada_loss_kind loss;
    } cases[] = {{"encoder svd, all six, cross-entropy", ADA_FORM_SVD, kAll, ADA_LOSS_CROSS_ENTROPY},
                 {"encoder lora, q v f2, cross-entropy", ADA_FORM_LORA, 0x25u, ADA_LOSS_CROSS_ENTROPY},
                 {"encoder svd, k o f1, mse head", ADA_FORM_SVD, 0x1au, ADA_LOSS_MSE},
                 {"encoder without adapters (targets 0, head-only), cross-entropy", ADA_FORM_SVD, 0u,
                  ADA_LOSS_CROSS_ENTROPY}};
    for (const Case &cs : cases) {
        EncoderFixture f(cs.form, cs.targets, cs.loss);
        ada_model *m = f.model();
        double v = 0;
        REQUIRE(ada_model_forward(m, &f.batch, &v, 1) == ADA_OK);
        std::memset(m->grads, 0, sizeof(real) * m->n_params);
        REQUIRE(ada_model_backward(m) == ADA_OK);
        Vec analytic(m->grads, m->grads + m->n_params);
        std::vector<double> numeric = gradcheck::fd_at(m->params, gradcheck::all_of(m->n_params), [&] { return f.loss(); });
        gradcheck::check_one(cs.what, test::grad_error(analytic, numeric));
        // The head alone, so a wrong adapter gradient cannot hide behind it and back.
        const size_t head = m->adapter_params;
        Vec a_head(analytic.begin() + (long)head, analytic.end());
        std::vector<double> n_head(numeric.begin() + (long)head, numeric.end());
        gradcheck::check_one("  its head (classifier) alone", test::grad_error(a_head, n_head));
    }
}

TEST_CASE("encoder: padding is invisible (more pad tokens, the same logits)") {
    EncoderFixture f(ADA_FORM_SVD, kAll);
    f.d.T = 4;
    f.make_batch(4, 3);
    f.loss();
    ada_cmat lg = ada_encoder_logits(f.enc.get());
    std::vector<double> before;
    for (int i = 0; i < lg.rows * lg.cols; i++) before.push_back(lg.data[i]);
    // The same sentences padded from 4 to 6 tokens.
    std::vector<int32_t> ids(f.ids), types(f.types);
    std::vector<uint8_t> mask(f.mask);
    f.make_batch(6, 3);
    for (int b = 0; b < f.d.B; b++)
        for (int t = 0; t < 6; t++) {
            const size_t at = (size_t)b * 6 + t;
            f.ids[at] = t < 4 ? ids[(size_t)b * 4 + t] : 5;  // a pad slot holds any id
            f.types[at] = t < 4 ? types[(size_t)b * 4 + t] : 1;
            f.mask[at] = t < 4 ? mask[(size_t)b * 4 + t] : 0;
        }
    f.loss();
    lg = ada_encoder_logits(f.enc.get());
    CHECK(max_rel(lg.data, lg.rows, lg.cols, lg.ld, before) <= (sizeof(real) == 8 ? 1e-12 : 1e-5));
}

TEST_CASE("encoder: a training step allocates nothing") {
    if (!alloc_counter::available()) return;
    EncoderFixture f(ADA_FORM_SVD, kAll, ADA_LOSS_CROSS_ENTROPY, 0.1);
    ada_model *m = f.model();
    double v;
    REQUIRE(ada_model_forward(m, &f.batch, &v, 1) == ADA_OK);  // warm-up (BLAS's own buffers)
    REQUIRE(ada_model_backward(m) == ADA_OK);
    alloc_counter::start();
    ada_status fw = ada_model_forward(m, &f.batch, &v, 1);
    ada_status bw = ada_model_backward(m);
    alloc_counter::Counts n = alloc_counter::stop();
    CHECK(fw == ADA_OK);
    CHECK(bw == ADA_OK);
    CHECK(n.ours == 0);
}

TEST_CASE("encoder: a bad batch is refused with one line, and nothing is written") {
    EncoderFixture f(ADA_FORM_SVD, kAll);
    f.loss();
    ada_cmat lg = ada_encoder_logits(f.enc.get());
    const std::vector<real> before(lg.data, lg.data + lg.rows * lg.cols);
    struct Bad {
        const char *what, *needle;
        std::function<void(EncoderFixture &)> spoil;
    } bad[] = {
        {"token id out of range", "token id 13", [](EncoderFixture &g) { g.ids[4] = 13; }},
        {"negative token type", "token type -1", [](EncoderFixture &g) { g.types[2] = -1; }},
        {"padding at [CLS]", "starts with padding", [](EncoderFixture &g) { g.mask[(size_t)g.d.T] = 0; }},
        {"label out of range", "label 3", [](EncoderFixture &g) { g.labels[1] = 3; }},
        {"T above max_seq", "T = 7", [](EncoderFixture &g) { g.eb.T = 7; }},
        {"no sequences", "batch sequences = 0", [](EncoderFixture &g) { g.batch.n = 0; }},
    };
    for (Bad &b : bad) {
        CAPTURE(b.what);
        EncoderFixture g(ADA_FORM_SVD, kAll);
        b.spoil(g);
        double v = 0;
        CHECK(ada_model_forward(g.model(), &g.batch, &v, 1) != ADA_OK);
        CHECK(std::string(ada_last_error()).find(b.needle) != std::string::npos);
        CHECK(std::string(ada_last_error()).find('\n') == std::string::npos);
        CHECK(ada_model_backward(g.model()) == ADA_ERR_STATE);  // no forward to differentiate
    }
    ada_encoder_config c = f.cfg();
    c.heads = 3;  // 8 is not a multiple of 3
    ada_encoder *e = nullptr;
    CHECK(ada_encoder_create(&e, &c) == ADA_ERR_DIM);
    c = f.cfg();
    c.targets = 1u << ADA_ENC_MATRICES;  // a seventh matrix type
    CHECK(ada_encoder_create(&e, &c) == ADA_ERR_RANGE);
    CHECK(std::string(ada_last_error()).find("allowed: 0..63") != std::string::npos);
    c = f.cfg();
    c.dropout = 1.0;
    CHECK(ada_encoder_create(&e, &c) == ADA_ERR_RANGE);
    CHECK(e == nullptr);
}

TEST_CASE("encoder: dropout acts in training forwards only, seeded") {
    EncoderFixture a(ADA_FORM_SVD, kAll, ADA_LOSS_CROSS_ENTROPY, 0.3), b(ADA_FORM_SVD, kAll, ADA_LOSS_CROSS_ENTROPY, 0.3),
            none(ADA_FORM_SVD, kAll, ADA_LOSS_CROSS_ENTROPY, 0.0);
    const double eval_a = a.loss(), eval_none = none.loss();
    CHECK(eval_a == eval_none);  // evaluation forwards: no dropout
    double ta, tb, tn;
    REQUIRE(ada_model_forward(a.model(), &a.batch, &ta, 1) == ADA_OK);
    REQUIRE(ada_model_forward(b.model(), &b.batch, &tb, 1) == ADA_OK);
    REQUIRE(ada_model_forward(none.model(), &none.batch, &tn, 1) == ADA_OK);
    CHECK(ta == tb);   // the same seed, the same masks
    CHECK(ta != tn);   // and they act
    CHECK(tn == eval_none);
}

TEST_CASE("encoder: the trainer drives it through the host interface (loss falls, the budget holds)") {
    EncoderFixture f(ADA_FORM_SVD, kAll);
    ada_model *m = f.model();
    const TrainerPtr tr = make_trainer(m, train_config(m->n_triplets, m->n_triplets / 2, 5, 5, 40));
    const double first = f.loss();
    ada_step_info info{};
    for (int t = 0; t < 40; t++) REQUIRE(ada_trainer_step(tr.get(), &f.batch, &info) == ADA_OK);
    CHECK(f.loss() < first);
    CHECK(info.kept == m->n_triplets / 2);
}

TEST_CASE("encoder: without adapters (targets 0) the trainer trains the head alone, the backbone stays frozen") {
    EncoderFixture f(ADA_FORM_SVD, 0u);
    ada_model *m = f.model();
    const Dims &d = f.d;
    REQUIRE(m->n_modules == 0);
    CHECK(m->n_triplets == 0);
    CHECK(m->adapter_params == 0);
    CHECK(m->n_params == (size_t)d.K * d.C + d.K);  // head.W (K x C) and head.b (K)
    CHECK(ada_model_param_count(m, 0) == 0);  // adapter parameters; the head is not counted
    CHECK(ada_model_param_count(m, 1) == 0);
    // The paper's step with everything on that has nothing to act on: pruning
    // on a schedule of budget 0 (mask steps included), γ > 0 averaged over
    // no factor, clipping.
    ada_train_config tc = train_config(0, 0, 2, 2, 12);
    tc.clip = 1.0;
    tc.orth_reduce = ADA_ORTH_MEAN;
    const TrainerPtr tr = make_trainer(m, tc);
    CHECK(tr->orth_weight == 0.0);
    const double first = f.loss();
    const Vec frozen = f.frozen(), head(m->params, m->params + m->n_params);
    std::vector<Vec> hidden;
    for (int l = 0; l <= d.L; l++) {
        const ada_cmat h = ada_encoder_hidden(f.enc.get(), l);
        hidden.emplace_back(h.data, h.data + (size_t)h.rows * h.ld);
    }
    ada_step_info info{};
    REQUIRE(ada_trainer_step(tr.get(), &f.batch, &info) == ADA_OK);  // a first step (BLAS's own buffers)
    long masks = 0, allocations = 0;
    for (long t = 2; t <= tc.schedule.total; t++) {
        const bool counted = t == 3 && alloc_counter::available();
        if (counted) alloc_counter::start();
        const ada_status st = ada_trainer_step(tr.get(), &f.batch, &info);
        if (counted) allocations = alloc_counter::stop().ours;
        REQUIRE_MESSAGE(st == ADA_OK, ada_last_error());
        masks += info.action == ADA_ACTION_MASK;
        CHECK(info.orth_raw == 0.0);
        CHECK(info.orth_term == 0.0);
        CHECK(info.budget == 0);
        CHECK(info.kept == 0);
    }
    CHECK(masks > 0);        // the mask steps ran, over no triplet
    CHECK(allocations == 0);  // a step allocates nothing
    CHECK(f.loss() < first);
    CHECK(f.frozen() == frozen);  // the backbone's weights are as they were
    CHECK(Vec(m->params, m->params + m->n_params) != head);  // and the head trained
    for (int l = 0; l <= d.L; l++) {  // so the hidden states of the last forward are too, bit for bit
        CAPTURE(l);
        const ada_cmat h = ada_encoder_hidden(f.enc.get(), l);
        CHECK(Vec(h.data, h.data + (size_t)h.rows * h.ld) == hidden[(size_t)l]);
    }
}

TEST_CASE("model: no adapted module is refused unless an external host's own parameters train") {
    ada_model_config c = ada_model_defaults();
    c.n_modules = 0;
    c.modules = nullptr;
    ada_model *m = nullptr;
    CHECK(ada_model_create(&m, &c) == ADA_ERR_DIM);  // the MLP chains with nothing in them
    const std::string message = ada_last_error();
    CHECK(message.find("n_modules = 0") != std::string::npos);
    CHECK(message.find(">= 1") != std::string::npos);
    CHECK(message.find("external_host = 1 and host_params > 0") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    c.external_host = 1;
    CHECK(ada_model_create(&m, &c) == ADA_ERR_DIM);  // an external host with nothing to train
    CHECK(m == nullptr);
    c.host_params = 5;
    REQUIRE(ada_model_create(&m, &c) == ADA_OK);
    std::unique_ptr<ada_model, void (*)(ada_model *)> own(m, ada_model_free);
    CHECK(m->n_params == 5);
    CHECK(m->n_triplets == 0);
    CHECK(ada_model_param_count(m, 0) == 0);  // the host's own parameters are not adapter parameters
}

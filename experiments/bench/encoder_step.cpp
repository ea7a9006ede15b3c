// encoder_step.cpp: the encoder's training step as a benchmark (encoder_step.h).
#include "encoder_step.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "workload.h"

extern "C" {
#include "encoder.h"
#include "rng.h"
#include "trainer.h"
}

namespace bench {

namespace {

constexpr int kVocab = 30522, kPositions = 512, kHidden = 384, kLayers = 6, kHeads = 12, kFfn = 1536, kRank = 8;

class EncoderStepWork : public Workload {
public:
    EncoderStepWork(bool adalora, int B, int T) : B_(B), T_(T) {
        ada_encoder_config c{};
        c.vocab = kVocab, c.max_positions = kPositions, c.type_vocab = 2;
        c.hidden = kHidden, c.layers = kLayers, c.heads = kHeads, c.intermediate = kFfn;
        c.ln_eps = 1e-12;
        c.n_outputs = 2;
        c.loss = ADA_LOSS_CROSS_ENTROPY;
        c.targets = (1u << ADA_ENC_MATRICES) - 1;
        c.max_batch = B, c.max_seq = T;
        c.adapters = ada_model_defaults();
        c.adapters.form = adalora ? ADA_FORM_SVD : ADA_FORM_LORA;
        c.adapters.r0 = kRank;
        ada_encoder *e = nullptr;
        if (ada_encoder_create(&e, &c) != ADA_OK) throw std::runtime_error(ada_last_error());
        enc_.reset(e);
        fill_weights();
        ada_model *m = ada_encoder_model(e);
        ada_train_config tc = ada_train_defaults();
        tc.prune = adalora;
        tc.gamma = adalora ? 0.1 : 0.0;
        tc.schedule.b0 = m->n_triplets;
        tc.schedule.bT = adalora ? m->n_triplets / 4 : m->n_triplets;
        tc.schedule.t_init = 10;
        tc.schedule.t_final = 10;
        tc.schedule.total = 1000000;  // the decay phase: a mask every step (ΔT 1)
        ada_trainer *tr = nullptr;
        if (ada_trainer_create(&tr, m, &tc) != ADA_OK) throw std::runtime_error(ada_last_error());
        tr_.reset(tr);
        ada_rng rng;
        ada_rng_seed(&rng, 3);
        ids_.resize((size_t)B * T);
        for (auto &id : ids_) id = (int32_t)ada_rng_below(&rng, kVocab);
        mask_.assign((size_t)B * T, 1);
        labels_.resize((size_t)B);
        for (int b = 0; b < B; b++) labels_[(size_t)b] = b % 2;
        eb_.T = T, eb_.ids = ids_.data(), eb_.mask = mask_.data(), eb_.labels = labels_.data();
        batch_.n = B;
        batch_.host = &eb_;
    }
    void run() override {
        if (tr_->completed + 1 >= tr_->config.schedule.total) tr_->completed = 0;
        if (ada_trainer_step(tr_.get(), &batch_, &info_) != ADA_OK) throw std::runtime_error(ada_last_error());
        for (int p = 0; p < ADA_TIME_COUNT; p++) ms_[p] += info_.ms[p];
        steps_++;
    }
    void reset() override {
        for (double &v : ms_) v = 0;
        steps_ = 0;
    }
    void report(benchmark::State &state, long) override {
        using benchmark::Counter;
        state.counters["tokens_per_s"] = Counter((double)B_ * T_, Counter::kIsIterationInvariantRate);
        static const char *const names[ADA_TIME_COUNT] = {"forward", "backward", "optimizer", "importance", "allocation"};
        for (int p = 0; p < ADA_TIME_COUNT; p++)
            state.counters[std::string("ms_") + names[p]] = steps_ ? ms_[p] / steps_ : 0;
    }

private:
    // N(0, 0.05²) everywhere, LayerNorm gains 1: a BERT-like scale.
    void fill_weights() {
        ada_encoder_weights *w = ada_encoder_weights_of(enc_.get());
        ada_rng rng;
        ada_rng_seed(&rng, 1);
        auto normal = [&](real *x, size_t n) { ada_rng_fill_normal(&rng, x, n, 0.0, 0.05); };
        auto ones = [](real *x, size_t n) { std::fill(x, x + n, (real)1); };
        normal(w->word, (size_t)kVocab * kHidden);
        normal(w->pos, (size_t)kPositions * kHidden);
        normal(w->type, (size_t)2 * kHidden);
        ones(w->emb_ln_g, kHidden);
        for (int l = 0; l < kLayers; l++) {
            ada_encoder_layer_weights &lw = w->layer[l];
            for (int t = 0; t < ADA_ENC_MATRICES; t++) {
                const size_t rows = t == ADA_ENC_FFN_IN ? kFfn : kHidden, cols = t == ADA_ENC_FFN_OUT ? kFfn : kHidden;
                normal(lw.W[t], rows * cols);
            }
            ones(lw.ln1_g, kHidden);
            ones(lw.ln2_g, kHidden);
        }
        normal(w->pool_W, (size_t)kHidden * kHidden);
    }

    int B_, T_;
    std::unique_ptr<ada_encoder, void (*)(ada_encoder *)> enc_{nullptr, ada_encoder_free};
    std::unique_ptr<ada_trainer, void (*)(ada_trainer *)> tr_{nullptr, ada_trainer_free};
    std::vector<int32_t> ids_, labels_;
    std::vector<uint8_t> mask_;
    ada_encoder_batch eb_{};
    ada_batch batch_{};
    ada_step_info info_{};
    double ms_[ADA_TIME_COUNT] = {0};
    long steps_ = 0;
};

}  // namespace

void register_encoder_steps(bool quick) {
    const std::vector<int> batches = quick ? std::vector<int>{32} : std::vector<int>{8, 32};
    for (const char *method : {"adalora", "lora"})
        for (int B : batches)
            register_workload(std::string("encoder_step/") + method + "/B:" + std::to_string(B) + "/T:64",
                              [=] { return std::make_unique<EncoderStepWork>(std::string(method) == "adalora", B, 64); },
                              false);
}

}  // namespace bench

/* encoder.h: a BERT-family encoder (Devlin et al. 2019) as an AdaLoRA host,
 * the network the paper adapts: embeddings → L post-LN transformer layers →
 * pooler (dense + tanh on [CLS]) → classification head → loss, forward and
 * backward, with any of the six matrices of every layer adapted (model.h's
 * adapter arena, SVD or LoRA form) and everything else frozen but the head,
 * which trains in full (PEFT's modules_to_save).
 *
 * Dimension letters: B sequences, T tokens, N = B·T rows, C hidden, H heads,
 * D = C/H, I intermediate (FFN), V vocabulary, P positions, Y token types,
 * K outputs (classes, or 1 for a regression head). Activations are
 * token-major: token t of sequence b is row b·T + t of an N x C matrix.
 *
 * One layer, as HF's BertLayer computes it (post-LN):
 *   q, k, v = X W_qᵀ + b_q, ...           (each matrix: Eq. 3 when adapted)
 *   c = MultiHeadAttention(q, k, v, key mask)
 *   Y1 = LayerNorm(drop(c W_oᵀ + b_o) + X)
 *   X' = LayerNorm(drop(GELU(Y1 W_f1ᵀ + b_f1) W_f2ᵀ + b_f2) + Y1)
 * Head: logits = drop(tanh(X'[CLS] W_poolᵀ + b_pool)) W_clsᵀ + b_cls.
 * drop() is inverted dropout with probability `dropout` in training forwards
 * (those that seed a gradient) and the identity otherwise; HF's dropout of
 * the embeddings and of the attention probabilities is not modelled (with
 * dropout 0, as the cross-checks run, the networks are the same).
 *
 * Every buffer is allocated by ada_encoder_create; a forward or backward
 * allocates nothing. The frozen weights are one buffer carved into the named
 * views of ada_encoder_weights (HF's shapes: a dense weight is out x in). */
#ifndef ADA_ENCODER_H
#define ADA_ENCODER_H

#include "ada_common.h"
#include "model.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The six matrices of a layer, in PEFT's target_modules names. */
typedef enum {
    ADA_ENC_QUERY = 0,      /* attention.self.query            C x C */
    ADA_ENC_KEY = 1,        /* attention.self.key              C x C */
    ADA_ENC_VALUE = 2,      /* attention.self.value            C x C */
    ADA_ENC_ATTN_OUT = 3,   /* attention.output.dense          C x C */
    ADA_ENC_FFN_IN = 4,     /* intermediate.dense              I x C */
    ADA_ENC_FFN_OUT = 5,    /* output.dense                    C x I */
    ADA_ENC_MATRICES = 6
} ada_encoder_matrix;

/* PEFT's name of matrix type t ("query", ..., "output.dense"); NULL if unknown. */
const char *ada_encoder_matrix_name(int t);

/* Whether matrix type `type` of layer `layer` is adapted under these
 * ada_encoder_config fields: its type is a target and its layer is in the
 * mask (layer_mask 0: every layer, as PEFT's layers_to_transform = None). */
int ada_encoder_adapts(unsigned targets, uint64_t layer_mask, int layer, int type);

typedef struct {
    int vocab, max_positions, type_vocab;   /* V, P, Y */
    int hidden, layers, heads, intermediate; /* C, L, H, I */
    double ln_eps;            /* LayerNorm ε (BERT: 1e-12) */
    int n_outputs;            /* K */
    ada_loss_kind loss;       /* ADA_LOSS_CROSS_ENTROPY (K classes) or ADA_LOSS_MSE (regression) */
    unsigned targets;         /* bit t: matrix type t of every adapted layer is adapted (0..63; 0:
                                 no adapter, the head alone trains and the backward stops there) */
    uint64_t layer_mask;      /* bit l: layer l is adapted; 0: every layer (PEFT's layers_to_transform) */
    int max_batch, max_seq;   /* B and T the activations are allocated for */
    double dropout;           /* [0, 1): hidden-state and head dropout of training forwards */
    uint64_t dropout_seed;
    /* The adapters (form, r0, alpha, scale_eps, init_std, seed); modules,
     * n_modules, loss, max_batch, external_host and host_params are set here. */
    ada_model_config adapters;
} ada_encoder_config;

/* The frozen weights of one layer: W[t] (out x in) and b[t] of matrix type t,
 * the LayerNorms after attention (ln1) and after the FFN (ln2). */
typedef struct {
    real *W[ADA_ENC_MATRICES], *b[ADA_ENC_MATRICES];
    real *ln1_g, *ln1_b, *ln2_g, *ln2_b;
} ada_encoder_layer_weights;

typedef struct {
    real *word, *pos, *type;      /* V x C, P x C, Y x C */
    real *emb_ln_g, *emb_ln_b;    /* C */
    ada_encoder_layer_weights *layer;  /* L */
    real *pool_W, *pool_b;        /* C x C, C */
} ada_encoder_weights;

/* The trainable head, views into the model's arenas after the adapters. */
typedef struct {
    real *W;   /* K x C */
    real *b;   /* K */
} ada_encoder_head;

/* One mini-batch (ada_batch.host; ada_batch.n = B). */
typedef struct {
    int T;                    /* tokens per sequence, 1..max_seq */
    const int32_t *ids;       /* B x T, in [0, V) */
    const int32_t *type_ids;  /* B x T, in [0, Y); NULL = all 0 */
    const uint8_t *mask;      /* B x T: 1 real token, 0 padding; token 0 must be real */
    const int32_t *labels;    /* B, in [0, K) (cross-entropy) */
    const real *targets;      /* B x K (MSE) */
} ada_encoder_batch;

typedef struct ada_encoder ada_encoder;

/* Checks cfg, allocates everything, and builds the adapter model (one module
 * per adapted matrix, layer by layer in matrix-type order, named
 * "L.type", e.g. "3.query"); the frozen weights are zero until the caller
 * fills ada_encoder_weights_of(); the head is N(0, 0.02²) weights and zero
 * biases (HF's initializer_range), drawn from adapters.seed. */
ada_status ada_encoder_create(ada_encoder **out, const ada_encoder_config *cfg);
void ada_encoder_free(ada_encoder *enc);

ada_encoder_weights *ada_encoder_weights_of(ada_encoder *enc);
ada_model *ada_encoder_model(ada_encoder *enc);   /* the adapters; its host is the encoder */
ada_encoder_head ada_encoder_head_of(ada_encoder *enc, real *arena); /* in any model arena */
const ada_encoder_config *ada_encoder_config_of(const ada_encoder *enc);

/* Layer and matrix type of adapter module k. */
void ada_encoder_module_at(const ada_encoder *enc, int k, int *layer, int *type);

/* After a forward: the logits (B x K, ld K), and the output of layer l
 * (l = 0: the embeddings after their LayerNorm; l = L: the last layer),
 * N x C with ld C. */
ada_cmat ada_encoder_logits(const ada_encoder *enc);
ada_cmat ada_encoder_hidden(const ada_encoder *enc, int l);

#ifdef __cplusplus
}
#endif
#endif

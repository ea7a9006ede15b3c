/* embedding.h: BERT's embedding sum, before its LayerNorm (HF BertEmbeddings):
 *
 *   out[b·T + t] = (word[ids[b·T + t]] + type[type_ids[b·T + t]]) + pos[t]
 *
 * (added in HF's order). Dimension letters: B sequences, T tokens, C width,
 * V vocabulary (word.rows), P positions (pos.rows, T <= P), Y token types
 * (type.rows). Shapes: out, dout ((B·T) x C); word, dword (V x C); pos, dpos
 * (P x C); type, dtype (Y x C); each view its own ld. ids (B·T) in [0, V),
 * type_ids (B·T) in [0, Y), refused otherwise (ADA_ERR_RANGE, naming the
 * position and the value); type_ids NULL = all 0. The backward scatter-ADDS
 * (+=) into dword, dpos, dtype; each with data NULL = frozen. */
#ifndef ADA_EMBEDDING_H
#define ADA_EMBEDDING_H

#include "ada_common.h"
#include "matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out ((B·T) x C) from ids, type_ids (B·T each) and the tables word (V x C),
 * pos (P x C), type (Y x C). */
ada_status ada_embedding_forward(ada_mat out, const int32_t *ids, const int32_t *type_ids,
                                 int B, int T, ada_cmat word, ada_cmat pos, ada_cmat type);

/* dword[ids[n]] += dout[n], dpos[n mod T] += dout[n], dtype[type_ids[n]] += dout[n]
 * for every row n of dout ((B·T) x C). */
ada_status ada_embedding_backward(ada_mat dword, ada_mat dpos, ada_mat dtype, ada_cmat dout,
                                  const int32_t *ids, const int32_t *type_ids, int B, int T);

#ifdef __cplusplus
}
#endif
#endif

// encoder_step.h: `adalora encoder-step`, one training step's forward and
// gradients of a sentence task written out for the cross-check against
// Hugging Face transformers and torch autograd (tests/crosscheck/encoder_check.py).
//
// The run is built as `train` builds it (task, method, encoder, trainer);
// every trainable parameter is then drawn from N(0, perturb²) (seed + 1), so
// no gradient is zero by construction (λ starts at 0), and one
// ada_trainer_gradients call (forward, task loss + γ·orth, backward) runs on
// the first --rows training sentences. OUT gets, as .npy: ids, mask, labels or
// targets, hidden_L (L = 0: the embeddings after their LayerNorm), logits,
// every adapter tensor NAME.{P,lambda,Q} or NAME.{B,A} and the head
// classifier.{weight,bias}, each with its gradient grad.NAME...; and
// index.json (what the reference needs to rebuild the step).
//
// With --adapter FILE (a run's adapter.safetensors, or the one `import --out`
// writes from a PEFT directory; formats/adapter_file.h) the trainable
// parameters are FILE's instead of random ones: every module's adapter
// tensors, its keep flags (a pruned triplet masked as the trainer masks it:
// its λ, or its B column and A row, set to 0) and the head. FILE must fit
// the run the options describe: the same form, r0, modules (--target-modules),
// head shape and, when FILE records it, the same scale s (--lora_alpha,
// --init_r, --convention / scale-eps); every value finite. logits.npy are then
// the adapter's logits on those sentences (tests/crosscheck/peft_adapters.py).
#pragma once

#include <string>

#include "config/run_config.h"

namespace adalora {

struct EncoderStepArgs {
    double perturb = 0.1;
    int rows = 8;
    std::string adapter;  // --adapter FILE; "": random parameters (--perturb)
};

int cmd_encoder_step(const RunConfig &cfg, const EncoderStepArgs &args);

}  // namespace adalora

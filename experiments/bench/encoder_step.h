// encoder_step.h: one full training step (ada_trainer_step: forward, task
// loss + γ·orth, backward, AdamW, importance EMAs, allocation) of the BERT
// encoder host at MiniLM's sizes (6 layers, hidden 384, 12 heads, FFN 1536,
// vocabulary 30522) on random weights, every matrix adapted, B sequences of
// T tokens: encoder_step/METHOD/B:32/T:64, with tokens/s and the time of
// each phase. Random weights, because a step's time does not depend on the
// values (no data-dependent branch but the guard, which never fires here).
#pragma once

namespace bench {

void register_encoder_steps(bool quick);

}  // namespace bench

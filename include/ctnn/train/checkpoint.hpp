#pragma once
// Checkpoints of a training run (placeholder until the checkpoint format lands).
#include "ctnn/error.hpp"
#include "ctnn/train/trainer.hpp"

namespace ctnn {

template <class M, class L, class O, class S, class R, class St>
void Trainer<M, L, O, S, R, St>::write_checkpoint(Run&) {
  throw ConfigError("Trainer: checkpoints are not available yet");
}

template <class M, class L, class O, class S, class R, class St>
History Trainer<M, L, O, S, R, St>::resume(M&, const data::Dataset&, const data::Dataset&, const std::string&) {
  throw ConfigError("Trainer: checkpoints are not available yet");
}

}  // namespace ctnn

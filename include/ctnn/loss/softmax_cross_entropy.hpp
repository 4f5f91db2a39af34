#pragma once
// SoftmaxCrossEntropy: mean over the batch of -log softmax(logits)[label], for integer class
// labels; the network's last layer outputs raw logits. Equals PyTorch's
// nn.CrossEntropyLoss(reduction='mean').
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ctnn {

struct SoftmaxCrossEntropy {
  static std::string name() { return "SoftmaxCrossEntropy"; }

  // logits: (batch, classes). Returns the mean loss; grad (nullable) gets d(mean loss)/d(logits).
  template <class T>
  static T forward(const T* logits, const std::int32_t* labels, std::size_t batch,
                   std::size_t classes, T* grad) {
    double total = 0;
    for (std::size_t n = 0; n < batch; ++n) {
      const T* z = logits + n * classes;
      T top = z[0];
      for (std::size_t c = 1; c < classes; ++c) top = z[c] > top ? z[c] : top;  // for stability
      double sum = 0;
      for (std::size_t c = 0; c < classes; ++c) sum += std::exp(double(z[c] - top));
      const double log_sum = std::log(sum) + double(top);
      total += log_sum - double(z[labels[n]]);
      if (grad) {
        for (std::size_t c = 0; c < classes; ++c)
          grad[n * classes + c] = T(std::exp(double(z[c]) - log_sum) / double(batch));
        grad[n * classes + labels[n]] -= T(1.0 / double(batch));
      }
    }
    return T(total / double(batch));
  }
};

// Number of rows whose largest logit is at the label.
template <class T>
std::size_t count_correct(const T* outputs, const std::int32_t* labels, std::size_t batch,
                          std::size_t classes) {
  std::size_t correct = 0;
  for (std::size_t n = 0; n < batch; ++n) {
    std::size_t best = 0;
    for (std::size_t c = 1; c < classes; ++c)
      if (outputs[n * classes + c] > outputs[n * classes + best]) best = c;
    correct += best == std::size_t(labels[n]);
  }
  return correct;
}

}  // namespace ctnn

#pragma once
// Reference optimizer updates. Each formula is written once, for one value or one vector of
// values (V is T or an xsimd batch), so the fast kernels (kernels/cpu/optimizer.hpp) apply the
// very same arithmetic to whole vectors.
#include <cmath>
#include <cstddef>

namespace ctnn::kernels::reference {

// Adam, as torch.optim.Adam (see train/adam.hpp for where the coefficients come from):
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   w += neg_step_size * m / (sqrt(v) / bias_correction2_sqrt + epsilon)
template <class T>
struct AdamCoefficients {
  T neg_step_size, bias_correction2_sqrt, beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon;
};

template <class V, class T>
inline void adam_element(V& w, V& m, V& v, const V& g, const AdamCoefficients<T>& c) {
  using std::sqrt;
  m = m * V(c.beta1) + V(c.one_minus_beta1) * g;
  v = v * V(c.beta2) + V(c.one_minus_beta2) * g * g;
  const V denom = sqrt(v) / V(c.bias_correction2_sqrt) + V(c.epsilon);
  w = w + V(c.neg_step_size) * m / denom;
}

template <class T>
void adam_update(T* w, const T* g, T* m, T* v, std::size_t n, const AdamCoefficients<T>& c) {
  for (std::size_t i = 0; i < n; ++i) adam_element(w[i], m[i], v[i], g[i], c);
}

// RMSprop, as torch.optim.RMSprop (centered off):
//   s = alpha s + (1 - alpha) g^2;  a = sqrt(s) + epsilon
//   without momentum: w += neg_lr * g / a;  with: b = momentum b + g / a, w += neg_lr * b
template <class T>
struct RmsPropCoefficients {
  T alpha, one_minus_alpha, epsilon, neg_lr, momentum;
};

template <class V, class T>
inline void rmsprop_element(V& w, V& s, const V& g, const RmsPropCoefficients<T>& c) {
  using std::sqrt;
  s = s * V(c.alpha) + V(c.one_minus_alpha) * g * g;
  const V avg = sqrt(s) + V(c.epsilon);
  w = w + V(c.neg_lr) * g / avg;
}

template <class V, class T>
inline void rmsprop_momentum_element(V& w, V& s, V& b, const V& g, const RmsPropCoefficients<T>& c) {
  using std::sqrt;
  s = s * V(c.alpha) + V(c.one_minus_alpha) * g * g;
  const V avg = sqrt(s) + V(c.epsilon);
  b = b * V(c.momentum) + g / avg;
  w = w + V(c.neg_lr) * b;
}

// b is the momentum buffer, or null for plain RMSprop.
template <class T>
void rmsprop_update(T* w, const T* g, T* s, T* b, std::size_t n, const RmsPropCoefficients<T>& c) {
  if (b)
    for (std::size_t i = 0; i < n; ++i) rmsprop_momentum_element(w[i], s[i], b[i], g[i], c);
  else
    for (std::size_t i = 0; i < n; ++i) rmsprop_element(w[i], s[i], g[i], c);
}

}  // namespace ctnn::kernels::reference

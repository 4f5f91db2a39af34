#pragma once
// Reference GEMM: the specification the fast kernels are tested against.
#include <cstddef>

namespace ctnn::kernels::reference {

// C = alpha * op(A) * op(B) + beta * C, row-major.
// op(A): (M,K), stored (M,K) with leading dimension lda, or (K,M) when trans_a.
// op(B): (K,N), stored (K,N) with leading dimension ldb, or (N,K) when trans_b.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c,
          std::size_t ldc) {
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      T sum = 0;
      for (std::size_t p = 0; p < k; ++p) {
        const T av = trans_a ? a[p * lda + i] : a[i * lda + p];
        const T bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
      }
      // beta == 0 must ignore C entirely (it may hold NaN from an uninitialised buffer).
      c[i * ldc + j] = alpha * sum + (beta == T(0) ? T(0) : beta * c[i * ldc + j]);
    }
  }
}

}  // namespace ctnn::kernels::reference

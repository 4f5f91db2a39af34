#pragma once
// GEMM workspace: per-thread, 64-byte aligned packing buffers that only ever grow, so steady
// state calls (same or smaller shapes) do not touch the heap.
#include <cstddef>
#include <new>

namespace ctnn::kernels::cpu::detail {

template <class T>
class aligned_buffer {
 public:
  static constexpr std::size_t alignment = 64;
  aligned_buffer() = default;
  aligned_buffer(const aligned_buffer&) = delete;
  aligned_buffer& operator=(const aligned_buffer&) = delete;
  ~aligned_buffer() { release(); }

  // A pointer to at least `n` elements (contents unspecified).
  T* get(std::size_t n) {
    if (n > size_) {
      release();
      data_ = static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{alignment}));
      size_ = n;
    }
    return data_;
  }
  std::size_t size() const noexcept { return size_; }

 private:
  void release() noexcept {
    if (data_) ::operator delete(data_, std::align_val_t{alignment});
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// One per thread and scalar type: packed A micro-panel (MR x KC), packed B block (KC x NC),
// and a transposed copy of a narrow B for the inner-product path (N x K).
template <class T>
struct gemm_workspace {
  aligned_buffer<T> a;
  aligned_buffer<T> b;
  aligned_buffer<T> bt;
  static gemm_workspace& local() {
    thread_local gemm_workspace ws;
    return ws;
  }
};

}  // namespace ctnn::kernels::cpu::detail

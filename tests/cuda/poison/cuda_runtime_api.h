// Poison header for the test cuda.host_headers (tests/cuda.cmake): a header of ctnn that a CPU
// build includes pulled in <cuda_runtime_api.h>. Host headers of the CUDA backend must stay plain C++.
#error "ctnn: a CPU-side header included <cuda_runtime_api.h>; only src/cuda/ may include CUDA headers"

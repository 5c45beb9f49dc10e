// Elementwise kernels of training: optimizer steps and tanh, over the pool in chunks. Profiling an epoch of
// 784-800-800-10 showed them, not the matrix products, dominating the JavaScript implementation.
#include "elementwise.h"

#include <algorithm>
#include <cmath>

#include "pool.h"

namespace opu {
namespace {

template <typename F>
void chunked(long n, F body) {
  constexpr long kChunk = 1 << 15;
  const int tasks = static_cast<int>((n + kChunk - 1) / kChunk);
  parallelFor(tasks, [&](int t) { body(t * kChunk, std::min(n, (t + 1) * kChunk)); });
}

}  // namespace

__attribute__((target_clones("avx512f", "avx2", "default"))) void sgdRange(float* __restrict p, const float* __restrict g,
                                                                             float* __restrict v, long a, long b,
                                                                             float rate, float momentum, float decay) {
  for (long i = a; i < b; ++i) {
    v[i] = momentum * v[i] + (g[i] + decay * p[i]);
    p[i] -= rate * v[i];
  }
}

void sgdStep(float* p, const float* g, float* v, long n, float rate, float momentum, float decay) {
  chunked(n, [&](long a, long b) { sgdRange(p, g, v, a, b, rate, momentum, decay); });
}

void adamStep(float* p, const float* g, float* m, float* v, long n, float rate, float beta1, float beta2, float epsilon,
              float c1, float c2, float decay) {
  chunked(n, [&](long a, long b) {
    for (long i = a; i < b; ++i) {
      const float grad = g[i] + decay * p[i];
      m[i] = beta1 * m[i] + (1 - beta1) * grad;
      v[i] = beta2 * v[i] + (1 - beta2) * grad * grad;
      p[i] -= rate * (m[i] / c1) / (std::sqrt(v[i] / c2) + epsilon);
    }
  });
}

void tanhForward(const float* a, float* h, long n) {
  chunked(n, [&](long lo, long hi) {
    for (long i = lo; i < hi; ++i) h[i] = std::tanh(a[i]);
  });
}

}  // namespace opu

// Elementwise kernels of training: optimizer steps, activations and their gradients, bias sums, over the pool in
// chunks. Profiling an epoch of 784-800-800-10 showed them, not the matrix products, dominating once the products
// were native; std::tanh alone took half the time of the products, hence the vectorizable tanh below.
#include "training/elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/pool.h"
#include "runtime/simd.h"

namespace opu {
namespace {

template <typename F>
void chunked(long n, F body) {
  constexpr long kChunk = 1 << 15;
  const int tasks = static_cast<int>((n + kChunk - 1) / kChunk);
  parallelFor(tasks, [&](int t) { body(t * kChunk, std::min(n, (t + 1) * kChunk)); });
}

// e^x − 1 for |x| ≤ 88, within a few ulp: with n = round(x / ln 2) and |r| ≤ ln(2)/2, e^x − 1 = 2^n·q + (2^n − 1)
// where q = e^r − 1 is its Taylor series to degree 8 (truncation below 1e−9), so there is no cancellation near 0.
// Branch-free and without library calls, so loops over it vectorize.
inline float expm1Bounded(float x) {
  const float n = std::floor(x * 1.44269504f + 0.5f);
  // ln 2 in two parts (Cody and Waite) so that n·ln2 is subtracted without rounding error.
  const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f;
  float q = 1.0f / 40320;
  q = q * r + 1.0f / 5040;
  q = q * r + 1.0f / 720;
  q = q * r + 1.0f / 120;
  q = q * r + 1.0f / 24;
  q = q * r + 1.0f / 6;
  q = q * r + 0.5f;
  q = q * r + 1.0f;
  q = q * r;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return scale * q + (scale - 1.0f);
}

// tanh(x) = m / (m + 2) with m = e^{2|x|} − 1, sign restored; |x| ≥ 9 rounds to ±1 in float anyway.
inline float tanhFast(float x) {
  const float m = expm1Bounded(2 * std::min(std::fabs(x), 9.0f));
  return std::copysign(m / (m + 2.0f), x);
}

// e^{−x} saturates float beyond 88; the sigmoid there is 1 or below the smallest float.
inline float sigmoidFast(float x) { return 1.0f / (2.0f + expm1Bounded(std::clamp(-x, -88.0f, 88.0f))); }

}  // namespace

OPU_VECTOR_CLONES void sgdRange(float* __restrict p, const float* __restrict g, float* __restrict v, long a, long b,
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

OPU_VECTOR_CLONES void activateRange(Activation kind, float slope, const float* __restrict a, float* __restrict h,
                                     long lo, long hi) {
  switch (kind) {
    case Activation::Tanh:
      for (long i = lo; i < hi; ++i) h[i] = tanhFast(a[i]);
      return;
    case Activation::Relu:
      for (long i = lo; i < hi; ++i) h[i] = std::max(a[i], 0.0f);  // NaN stays NaN, as in Math.max
      return;
    case Activation::LeakyRelu:
      for (long i = lo; i < hi; ++i) h[i] = a[i] > 0 ? a[i] : slope * a[i];
      return;
    case Activation::Sigmoid:
      for (long i = lo; i < hi; ++i) h[i] = sigmoidFast(a[i]);
      return;
  }
}

void activate(Activation kind, float slope, const float* a, float* h, long n) {
  chunked(n, [&](long lo, long hi) { activateRange(kind, slope, a, h, lo, hi); });
}

OPU_VECTOR_CLONES void gradientRow(Activation kind, float slope, const float* __restrict g, float factor,
                                   const float* __restrict a, const float* __restrict h, float* __restrict out,
                                   long width) {
  switch (kind) {
    case Activation::Tanh:
      for (long j = 0; j < width; ++j) out[j] = factor * g[j] * (1.0f - h[j] * h[j]);
      return;
    case Activation::Relu:
      for (long j = 0; j < width; ++j) out[j] = a[j] > 0 ? factor * g[j] : 0.0f;
      return;
    case Activation::LeakyRelu:
      for (long j = 0; j < width; ++j) out[j] = factor * g[j] * (a[j] > 0 ? 1.0f : slope);
      return;
    case Activation::Sigmoid:
      for (long j = 0; j < width; ++j) out[j] = factor * g[j] * (h[j] * (1.0f - h[j]));
      return;
  }
}

void activationGradient(Activation kind, float slope, const float* g, long gStride, float factor, const float* a,
                        const float* h, float* out, long rows, long width) {
  const long rowsPerTask = std::max(1L, (1L << 15) / std::max(1L, width));
  const int tasks = static_cast<int>((rows + rowsPerTask - 1) / rowsPerTask);
  parallelFor(tasks, [&](int t) {
    for (long r = t * rowsPerTask; r < std::min(rows, (t + 1) * rowsPerTask); ++r) {
      gradientRow(kind, slope, g + r * gStride, factor, a + r * width, h + r * width, out + r * width, width);
    }
  });
}

OPU_VECTOR_CLONES void addRow(const float* __restrict x, float* __restrict out, long cols) {
  for (long j = 0; j < cols; ++j) out[j] += x[j];
}

void columnSums(const float* x, long rows, long cols, float* out) {
  std::fill(out, out + cols, 0.0f);
  for (long r = 0; r < rows; ++r) addRow(x + r * cols, out, cols);
}

}  // namespace opu

#pragma once
#include <cstdint>

namespace opu {

// v = momentum·v + (g + decay·p); p −= rate·v
void sgdStep(float* p, const float* g, float* v, long n, float rate, float momentum, float decay);
// Adam with bias corrections c1 = 1 − β1^t, c2 = 1 − β2^t.
void adamStep(float* p, const float* g, float* m, float* v, long n, float rate, float beta1, float beta2, float epsilon,
              float c1, float c2, float decay);

// The activations of dense layers, numbered as in native/src/training/elementwise.ts.
enum class Activation : int { Tanh = 0, Relu = 1, LeakyRelu = 2, Sigmoid = 3 };

// h = f(a); `slope` is leaky ReLU's slope for a < 0.
void activate(Activation kind, float slope, const float* a, float* h, long n);
// out[r·width + j] = factor · g[r·gStride + j] · f'(a[r·width + j]), with f' taken from a or from h = f(a): the
// gradient through an activation, reading g from a wider matrix (a DFA projection holds every layer's columns).
void activationGradient(Activation kind, float slope, const float* g, long gStride, float factor, const float* a,
                        const float* h, float* out, long rows, long width);
// out[j] = Σ_r x[r·cols + j]: the bias gradient of a batch.
void columnSums(const float* x, long rows, long cols, float* out);

}  // namespace opu

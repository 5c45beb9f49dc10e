#pragma once
#include <cstdint>

namespace opu {

// v = momentum·v + (g + decay·p); p −= rate·v
void sgdStep(float* p, const float* g, float* v, long n, float rate, float momentum, float decay);
// Adam with bias corrections c1 = 1 − β1^t, c2 = 1 − β2^t.
void adamStep(float* p, const float* g, float* m, float* v, long n, float rate, float beta1, float beta2, float epsilon,
              float c1, float c2, float decay);
// h = tanh(a); d = 1 − h² when d is not null.
void tanhForward(const float* a, float* h, long n);

}  // namespace opu

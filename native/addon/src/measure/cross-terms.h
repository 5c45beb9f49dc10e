// The facade's per-pixel measurement arithmetic (native/src/measure/cross-terms.ts has the TypeScript twin and the
// meaning of every argument): float64, the same operations in the same order as TypeScript.
#pragma once
#include <cstdint>

namespace opu {

// out[destination[f]·m + i] = (adu[f·pixelsPerFrame + i] − dark[i]) / exposureUs for i < m, frames with
// destination ≥ 0; `bytesPerPixel` is 1 (uint8 values) or 2 (uint16).
void darkSubtract(const void* adu, int bytesPerPixel, long pixelsPerFrame, int frames, const double* dark, long m,
                  double exposureUs, const int32_t* destination, float* out);

// For each piece p: plain = mean of its plainFrames[p] frames from firstFrame[p], then
// sums[sumRows[p]·m + i] += weights[p]·(Σ_k coefficients[k·m + i]·I(frame k after them) − plainCoefficient[i]·plain
// − offset[i]).
void crossTerms(int references, const double* coefficients, const double* plainCoefficient, const double* offset,
                long m, const float* intensity, const int32_t* firstFrame, const int32_t* plainFrames,
                const double* weights, const int32_t* sumRows, long pieces, double* sums);

}  // namespace opu

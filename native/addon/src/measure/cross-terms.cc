// The facade's per-pixel measurement arithmetic in C++: a few float64 operations per pixel and frame, which the
// JavaScript engine ran at 1–2 ns each (a training batch through a simulated OPU has 0.5–1.6 M of them). Loops run
// over pixels, so vectorizing them changes no rounding (-ffp-contract=off keeps a·b + c from becoming an FMA).
#include "measure/cross-terms.h"

#include <algorithm>
#include <vector>

#include "runtime/simd.h"

namespace opu {
namespace {

template <typename Pixel>
OPU_VECTOR_CLONES void subtractFrame(const Pixel* __restrict adu, const double* __restrict dark, long m,
                                     double exposureUs, float* __restrict out) {
  for (long i = 0; i < m; ++i) out[i] = static_cast<float>((static_cast<double>(adu[i]) - dark[i]) / exposureUs);
}

OPU_VECTOR_CLONES void addScaled(double* __restrict to, const double* __restrict c, const float* __restrict x, long m) {
  for (long i = 0; i < m; ++i) to[i] += c[i] * static_cast<double>(x[i]);
}

OPU_VECTOR_CLONES void addMean(double* __restrict plain, const float* __restrict x, double count, long m) {
  for (long i = 0; i < m; ++i) plain[i] += static_cast<double>(x[i]) / count;
}

OPU_VECTOR_CLONES void startWork(double* __restrict work, const double* __restrict s, const double* __restrict plain,
                                 const double* __restrict t, long m) {
  for (long i = 0; i < m; ++i) work[i] = -s[i] * plain[i] - t[i];
}

OPU_VECTOR_CLONES void addWeighted(double* __restrict sums, double w, const double* __restrict work, long m) {
  for (long i = 0; i < m; ++i) sums[i] += w * work[i];
}

}  // namespace

void darkSubtract(const void* adu, int bytesPerPixel, long pixelsPerFrame, int frames, const double* dark, long m,
                  double exposureUs, const int32_t* destination, float* out) {
  for (int f = 0; f < frames; ++f) {
    if (destination[f] < 0) continue;
    const long from = static_cast<long>(f) * pixelsPerFrame;
    float* to = out + static_cast<long>(destination[f]) * m;
    if (bytesPerPixel == 1) subtractFrame(static_cast<const uint8_t*>(adu) + from, dark, m, exposureUs, to);
    else subtractFrame(static_cast<const uint16_t*>(adu) + from, dark, m, exposureUs, to);
  }
}

void crossTerms(int references, const double* coefficients, const double* plainCoefficient, const double* offset,
                long m, const float* intensity, const int32_t* firstFrame, const int32_t* plainFrames,
                const double* weights, const int32_t* sumRows, long pieces, double* sums) {
  std::vector<double> plain(m), work(m);
  for (long p = 0; p < pieces; ++p) {
    const float* first = intensity + static_cast<long>(firstFrame[p]) * m;
    const int count = plainFrames[p];
    std::fill(plain.begin(), plain.end(), 0.0);
    for (int q = 0; q < count; ++q) addMean(plain.data(), first + static_cast<long>(q) * m, count, m);
    startWork(work.data(), plainCoefficient, plain.data(), offset, m);
    for (int k = 0; k < references; ++k) {
      addScaled(work.data(), coefficients + static_cast<long>(k) * m, first + static_cast<long>(count + k) * m, m);
    }
    addWeighted(sums + static_cast<long>(sumRows[p]) * m, weights[p], work.data(), m);
  }
}

}  // namespace opu

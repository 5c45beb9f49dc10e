// The camera model in C++, frames in parallel: noise is keyed by (frame index, pixel), so the order of work does
// not matter and the result equals the TypeScript kernel's bit for bit.
//
// Speed: a pixel costs a Philox block and a float32 Box–Muller pair (one logarithm, one sine/cosine series, 16 pixels
// per AVX-512 vector) that gives both its shot and its read noise, in branch-free loops that the compiler vectorizes,
// assuming the normal approximation of the Poisson law. The pixels with a smaller mean (dark ones, a few percent in
// training) are gathered over the frame and redone with the exact inversion, 32 at a time, one search step at a time.
#include "optics/camera.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "linalg/gemm.h"
#include "optics/random.h"
#include "runtime/pool.h"
#include "runtime/simd.h"


namespace opu {
namespace {

constexpr double kPoissonNormalAbove = 64;
constexpr int kBlock = 256;

// The hand-written AVX-512 paths follow the instruction set the GEMMs chose (OPU_NATIVE_SIMD=avx2 or =portable caps
// it, so the portable paths can be compared on this machine); the compiler-vectorized loops take the CPU's best.
inline bool usesAvx512() { return gemm::path() == gemm::Path::Avx512; }

// expNegative (random.h) with 2^−k made from its bits instead of read from a table (no gather, no static
// initializer: the loop over dark pixels vectorizes). The same bits for 0 ≤ k ≤ 127, i.e. 0 ≤ x < 88.
inline double expNegativeBranchFree(double x) {
  constexpr double kLn2 = 0.6931471805599453;
  constexpr double kCoefficients[14] = {1.0,
                                        1.0 / 2,
                                        1.0 / 6,
                                        1.0 / 24,
                                        1.0 / 120,
                                        1.0 / 720,
                                        1.0 / 5040,
                                        1.0 / 40320,
                                        1.0 / 362880,
                                        1.0 / 3628800,
                                        1.0 / 39916800,
                                        1.0 / 479001600,
                                        1.0 / 6227020800.0,
                                        1.0 / 87178291200.0};
  const double k = std::floor(x / kLn2 + 0.5);
  const double r = x - k * kLn2;
  double poly = kCoefficients[13];
#pragma GCC unroll 13
  for (int i = 12; i >= 0; --i) poly = kCoefficients[i] + -r * poly;
  // Via int32 (as lnUniform): converting doubles to int64 lanes needs AVX-512DQ, and the loop would stay scalar.
  const uint64_t inverseBits = static_cast<uint64_t>(static_cast<uint32_t>(1023 - static_cast<int32_t>(k))) << 52;
  double inversePow2;
  std::memcpy(&inversePow2, &inverseBits, sizeof inversePow2);
  return (1 + -r * poly) * inversePow2;
}

// Words 0, 1 and 2 of the Philox blocks of pixels [0, n) of a frame: philox4x32 (random.h) one pixel at a time.
void cameraWordsPortable(uint32_t seed, uint32_t frameIndex, const int32_t* __restrict pixels, int n,
                         uint32_t* __restrict w0, uint32_t* __restrict w1, uint32_t* __restrict w2) {
  for (int i = 0; i < n; ++i) {
    uint32_t w[4];
    philox4x32(frameIndex, static_cast<uint32_t>(pixels[i]), 0, 0, seed, kCameraNoise, w);
    w0[i] = w[0];
    w1[i] = w[1];
    w2[i] = w[2];
  }
}

#if OPU_NATIVE_X86_SIMD
// GCC 12 warns that the intrinsics' own headers read an uninitialized value (_mm512_undefined_epi32), falsely.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// The same words, 8 pixels per AVX-512 vector of 64-bit lanes, four vectors at a time (independent dependency
// chains): a word lives in the low half of its lane, where vpmuludq reads it and leaves the whole 64-bit product (its
// high half is one shift away), so a round is two multiplications, two shifts and two three-way xors per vector; the
// high halves of the lanes are ignored until the words are narrowed to 32 bits.
__attribute__((target("avx512f"))) void cameraWordsAvx512(uint32_t seed, uint32_t frameIndex,
                                                          const int32_t* __restrict pixels, int n,
                                                          uint32_t* __restrict w0, uint32_t* __restrict w1,
                                                          uint32_t* __restrict w2) {
  constexpr int kVectors = 4;
  const __m512i m0 = _mm512_set1_epi64(0xd2511f53u), m1 = _mm512_set1_epi64(0xcd9e8d57u);
  int i = 0;
  for (; i + 8 * kVectors <= n; i += 8 * kVectors) {
    __m512i c0[kVectors], c1[kVectors], c2[kVectors], c3[kVectors];
    for (int h = 0; h < kVectors; ++h) {
      c0[h] = _mm512_set1_epi64(frameIndex);
      c1[h] = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(pixels + i + 8 * h)));
      c2[h] = c3[h] = _mm512_setzero_si512();
    }
    uint32_t k0 = seed, k1 = kCameraNoise;
    for (int round = 0; round < 10; ++round) {
      const __m512i key0 = _mm512_set1_epi64(k0), key1 = _mm512_set1_epi64(k1);
      for (int h = 0; h < kVectors; ++h) {
        const __m512i p0 = _mm512_mul_epu32(c0[h], m0), p1 = _mm512_mul_epu32(c2[h], m1);
        c0[h] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1[h], key0, 0x96);  // three-way xor
        c1[h] = p1;
        c2[h] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3[h], key1, 0x96);
        c3[h] = p0;
      }
      k0 += 0x9e3779b9u;
      k1 += 0xbb67ae85u;
    }
    for (int h = 0; h < kVectors; ++h) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w0 + i + 8 * h), _mm512_cvtepi64_epi32(c0[h]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w1 + i + 8 * h), _mm512_cvtepi64_epi32(c1[h]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w2 + i + 8 * h), _mm512_cvtepi64_epi32(c2[h]));
    }
  }
  cameraWordsPortable(seed, frameIndex, pixels + i, n - i, w0 + i, w1 + i, w2 + i);
}
#pragma GCC diagnostic pop
#endif

void cameraWords(uint32_t seed, uint32_t frameIndex, const int32_t* pixels, int n, uint32_t* w0, uint32_t* w1,
                 uint32_t* w2) {
#if OPU_NATIVE_X86_SIMD
  if (usesAvx512()) return cameraWordsAvx512(seed, frameIndex, pixels, n, w0, w1, w2);
#endif
  cameraWordsPortable(seed, frameIndex, pixels, n, w0, w1, w2);
}

// Full well, read noise (given its standard normal draw), gain, bias and the ADC of one pixel in float32, given its
// photo-electrons; `full` is 1 when the pixel clipped. The model's values are rounded to float32 once per call.
struct CameraModelFloat32 {
  float fullWellE, readNoiseE, aduPerElectron, biasAdu, maxAdu;
};

inline float toAdu(const CameraModelFloat32& model, float electrons, float readNormal, int32_t& full) {
  const bool wellFull = electrons >= model.fullWellE;
  electrons = wellFull ? model.fullWellE : electrons;
  // Added even when readNoiseE is 0 (electrons + 0 is electrons, since they are never −0): no branch in the loop.
  electrons += model.readNoiseE * readNormal;
  float adu = std::floor(electrons * model.aduPerElectron + model.biasAdu + 0.5f);
  const bool adcFull = adu >= model.maxAdu;
  adu = adcFull ? model.maxAdu : adu;
  full = (wellFull | adcFull) ? 1 : 0;  // int32, as wide as a float: mixed element widths stop the vectorizer
  return adu < 0 ? 0 : adu;
}

// The dark pixels of a frame (mean below kPoissonNormalAbove), packed: index in the frame, mean, inversion word and
// read-noise normal, gathered block by block and settled (settleDark) before the next block could overflow them.
struct DarkPixels {
  static constexpr int kCapacity = 1024;
  int32_t index[kCapacity];
  float lambda[kCapacity], readNormal[kCapacity];
  uint32_t bits[kCapacity];
  int n = 0;
};

// Pixels [0, n) of a block of one frame, every one as if its mean were at least kPoissonNormalAbove, into `out`;
// returns how many clipped, not counting the dark pixels (settleDark counts them). Several simple loops rather than
// one: the compiler duplicates paths through one large body and then cannot vectorize it.
// Always inlined into the clones below: a body of its own would be compiled for the baseline instruction set only.
template <typename Pixel>
__attribute__((always_inline)) inline int32_t exposeBlock(
    const CameraModel& model, const CameraModelFloat32& model32, const float* __restrict intensity,
    const uint32_t* __restrict w0, const uint32_t* __restrict w1, const double* __restrict response, int n,
    double scale, float* __restrict lambda, float* __restrict readNormal, Pixel* __restrict out) {
  const CameraModelFloat32 local = model32;  // not aliased by the outputs
  const double darkElectrons = model.darkElectrons;
  const bool shotNoise = model.shotNoise;
  float shotNormal[kBlock];
  for (int i = 0; i < n; ++i) standardNormalPairFloat32(w0[i], w1[i], shotNormal[i], readNormal[i]);
  // The mean in float64, as the model gives it, then rounded once.
  for (int i = 0; i < n; ++i) {
    lambda[i] = static_cast<float>(static_cast<double>(intensity[i]) * scale * response[i] + darkElectrons);
  }
  float electrons[kBlock];
  if (shotNoise) {
    for (int i = 0; i < n; ++i) {
      electrons[i] = std::max(0.0f, std::floor(lambda[i] + std::sqrt(lambda[i]) * shotNormal[i] + 0.5f));
    }
  } else {
    for (int i = 0; i < n; ++i) electrons[i] = lambda[i];
  }
  const float threshold = shotNoise ? static_cast<float>(kPoissonNormalAbove) : 0.0f;  // no dark pixels without
  int32_t clipped = 0, adu[kBlock];
  for (int i = 0; i < n; ++i) {
    int32_t full;
    adu[i] = static_cast<int32_t>(toAdu(local, electrons[i], readNormal[i], full));
    clipped += lambda[i] < threshold ? 0 : full;
  }
  // Narrowed in a loop of its own: with the narrow stores in it, the loop above gets half-width vectors.
  for (int i = 0; i < n; ++i) out[i] = static_cast<Pixel>(adu[i]);
  return clipped;
}
OPU_VECTOR_CLONES int32_t exposeBlock8(const CameraModel& model, const CameraModelFloat32& model32,
                                       const float* intensity, const uint32_t* w0, const uint32_t* w1,
                                       const double* response, int n, double scale, float* lambda, float* readNormal,
                                       uint8_t* out) {
  return exposeBlock(model, model32, intensity, w0, w1, response, n, scale, lambda, readNormal, out);
}
OPU_VECTOR_CLONES int32_t exposeBlock16(const CameraModel& model, const CameraModelFloat32& model32,
                                        const float* intensity, const uint32_t* w0, const uint32_t* w1,
                                        const double* response, int n, double scale, float* lambda,
                                        float* readNormal, uint16_t* out) {
  return exposeBlock(model, model32, intensity, w0, w1, response, n, scale, lambda, readNormal, out);
}

// Appends the dark pixels among [0, n) of a block that starts at pixel i0 of its frame. Branch-free: which pixels are
// dark is unpredictable.
void gatherDarkPortable(const float* lambda, const float* readNormal, const uint32_t* bits, int n, int i0,
                        DarkPixels& dark) {
  int found = dark.n;
  for (int i = 0; i < n; ++i) {
    dark.index[found] = i0 + i;
    dark.lambda[found] = lambda[i];
    dark.readNormal[found] = readNormal[i];
    dark.bits[found] = bits[i];
    found += lambda[i] < static_cast<float>(kPoissonNormalAbove);
  }
  dark.n = found;
}

#if OPU_NATIVE_X86_SIMD
// The same, 16 pixels at a time with AVX-512's compressing stores.
__attribute__((target("avx512f"))) void gatherDarkAvx512(const float* lambda, const float* readNormal,
                                                         const uint32_t* bits, int n, int i0, DarkPixels& dark) {
  const __m512 threshold = _mm512_set1_ps(static_cast<float>(kPoissonNormalAbove));
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int found = dark.n, i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 means = _mm512_loadu_ps(lambda + i);
    const __mmask16 isDark = _mm512_cmp_ps_mask(means, threshold, _CMP_LT_OQ);
    _mm512_mask_compressstoreu_epi32(dark.index + found, isDark, _mm512_add_epi32(lanes, _mm512_set1_epi32(i0 + i)));
    _mm512_mask_compressstoreu_ps(dark.lambda + found, isDark, means);
    _mm512_mask_compressstoreu_ps(dark.readNormal + found, isDark, _mm512_loadu_ps(readNormal + i));
    _mm512_mask_compressstoreu_epi32(dark.bits + found, isDark, _mm512_loadu_si512(bits + i));
    found += __builtin_popcount(isDark);
  }
  dark.n = found;
  gatherDarkPortable(lambda + i, readNormal + i, bits + i, n - i, i0 + i, dark);
}
#endif

void gatherDark(const float* lambda, const float* readNormal, const uint32_t* bits, int n, int i0, DarkPixels& dark) {
#if OPU_NATIVE_X86_SIMD
  if (usesAvx512()) return gatherDarkAvx512(lambda, readNormal, bits, n, i0, dark);
#endif
  gatherDarkPortable(lambda, readNormal, bits, n, i0, dark);
}

// 1/k for k < 256, as the scalar search computes it (a compile-time division rounds as a run-time one): the vector
// search reads it instead of dividing once per step (a scalar division per step cost the search a fifth of its time).
constexpr int kInverseStepsSize = 256;
struct InverseSteps {
  double value[kInverseStepsSize];
  constexpr InverseSteps() : value() {
    for (int k = 1; k < kInverseStepsSize; ++k) value[k] = 1.0 / k;
  }
};
constexpr InverseSteps kInverseSteps;

// Poisson(lambda[j]) by inversion of uniform01(bits[j]), for j < n, given p0[j] = e^−lambda[j]: the search of
// camera.ts, which stops at the first k where u ≤ cdf_k or p_k = 0. Both conditions, once true, stay true (cdf_k
// grows, and p_k = 0 stays 0), so the count is also the number of k for which neither holds yet: the vector search
// runs every lane through the same steps (p_k and cdf_k unmasked) and counts, which leaves only p_k's multiplication
// and cdf_k's addition on the loop's dependency chain.
struct Inversions {
  const double* lambda;
  const double* p0;
  const uint32_t* bits;
  int n;
  double* count;
};

// e^−x[j] for j < n rounded up to a multiple of 8 (x holds that many): whole vectors, no scalar remainder.
OPU_VECTOR_CLONES void expNegatives(const double* __restrict x, int n, double* __restrict out) {
  for (int j0 = 0; j0 < n; j0 += 8) {
    for (int j = j0; j < j0 + 8; ++j) out[j] = expNegativeBranchFree(x[j]);
  }
}

void poissonInversionsPortable(const Inversions& job) {
  for (int j = 0; j < job.n; ++j) {
    const double lambda = job.lambda[j], u = uniform01(job.bits[j]);
    double p = job.p0[j], cdf = p, k = 0;
    while (u > cdf && p > 0) {
      k += 1;
      p *= lambda * (1 / k);
      cdf += p;
    }
    job.count[j] = k;
  }
}

#if OPU_NATIVE_X86_SIMD
// u > cdf and p > 0, on the doubles' bits as integers (the same order, as none is negative).
__attribute__((target("avx512f"))) inline __mmask8 stillSearching(__m512i uniform, __m512d cdf, __m512d p) {
  return _mm512_mask_cmpgt_epi64_mask(_mm512_cmpgt_epi64_mask(uniform, _mm512_castpd_si512(cdf)),
                                      _mm512_castpd_si512(p), _mm512_setzero_si512());
}

// The same counts, 32 pixels at a time in four AVX-512 vectors of 8 (four independent dependency chains), step k of
// every lane at once, until no lane is searching, which is asked every kSteps steps only (the steps after a lane stops
// leave its count). p and cdf take the scalar search's values at every step (1/k as the scalar code computes it). The
// comparisons are on integers (stillSearching) and so are the counts: that keeps them off the floating-point pipes,
// which p's multiplications and cdf's additions fill.
__attribute__((target("avx512f"))) void poissonInversionsAvx512(const Inversions& job) {
  constexpr int kVectors = 4, kLanes = 8 * kVectors, kSteps = 4;
  for (int j0 = 0; j0 < job.n; j0 += kLanes) {
    alignas(64) double mean[kLanes], u[kLanes], p0[kLanes];
    for (int j = 0; j < kLanes; ++j) {
      const bool pixel = j0 + j < job.n;  // the lanes past n never search: u = 0
      mean[j] = pixel ? job.lambda[j0 + j] : 0;
      u[j] = pixel ? uniform01(job.bits[j0 + j]) : 0;
      p0[j] = pixel ? job.p0[j0 + j] : 1;
    }
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi64(1);
    __m512d lambda[kVectors], p[kVectors], cdf[kVectors];
    __m512i uniform[kVectors], k[kVectors];
    __mmask8 searching[kVectors];
    __mmask8 any = 0;
    for (int v = 0; v < kVectors; ++v) {
      lambda[v] = _mm512_load_pd(mean + 8 * v);
      uniform[v] = _mm512_castpd_si512(_mm512_load_pd(u + 8 * v));
      p[v] = cdf[v] = _mm512_load_pd(p0 + 8 * v);
      k[v] = zero;
    }
    for (int v = 0; v < kVectors; ++v) {
      searching[v] = stillSearching(uniform[v], cdf[v], p[v]);
      any |= searching[v];
    }
    for (int step = 1; any != 0; step += kSteps) {
      for (int t = 0; t < kSteps; ++t) {
        const int next = step + t;
        const __m512d inverseStep = _mm512_set1_pd(next < kInverseStepsSize ? kInverseSteps.value[next] : 1.0 / next);
        for (int v = 0; v < kVectors; ++v) {
          k[v] = _mm512_mask_add_epi64(k[v], searching[v], k[v], one);
          p[v] = _mm512_mul_pd(p[v], _mm512_mul_pd(lambda[v], inverseStep));
          cdf[v] = _mm512_add_pd(cdf[v], p[v]);
          searching[v] = stillSearching(uniform[v], cdf[v], p[v]);
        }
      }
      any = 0;
      for (int v = 0; v < kVectors; ++v) any |= searching[v];
    }
    alignas(64) int64_t counts[kLanes];
    for (int v = 0; v < kVectors; ++v) _mm512_store_si512(counts + 8 * v, k[v]);
    for (int j = 0; j < kLanes && j0 + j < job.n; ++j) job.count[j0 + j] = static_cast<double>(counts[j]);
  }
}
#endif

void poissonInversions(const Inversions& job) {
#if OPU_NATIVE_X86_SIMD
  if (usesAvx512()) return poissonInversionsAvx512(job);
#endif
  poissonInversionsPortable(job);
}

// The ADUs of n dark pixels given their photo-electron counts; returns how many clipped. A loop of its own, compiled
// for the CPU's best vectors (floor is a function call on the baseline x86-64 instruction set).
OPU_VECTOR_CLONES int32_t darkAdus(const CameraModelFloat32& model32, const double* __restrict count,
                                   const float* __restrict readNormal, int n, int32_t* __restrict adu) {
  const CameraModelFloat32 local = model32;
  int32_t clipped = 0;
  for (int j = 0; j < n; ++j) {
    int32_t full;
    adu[j] = static_cast<int32_t>(toAdu(local, static_cast<float>(count[j]), readNormal[j], full));
    clipped += full;
  }
  return clipped;
}

// The gathered dark pixels of a frame by the exact inversion, into `out` (the frame); returns how many clipped.
template <typename Pixel>
int32_t settleDark(const CameraModelFloat32& model32, DarkPixels& dark, Pixel* out) {
  const int n = dark.n;
  alignas(64) double lambda[DarkPixels::kCapacity + 8], p0[DarkPixels::kCapacity + 8], count[DarkPixels::kCapacity];
  for (int j = 0; j < n; ++j) lambda[j] = dark.lambda[j];
  for (int j = n; j < n + 8; ++j) lambda[j] = 0;  // expNegatives' whole vectors
  expNegatives(lambda, n, p0);
  poissonInversions({lambda, p0, dark.bits, n, count});
  int32_t adu[DarkPixels::kCapacity];
  const int32_t clipped = darkAdus(model32, count, dark.readNormal, n, adu);
  for (int j = 0; j < n; ++j) out[dark.index[j]] = static_cast<Pixel>(adu[j]);
  dark.n = 0;
  return clipped;
}

template <typename Pixel>
void exposeFrame(const CameraModel& model, const CameraModelFloat32& model32, const float* intensity,
                 const int32_t* pixels, int m, const double* pixelResponse, uint32_t frameIndex, double scale,
                 Pixel* out, uint32_t& saturated) {
  int32_t clipped = 0;
  uint32_t w0[kBlock], w1[kBlock], w2[kBlock];
  float lambda[kBlock], readNormal[kBlock];
  DarkPixels dark;
  for (int i0 = 0; i0 < m; i0 += kBlock) {
    const int n = std::min(kBlock, m - i0);
    cameraWords(model.seed, frameIndex, pixels + i0, n, w0, w1, w2);
    if constexpr (sizeof(Pixel) == 1) {
      clipped += exposeBlock8(model, model32, intensity + i0, w0, w1, pixelResponse + i0, n, scale, lambda,
                              readNormal, out + i0);
    } else {
      clipped += exposeBlock16(model, model32, intensity + i0, w0, w1, pixelResponse + i0, n, scale, lambda,
                               readNormal, out + i0);
    }
    if (!model.shotNoise) continue;
    if (dark.n + kBlock > DarkPixels::kCapacity) clipped += settleDark(model32, dark, out);
    gatherDark(lambda, readNormal, w2, n, i0, dark);
  }
  clipped += settleDark(model32, dark, out);
  saturated = static_cast<uint32_t>(clipped);
}

}  // namespace

void cameraExpose(const CameraModel& model, const float* intensity, int frames, const int32_t* pixels, int m,
                  const double* pixelResponse, uint32_t firstFrameIndex, const double* powerFactors, void* out,
                  int bytesPerPixel, uint32_t* saturated) {
  const CameraModelFloat32 model32{static_cast<float>(model.fullWellE), static_cast<float>(model.readNoiseE),
                                   static_cast<float>(model.aduPerElectron), static_cast<float>(model.biasAdu),
                                   static_cast<float>(model.maxAdu)};
  parallelFor(frames, [&](int f) {
    const uint32_t frameIndex = firstFrameIndex + static_cast<uint32_t>(f);
    const double scale = model.electronsPerIntensity * powerFactors[f];
    const long at = static_cast<long>(f) * m;
    if (bytesPerPixel == 1) {
      exposeFrame(model, model32, intensity + at, pixels, m, pixelResponse, frameIndex, scale,
                  static_cast<uint8_t*>(out) + at, saturated[f]);
    } else {
      exposeFrame(model, model32, intensity + at, pixels, m, pixelResponse, frameIndex, scale,
                  static_cast<uint16_t*>(out) + at, saturated[f]);
    }
  });
}

}  // namespace opu

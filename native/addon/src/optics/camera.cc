// The camera model in C++, frames in parallel: noise is keyed by (frame index, pixel), so the order of work does
// not matter and the result equals the TypeScript kernel's bit for bit.
//
// Speed: a pixel costs a Philox block, one logarithm and one sine/cosine series (a Box–Muller pair gives both its
// shot and its read noise). The pixels of a block go through branch-free loops that the compiler vectorizes,
// assuming the normal approximation of the Poisson law; the pixels with a smaller mean (dark ones, a few percent in
// training) are then gathered and redone with the exact inversion, all of them one search step at a time.
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
// High and low 32 bits of the products a·m, 16 lanes: two vpmuludq (even and odd lanes), whose halves are blended
// back into 32-bit lanes (the vectorizer shuffles far more for the scalar code).
__attribute__((target("avx512f"))) inline void multiplyHiLo(__m512i a, __m512i m, __m512i& hi, __m512i& lo) {
  constexpr __mmask16 kOdd = 0xaaaa;
  const __m512i even = _mm512_mul_epu32(a, m);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
  hi = _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(even, 32), odd);
  lo = _mm512_mask_blend_epi32(kOdd, even, _mm512_slli_epi64(odd, 32));
}

// The same words, 16 pixels per AVX-512 vector.
__attribute__((target("avx512f"))) void cameraWordsAvx512(uint32_t seed, uint32_t frameIndex,
                                                          const int32_t* __restrict pixels, int n,
                                                          uint32_t* __restrict w0, uint32_t* __restrict w1,
                                                          uint32_t* __restrict w2) {
  const __m512i m0 = _mm512_set1_epi64(0xd2511f53u), m1 = _mm512_set1_epi64(0xcd9e8d57u);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i c0 = _mm512_set1_epi32(static_cast<int>(frameIndex));
    __m512i c1 = _mm512_loadu_si512(pixels + i);
    __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
    uint32_t k0 = seed, k1 = kCameraNoise;
    for (int round = 0; round < 10; ++round) {
      __m512i hi0, lo0, hi1, lo1;
      multiplyHiLo(c0, m0, hi0, lo0);
      multiplyHiLo(c2, m1, hi1, lo1);
      c0 = _mm512_ternarylogic_epi32(hi1, c1, _mm512_set1_epi32(static_cast<int>(k0)), 0x96);  // three-way xor
      c1 = lo1;
      c2 = _mm512_ternarylogic_epi32(hi0, c3, _mm512_set1_epi32(static_cast<int>(k1)), 0x96);
      c3 = lo0;
      k0 += 0x9e3779b9u;
      k1 += 0xbb67ae85u;
    }
    _mm512_storeu_si512(w0 + i, c0);
    _mm512_storeu_si512(w1 + i, c1);
    _mm512_storeu_si512(w2 + i, c2);
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

// Full well, read noise (given its standard normal draw), gain, bias and the ADC of one pixel, given its
// photo-electrons; `full` is 1 when the pixel clipped.
inline double toAdu(const CameraModel& model, double electrons, double readNormal, double& full) {
  const bool wellFull = electrons >= model.fullWellE;
  electrons = wellFull ? model.fullWellE : electrons;
  // Added even when readNoiseE is 0 (electrons + 0 is electrons, since they are never −0): no branch in the loop.
  electrons += model.readNoiseE * readNormal;
  double adu = std::floor(electrons * model.aduPerElectron + model.biasAdu + 0.5);
  const bool adcFull = adu >= model.maxAdu;
  adu = adcFull ? model.maxAdu : adu;
  full = (wellFull | adcFull) ? 1.0 : 0.0;  // a double, not a byte: mixed element widths stop the vectorizer
  return adu < 0 ? 0 : adu;
}

// What the loops of one block hand on to the dark-pixel pass and to the output.
struct BlockState {
  double lambda[kBlock], readNormal[kBlock], adu[kBlock], full[kBlock];
  uint32_t inversionBits[kBlock];
};

// Pixels [i0, i0 + n) of one frame, every one as if its mean were at least kPoissonNormalAbove. Several simple
// loops rather than one: the compiler duplicates paths through one large body and then cannot vectorize it.
OPU_VECTOR_CLONES void exposeBlock(const CameraModel& model, const float* __restrict intensity,
                                   const uint32_t* __restrict w0, const uint32_t* __restrict w1,
                                   const double* __restrict response, int n, double scale,
                                   BlockState* __restrict state) {
  const CameraModel local = model;  // not aliased by the outputs
  double shotNormal[kBlock];
  for (int i = 0; i < n; ++i) standardNormalPair(w0[i], w1[i], shotNormal[i], state->readNormal[i]);
  for (int i = 0; i < n; ++i) {
    state->lambda[i] = static_cast<double>(intensity[i]) * scale * response[i] + local.darkElectrons;
  }
  double electrons[kBlock];
  if (local.shotNoise) {
    for (int i = 0; i < n; ++i) {
      const double lambda = state->lambda[i];
      electrons[i] = std::max(0.0, std::floor(lambda + std::sqrt(lambda) * shotNormal[i] + 0.5));
    }
  } else {
    for (int i = 0; i < n; ++i) electrons[i] = state->lambda[i];
  }
  for (int i = 0; i < n; ++i) state->adu[i] = toAdu(local, electrons[i], state->readNormal[i], state->full[i]);
}

// Poisson(lambda[j]) by inversion of uniform01(bits[j]), for n pixels, given p0[j] = e^−lambda[j]: the search of
// camera.ts.
struct Inversions {
  const double* lambda;
  const double* p0;
  const uint32_t* bits;
  int n;
  double* count;
};

// e^−x[j] for j < n rounded up to a multiple of 8 (x holds that many): whole vectors, no scalar remainder, as n is
// small (the dark pixels of a block).
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
// The same searches, 16 pixels at a time in two AVX-512 vectors of 8 (two independent dependency chains): step k
// of every lane at once, lanes that have stopped masked off, until none is searching. A lane stops where the scalar
// search does, with the same p and cdf at every step (1/k is computed once per step, as the scalar code does).
__attribute__((target("avx512f"))) void poissonInversionsAvx512(const Inversions& job) {
  constexpr int kLanes = 16;
  for (int j0 = 0; j0 < job.n; j0 += kLanes) {
    alignas(64) double mean[kLanes], u[kLanes], p0[kLanes];
    for (int j = 0; j < kLanes; ++j) {
      const bool pixel = j0 + j < job.n;  // the lanes past n never search: u = 0
      mean[j] = pixel ? job.lambda[j0 + j] : 0;
      u[j] = pixel ? uniform01(job.bits[j0 + j]) : 0;
      p0[j] = pixel ? job.p0[j0 + j] : 1;
    }
    __m512d lambda[2], uniform[2], p[2], cdf[2], k[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    __mmask8 searching[2];
    for (int v = 0; v < 2; ++v) {
      lambda[v] = _mm512_load_pd(mean + 8 * v);
      uniform[v] = _mm512_load_pd(u + 8 * v);
      p[v] = cdf[v] = _mm512_load_pd(p0 + 8 * v);
      searching[v] = _mm512_cmp_pd_mask(uniform[v], cdf[v], _CMP_GT_OQ) &
                     _mm512_cmp_pd_mask(p[v], _mm512_setzero_pd(), _CMP_GT_OQ);
    }
    for (double step = 1; (searching[0] | searching[1]) != 0; step += 1) {
      const __m512d steps = _mm512_set1_pd(step), inverseStep = _mm512_set1_pd(1 / step);
      for (int v = 0; v < 2; ++v) {
        const __m512d next = _mm512_mul_pd(p[v], _mm512_mul_pd(lambda[v], inverseStep));
        p[v] = _mm512_mask_mov_pd(p[v], searching[v], next);
        cdf[v] = _mm512_mask_add_pd(cdf[v], searching[v], cdf[v], next);
        k[v] = _mm512_mask_mov_pd(k[v], searching[v], steps);
        searching[v] = _mm512_mask_cmp_pd_mask(searching[v], uniform[v], cdf[v], _CMP_GT_OQ) &
                       _mm512_cmp_pd_mask(p[v], _mm512_setzero_pd(), _CMP_GT_OQ);
      }
    }
    alignas(64) double counts[kLanes];
    _mm512_store_pd(counts, k[0]);
    _mm512_store_pd(counts + 8, k[1]);
    for (int j = 0; j < kLanes && j0 + j < job.n; ++j) job.count[j0 + j] = counts[j];
  }
}
#endif

void poissonInversions(const Inversions& job) {
#if OPU_NATIVE_X86_SIMD
  if (usesAvx512()) return poissonInversionsAvx512(job);
#endif
  poissonInversionsPortable(job);
}

// The dark pixels of a block (mean below kPoissonNormalAbove): their indices, means and inversion words, packed;
// returns how many. Branch-free: which pixels are dark is unpredictable.
struct DarkPixels {
  int index[kBlock];
  double lambda[kBlock + 8], p0[kBlock + 8], count[kBlock];  // + 8: expNegatives' whole vectors
  uint32_t bits[kBlock];
};

int gatherDarkPortable(const BlockState& state, int n, DarkPixels& dark) {
  int found = 0;
  for (int i = 0; i < n; ++i) {
    dark.index[found] = i;
    dark.lambda[found] = state.lambda[i];
    dark.bits[found] = state.inversionBits[i];
    found += state.lambda[i] < kPoissonNormalAbove;
  }
  return found;
}

#if OPU_NATIVE_X86_SIMD
// The same, 16 pixels at a time with AVX-512's compressing stores.
__attribute__((target("avx512f"))) int gatherDarkAvx512(const BlockState& state, int n, DarkPixels& dark) {
  const __m512d threshold = _mm512_set1_pd(kPoissonNormalAbove);
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int found = 0, i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512d low = _mm512_loadu_pd(state.lambda + i), high = _mm512_loadu_pd(state.lambda + i + 8);
    const __mmask8 darkLow = _mm512_cmp_pd_mask(low, threshold, _CMP_LT_OQ);
    const __mmask8 darkHigh = _mm512_cmp_pd_mask(high, threshold, _CMP_LT_OQ);
    const __mmask16 darkAll = static_cast<__mmask16>(darkLow | (darkHigh << 8));
    _mm512_mask_compressstoreu_epi32(dark.index + found, darkAll, _mm512_add_epi32(lanes, _mm512_set1_epi32(i)));
    _mm512_mask_compressstoreu_epi32(dark.bits + found, darkAll, _mm512_loadu_si512(state.inversionBits + i));
    _mm512_mask_compressstoreu_pd(dark.lambda + found, darkLow, low);
    const int foundLow = __builtin_popcount(darkLow);
    _mm512_mask_compressstoreu_pd(dark.lambda + found + foundLow, darkHigh, high);
    found += foundLow + __builtin_popcount(darkHigh);
  }
  for (; i < n; ++i) {
    dark.index[found] = i;
    dark.lambda[found] = state.lambda[i];
    dark.bits[found] = state.inversionBits[i];
    found += state.lambda[i] < kPoissonNormalAbove;
  }
  return found;
}
#endif

int gatherDark(const BlockState& state, int n, DarkPixels& dark) {
#if OPU_NATIVE_X86_SIMD
  if (usesAvx512()) return gatherDarkAvx512(state, n, dark);
#endif
  return gatherDarkPortable(state, n, dark);
}

// The block's pixels into the frame, as uint8 or uint16; returns how many clipped.
template <typename Pixel>
inline uint32_t writePixels(const BlockState& __restrict state, int n, Pixel* __restrict out) {
  uint32_t clipped = 0;
  for (int i = 0; i < n; ++i) {
    clipped += state.full[i] != 0.0;
    out[i] = static_cast<Pixel>(static_cast<int32_t>(state.adu[i]));  // via int32: vectorizes without AVX-512DQ
  }
  return clipped;
}
OPU_VECTOR_CLONES uint32_t writePixels8(const BlockState& state, int n, uint8_t* out) {
  return writePixels(state, n, out);
}
OPU_VECTOR_CLONES uint32_t writePixels16(const BlockState& state, int n, uint16_t* out) {
  return writePixels(state, n, out);
}

}  // namespace

void cameraExpose(const CameraModel& model, const float* intensity, int frames, const int32_t* pixels, int m,
                  const double* pixelResponse, uint32_t firstFrameIndex, const double* powerFactors, void* out,
                  int bytesPerPixel, uint32_t* saturated) {
  parallelFor(frames, [&](int f) {
    const uint32_t frameIndex = firstFrameIndex + static_cast<uint32_t>(f);
    const double scale = model.electronsPerIntensity * powerFactors[f];
    uint32_t clipped = 0;
    BlockState state;
    uint32_t w0[kBlock], w1[kBlock];
    DarkPixels dark;
    for (int i0 = 0; i0 < m; i0 += kBlock) {
      const int n = std::min(kBlock, m - i0);
      const long at = static_cast<long>(f) * m + i0;
      cameraWords(model.seed, frameIndex, pixels + i0, n, w0, w1, state.inversionBits);
      exposeBlock(model, intensity + at, w0, w1, pixelResponse + i0, n, scale, &state);
      if (model.shotNoise) {
        const int found = gatherDark(state, n, dark);
        for (int j = found; j < found + 8; ++j) dark.lambda[j] = 0;  // expNegatives' whole vectors
        expNegatives(dark.lambda, found, dark.p0);
        poissonInversions({dark.lambda, dark.p0, dark.bits, found, dark.count});
        for (int j = 0; j < found; ++j) {
          const int i = dark.index[j];
          state.adu[i] = toAdu(model, dark.count[j], state.readNormal[i], state.full[i]);
        }
      }
      clipped += bytesPerPixel == 1 ? writePixels8(state, n, static_cast<uint8_t*>(out) + at)
                                    : writePixels16(state, n, static_cast<uint16_t*>(out) + at);
    }
    saturated[f] = clipped;
  });
}

}  // namespace opu

// The simulated medium's kernels: tiles of the transmission matrix from Philox (bit-identical to TypeScript), and
// the sum of its columns over each frame's lit mirrors, by per-mirror lists or by tables of the 256 subset sums of
// each group of 8 mirrors (method of four Russians). Pixel blocks run in parallel on the pool, each thread with its
// own tile, table and accumulators; with `outIm` null the intensities are written directly (no complex field of
// the whole batch is ever stored).
#include "medium.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "pool.h"
#include "random.h"

namespace opu {
namespace {

constexpr int kMirrorBlock = 256;
constexpr int kPixelBlock = 256;
constexpr double kTableWorkRatio = 0.8;

bool tablesPay(const uint8_t* packed, int frames, int groups) {
  long lit = 0, nonEmpty = 0;
  for (long i = 0; i < static_cast<long>(frames) * groups; ++i) {
    nonEmpty += packed[i] != 0;
    lit += __builtin_popcount(packed[i]);
  }
  return nonEmpty + 255L * groups < kTableWorkRatio * lit;
}

bool anyLit(const uint8_t* packed, int frames, int groups, int g0, int g1) {
  for (int f = 0; f < frames; ++f)
    for (int g = g0; g < g1; ++g)
      if (packed[static_cast<long>(f) * groups + g]) return true;
  return false;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void addInto(float* __restrict acc,
                                                                            const float* __restrict src, int count) {
  for (int i = 0; i < count; ++i) acc[i] += src[i];
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void sumInto(float* __restrict dst,
                                                                            const float* __restrict a,
                                                                            const float* __restrict b, int count) {
  for (int i = 0; i < count; ++i) dst[i] = a[i] + b[i];
}

}  // namespace

void fillMediumTile(uint32_t seed, uint32_t epoch, const int32_t* pixels, int p0, int p1, const int32_t* mirrors, int q0,
                    int q1, float* re, float* im) {
  const int np = p1 - p0;
  uint32_t w[4];
  for (int q = q0; q < q1; ++q) {
    const uint32_t mirror = static_cast<uint32_t>(mirrors[q]);
    const int half = (mirror & 1) * 2;
    float* colRe = re + static_cast<long>(q - q0) * np - p0;
    float* colIm = im + static_cast<long>(q - q0) * np - p0;
    for (int p = p0; p < p1; ++p) {
      philox4x32(static_cast<uint32_t>(pixels[p]), mirror >> 1, epoch, 0, seed, kMedium, w);
      double zr, zi;
      complexNormal(w[half], w[half + 1], zr, zi);
      colRe[p] = static_cast<float>(zr);
      colIm[p] = static_cast<float>(zi);
    }
  }
}

void mediumFields(uint32_t seed, uint32_t epoch, const int32_t* pixels, int m, const int32_t* mirrors, int n,
                  const uint8_t* packed, int frames, const float* cachedRe, const float* cachedIm, int kernel,
                  float* outRe, float* outIm) {
  const int groups = (n + 7) / 8;
  const bool cached = cachedRe != nullptr;
  const bool fused = outIm == nullptr;
  const bool useTables = kernel == 2 || (kernel == 0 && tablesPay(packed, frames, groups));
  const int blocks = (m + kPixelBlock - 1) / kPixelBlock;
  parallelFor(blocks, [&](int block) {
    const int p0 = block * kPixelBlock;
    const int p1 = std::min(m, p0 + kPixelBlock);
    const int np = p1 - p0;
    thread_local std::vector<float> tileRe, tileIm, tableRe, tableIm, accRe, accIm;
    if (!cached) {
      tileRe.resize(static_cast<size_t>(kPixelBlock) * kMirrorBlock);
      tileIm.resize(tileRe.size());
    }
    if (useTables) {
      tableRe.assign(static_cast<size_t>(256) * np, 0.0f);
      tableIm.assign(tableRe.size(), 0.0f);
    }
    accRe.assign(static_cast<size_t>(frames) * np, 0.0f);
    accIm.assign(accRe.size(), 0.0f);
    for (int q0 = 0; q0 < n; q0 += kMirrorBlock) {
      const int q1 = std::min(n, q0 + kMirrorBlock);
      if (!anyLit(packed, frames, groups, q0 / 8, (q1 + 7) / 8)) continue;
      const float* srcRe;
      const float* srcIm;
      long offset, colStride;
      if (cached) {
        srcRe = cachedRe;
        srcIm = cachedIm;
        offset = p0;
        colStride = m;
      } else {
        fillMediumTile(seed, epoch, pixels, p0, p1, mirrors, q0, q1, tileRe.data(), tileIm.data());
        srcRe = tileRe.data();
        srcIm = tileIm.data();
        offset = -static_cast<long>(q0) * np;
        colStride = np;
      }
      for (int g = q0 / 8; g < (q1 + 7) / 8; ++g) {
        const int width = std::min(8, n - 8 * g);
        if (useTables) {
          for (int s = 1; s < (1 << width); ++s) {
            const int low = s & -s;
            const long col = offset + static_cast<long>(8 * g + __builtin_ctz(low)) * colStride;
            sumInto(&tableRe[static_cast<size_t>(s) * np], &tableRe[static_cast<size_t>(s ^ low) * np], srcRe + col, np);
            sumInto(&tableIm[static_cast<size_t>(s) * np], &tableIm[static_cast<size_t>(s ^ low) * np], srcIm + col, np);
          }
        }
        for (int f = 0; f < frames; ++f) {
          unsigned bits = packed[static_cast<long>(f) * groups + g];
          if (!bits) continue;
          float* aRe = &accRe[static_cast<size_t>(f) * np];
          float* aIm = &accIm[static_cast<size_t>(f) * np];
          if (useTables) {
            addInto(aRe, &tableRe[static_cast<size_t>(bits) * np], np);
            addInto(aIm, &tableIm[static_cast<size_t>(bits) * np], np);
            continue;
          }
          for (; bits; bits &= bits - 1) {
            const long col = offset + static_cast<long>(8 * g + __builtin_ctz(bits)) * colStride;
            addInto(aRe, srcRe + col, np);
            addInto(aIm, srcIm + col, np);
          }
        }
      }
    }
    for (int f = 0; f < frames; ++f) {
      const float* aRe = &accRe[static_cast<size_t>(f) * np];
      const float* aIm = &accIm[static_cast<size_t>(f) * np];
      float* dst = outRe + static_cast<long>(f) * m + p0;
      if (fused) {
        for (int i = 0; i < np; ++i) dst[i] = aRe[i] * aRe[i] + aIm[i] * aIm[i];
      } else {
        std::memcpy(dst, aRe, np * sizeof(float));
        std::memcpy(outIm + static_cast<long>(f) * m + p0, aIm, np * sizeof(float));
      }
    }
  });
}

}  // namespace opu

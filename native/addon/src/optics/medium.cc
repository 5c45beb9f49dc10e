// The simulated medium's kernels: tiles of the transmission matrix from Philox (bit-identical to TypeScript), and
// the sum of its columns over each frame's lit mirrors, by per-mirror lists or by tables of the 16 subset sums of
// each group of 4 mirrors (method of four Russians). Pixel blocks run in parallel on the pool, each thread with its
// own tile, table and accumulators; with `outIm` null the intensities are written directly (no complex field of
// the whole batch is ever stored).
//
// Both kernels add the same float32 terms in the same order as the TypeScript ones (native/src/optics/medium.ts documents
// that order), so a frame's field does not depend on the kernel 'auto' picks for its batch: per byte b of a frame,
// ascending, acc += part(b), with part(b) = lo + hi (or the non-zero one of them) and lo, hi the ascending sums of
// the lit columns of each nibble. Vectors only ever span pixels; nothing is reassociated (no -ffast-math, and
// -ffp-contract=off in binding.gyp keeps a·a + b·b from becoming an FMA).
#include "optics/medium.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "optics/random.h"
#include "runtime/pool.h"
#include "runtime/simd.h"

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

typedef float v16 __attribute__((vector_size(64), aligned(4)));

// The ascending sum of `count` (≥ 1) columns at pixel i, 16 pixels at a time or one (the same additions per lane).
__attribute__((always_inline)) inline void sum16(const float* const* cols, int count, int i, v16& s) {
  v16 x;
  std::memcpy(&s, cols[0] + i, 64);
  for (int k = 1; k < count; ++k) std::memcpy(&x, cols[k] + i, 64), s += x;
}
__attribute__((always_inline)) inline float sum1(const float* const* cols, int count, int i) {
  float s = cols[0][i];
  for (int k = 1; k < count; ++k) s += cols[k][i];
  return s;
}

// acc += col for re and im: the list kernel's step for a byte with one lit mirror (the common case of sparse
// frames), whose column is the byte's sum.
OPU_VECTOR_CLONES void addColumn(float* __restrict accRe, float* __restrict accIm, const float* __restrict colRe,
                                 const float* __restrict colIm, int np) {
  for (int i = 0; i < np; ++i) accRe[i] += colRe[i];
  for (int i = 0; i < np; ++i) accIm[i] += colIm[i];
}

// acc[i] += part(byte) for i < np, the list kernel's step: part = lo + hi, lo (hi) the ascending sum of the byte's
// lit columns in its low (high) nibble, cols[0..nlo) (cols[nlo..nlo + nhi)); either may be empty, not both.
// Exactly what tableChunk adds.
__attribute__((always_inline)) inline void addByteOne(float* __restrict acc, const float* const* cols, int nlo,
                                                      int nhi, int np) {
  int i = 0;
  if (nlo && nhi) {
    for (; i + 16 <= np; i += 16) {
      v16 a, part, other;
      sum16(cols, nlo, i, part);
      sum16(cols + nlo, nhi, i, other);
      std::memcpy(&a, acc + i, 64);
      a += part + other;
      std::memcpy(acc + i, &a, 64);
    }
    for (; i < np; ++i) acc[i] += sum1(cols, nlo, i) + sum1(cols + nlo, nhi, i);
    return;
  }
  const int count = nlo + nhi;
  for (; i + 16 <= np; i += 16) {
    v16 a, part;
    sum16(cols, count, i, part);
    std::memcpy(&a, acc + i, 64);
    a += part;
    std::memcpy(acc + i, &a, 64);
  }
  for (; i < np; ++i) acc[i] += sum1(cols, count, i);
}

OPU_VECTOR_CLONES void addByte(float* __restrict accRe, float* __restrict accIm, const float* const* colsRe,
                               const float* const* colsIm, int nlo, int nhi, int np) {
  addByteOne(accRe, colsRe, nlo, nhi, np);
  addByteOne(accIm, colsIm, nlo, nhi, np);
}

// The table kernel, blocked for registers: 64 pixels of one frame (4 + 4 vectors of 16 floats, re and im) stay in
// registers while every group of 4 mirrors of a 128-mirror chunk adds its precomputed subset sum (16-entry tables,
// 32 of them, 256 KB: L2). GCC's vector extensions compile this one source for AVX-512, AVX2 or SSE.
constexpr int kBlockPixels = 64;
constexpr int kChunkMirrors = 128;

OPU_VECTOR_CLONES void tableChunk(
    const float* __restrict colRe, const float* __restrict colIm, long colStride, int mirrors,
    const uint8_t* __restrict packed, int groups, int byte0, int frames, float* __restrict tables,
    float* __restrict accRe, float* __restrict accIm) {
  constexpr int P = kBlockPixels;
  const int nibbles = (mirrors + 3) / 4;
  // tables[(j·16 + s)·2P .. +2P]: re then im of the sum of the mirrors of nibble j selected by s.
  for (int j = 0; j < nibbles; ++j) {
    float* t = tables + static_cast<long>(j) * 16 * 2 * P;
    std::memset(t, 0, 2 * P * sizeof(float));
    const int width = std::min(4, mirrors - 4 * j);
    for (int sub = 1; sub < 16; ++sub) {
      float* dst = t + sub * 2 * P;
      if (sub >> width) {
        std::memset(dst, 0, 2 * P * sizeof(float));
        continue;
      }
      // T[sub] = T[sub minus its highest bit] + that bit's column: the ascending sum, from +0.
      const int high = 31 - __builtin_clz(sub);
      const float* prev = t + (sub ^ (1 << high)) * 2 * P;
      const long col = static_cast<long>(4 * j + high) * colStride;
      for (int i = 0; i < P; ++i) {
        dst[i] = prev[i] + colRe[col + i];
        dst[P + i] = prev[P + i] + colIm[col + i];
      }
    }
  }
  const int bytes = (mirrors + 7) / 8;
  // Bits past the last mirror (in the last byte of the last chunk) are ignored, as by the list kernel.
  const unsigned lastMask = mirrors % 8 ? (1u << (mirrors % 8)) - 1 : 0xffu;
  for (int f = 0; f < frames; ++f) {
    const uint8_t* row = packed + static_cast<long>(f) * groups + byte0;
    v16 re0, re1, re2, re3, im0, im1, im2, im3;
    float* aRe = accRe + static_cast<long>(f) * P;
    float* aIm = accIm + static_cast<long>(f) * P;
    std::memcpy(&re0, aRe, 64);
    std::memcpy(&re1, aRe + 16, 64);
    std::memcpy(&re2, aRe + 32, 64);
    std::memcpy(&re3, aRe + 48, 64);
    std::memcpy(&im0, aIm, 64);
    std::memcpy(&im1, aIm + 16, 64);
    std::memcpy(&im2, aIm + 32, 64);
    std::memcpy(&im3, aIm + 48, 64);
    bool touched = false;
    for (int b = 0; b < bytes; ++b) {
      const unsigned bits = row[b] & (b == bytes - 1 ? lastMask : 0xffu);
      if (!bits) continue;
      touched = true;
      const unsigned lo = bits & 15, hi = bits >> 4;
      const float* t = tables + (static_cast<long>(2 * b) * 16 + lo) * 2 * P;
      const float* u = tables + (static_cast<long>(2 * b + 1) * 16 + hi) * 2 * P;
      v16 x, y;
      if (lo && hi) {
        // acc += (lo + hi): the byte's partial sum first, as the list kernel forms it.
        std::memcpy(&x, t, 64), std::memcpy(&y, u, 64), re0 += x + y;
        std::memcpy(&x, t + 16, 64), std::memcpy(&y, u + 16, 64), re1 += x + y;
        std::memcpy(&x, t + 32, 64), std::memcpy(&y, u + 32, 64), re2 += x + y;
        std::memcpy(&x, t + 48, 64), std::memcpy(&y, u + 48, 64), re3 += x + y;
        std::memcpy(&x, t + 64, 64), std::memcpy(&y, u + 64, 64), im0 += x + y;
        std::memcpy(&x, t + 80, 64), std::memcpy(&y, u + 80, 64), im1 += x + y;
        std::memcpy(&x, t + 96, 64), std::memcpy(&y, u + 96, 64), im2 += x + y;
        std::memcpy(&x, t + 112, 64), std::memcpy(&y, u + 112, 64), im3 += x + y;
        continue;
      }
      if (!lo) t = u;
      std::memcpy(&x, t, 64), re0 += x;
      std::memcpy(&x, t + 16, 64), re1 += x;
      std::memcpy(&x, t + 32, 64), re2 += x;
      std::memcpy(&x, t + 48, 64), re3 += x;
      std::memcpy(&x, t + 64, 64), im0 += x;
      std::memcpy(&x, t + 80, 64), im1 += x;
      std::memcpy(&x, t + 96, 64), im2 += x;
      std::memcpy(&x, t + 112, 64), im3 += x;
    }
    if (!touched) continue;
    std::memcpy(aRe, &re0, 64);
    std::memcpy(aRe + 16, &re1, 64);
    std::memcpy(aRe + 32, &re2, 64);
    std::memcpy(aRe + 48, &re3, 64);
    std::memcpy(aIm, &im0, 64);
    std::memcpy(aIm + 16, &im1, 64);
    std::memcpy(aIm + 32, &im2, 64);
    std::memcpy(aIm + 48, &im3, 64);
  }
}

// Σ over lit mirrors for pixels [p0, p0 + 64) of every frame, by 4-mirror tables: columns from the cache or from
// freshly generated tiles. Pixels past m are computed on zero columns and dropped by the caller.
void tableBlock(uint32_t seed, uint32_t epoch, const int32_t* pixels, int m, const int32_t* mirrors, int n,
                const uint8_t* packed, int frames, const float* cachedRe, const float* cachedIm, int p0, float* accRe,
                float* accIm) {
  constexpr int P = kBlockPixels;
  const int groups = (n + 7) / 8;
  const int np = std::min(P, m - p0);
  thread_local std::vector<float> tables, tileRe, tileIm;
  tables.resize(static_cast<size_t>(kChunkMirrors / 4) * 16 * 2 * P);
  tileRe.assign(static_cast<size_t>(kChunkMirrors) * P, 0.0f);
  tileIm.assign(tileRe.size(), 0.0f);
  for (int q0 = 0; q0 < n; q0 += kChunkMirrors) {
    const int q1 = std::min(n, q0 + kChunkMirrors);
    if (!anyLit(packed, frames, groups, q0 / 8, (q1 + 7) / 8)) continue;
    // Columns laid out with stride P so that the pixel tail of the last block reads zeros.
    for (int q = q0; q < q1; ++q) {
      float* dstRe = &tileRe[static_cast<size_t>(q - q0) * P];
      float* dstIm = &tileIm[static_cast<size_t>(q - q0) * P];
      if (cachedRe) {
        std::memcpy(dstRe, cachedRe + static_cast<long>(q) * m + p0, np * sizeof(float));
        std::memcpy(dstIm, cachedIm + static_cast<long>(q) * m + p0, np * sizeof(float));
      }
    }
    if (!cachedRe) fillMediumTileStrided(seed, epoch, pixels, p0, p0 + np, mirrors, q0, q1, tileRe.data(), tileIm.data(), P);
    tableChunk(tileRe.data(), tileIm.data(), P, q1 - q0, packed, groups, q0 / 8, frames, tables.data(), accRe, accIm);
  }
}

// Copies a pixel block's sums (frames × stride, np used) into the output: intensities when outIm is null, as
// float32 products and sum (TypeScript: fround(fround(re·re) + fround(im·im))).
void writeBlock(const float* accRe, const float* accIm, int stride, int frames, int np, int m, int p0, float* outRe,
                float* outIm) {
  for (int f = 0; f < frames; ++f) {
    const float* aRe = accRe + static_cast<long>(f) * stride;
    const float* aIm = accIm + static_cast<long>(f) * stride;
    float* dst = outRe + static_cast<long>(f) * m + p0;
    if (!outIm) {
      for (int i = 0; i < np; ++i) dst[i] = aRe[i] * aRe[i] + aIm[i] * aIm[i];
    } else {
      std::memcpy(dst, aRe, np * sizeof(float));
      std::memcpy(outIm + static_cast<long>(f) * m + p0, aIm, np * sizeof(float));
    }
  }
}

}  // namespace

void fillMediumTile(uint32_t seed, uint32_t epoch, const int32_t* pixels, int p0, int p1, const int32_t* mirrors, int q0,
                    int q1, float* re, float* im) {
  // Columns in parallel: each entry depends only on its coordinates, so any split gives the same bits.
  const long np = p1 - p0;
  const int columns = q1 - q0;
  const int tasks = np * columns < (1L << 16) ? 1 : std::min(columns, threads() * 8);
  parallelFor(tasks, [&](int t) {
    const int a = q0 + static_cast<int>(static_cast<long>(columns) * t / tasks);
    const int b = q0 + static_cast<int>(static_cast<long>(columns) * (t + 1) / tasks);
    fillMediumTileStrided(seed, epoch, pixels, p0, p1, mirrors, a, b, re + (a - q0) * np, im + (a - q0) * np, np);
  });
}

void fillMediumTileStrided(uint32_t seed, uint32_t epoch, const int32_t* pixels, int p0, int p1, const int32_t* mirrors,
                           int q0, int q1, float* re, float* im, long colStride) {
  uint32_t w[4];
  for (int q = q0; q < q1; ++q) {
    const uint32_t mirror = static_cast<uint32_t>(mirrors[q]);
    const int half = (mirror & 1) * 2;
    float* colRe = re + static_cast<long>(q - q0) * colStride - p0;
    float* colIm = im + static_cast<long>(q - q0) * colStride - p0;
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
  const bool useTables = kernel == 2 || (kernel == 0 && tablesPay(packed, frames, groups));
  if (useTables) {
    parallelFor((m + kBlockPixels - 1) / kBlockPixels, [&](int block) {
      const int p0 = block * kBlockPixels;
      const int np = std::min(kBlockPixels, m - p0);
      thread_local std::vector<float> accRe, accIm;
      accRe.assign(static_cast<size_t>(frames) * kBlockPixels, 0.0f);
      accIm.assign(accRe.size(), 0.0f);
      tableBlock(seed, epoch, pixels, m, mirrors, n, packed, frames, cachedRe, cachedIm, p0, accRe.data(), accIm.data());
      writeBlock(accRe.data(), accIm.data(), kBlockPixels, frames, np, m, p0, outRe, outIm);
    });
    return;
  }
  const int blocks = (m + kPixelBlock - 1) / kPixelBlock;
  parallelFor(blocks, [&](int block) {
    const int p0 = block * kPixelBlock;
    const int p1 = std::min(m, p0 + kPixelBlock);
    const int np = p1 - p0;
    thread_local std::vector<float> tileRe, tileIm, accRe, accIm;
    if (!cached) {
      tileRe.resize(static_cast<size_t>(kPixelBlock) * kMirrorBlock);
      tileIm.resize(tileRe.size());
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
        fillMediumTileStrided(seed, epoch, pixels, p0, p1, mirrors, q0, q1, tileRe.data(), tileIm.data(), np);
        srcRe = tileRe.data();
        srcIm = tileIm.data();
        offset = -static_cast<long>(q0) * np;
        colStride = np;
      }
      for (int g = q0 / 8; g < (q1 + 7) / 8; ++g) {
        const int width = std::min(8, n - 8 * g);
        const unsigned mask = (1u << width) - 1;
        for (int f = 0; f < frames; ++f) {
          const unsigned bits = packed[static_cast<long>(f) * groups + g] & mask;
          if (!bits) continue;
          float* aRe = &accRe[static_cast<size_t>(f) * np];
          float* aIm = &accIm[static_cast<size_t>(f) * np];
          if (!(bits & (bits - 1))) {
            const long col = offset + static_cast<long>(8 * g + __builtin_ctz(bits)) * colStride;
            addColumn(aRe, aIm, srcRe + col, srcIm + col, np);
            continue;
          }
          // The lit columns, ascending: the low nibble's, then the high nibble's.
          const float* colsRe[8];
          const float* colsIm[8];
          int k = 0;
          for (unsigned rest = bits; rest; rest &= rest - 1, ++k) {
            const long col = offset + static_cast<long>(8 * g + __builtin_ctz(rest)) * colStride;
            colsRe[k] = srcRe + col;
            colsIm[k] = srcIm + col;
          }
          const int nlo = __builtin_popcount(bits & 15);
          addByte(aRe, aIm, colsRe, colsIm, nlo, k - nlo, np);
        }
      }
    }
    writeBlock(accRe.data(), accIm.data(), np, frames, np, m, p0, outRe, outIm);
  });
}

}  // namespace opu

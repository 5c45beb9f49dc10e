// The simulated medium's kernels: tiles of the quantized transmission matrix from Philox (bit-identical to
// TypeScript), and the sum of its columns over each frame's lit mirrors.
//
// Every entry is q/4096 with q a 16-bit integer, so a frame's field is an exact integer sum: 32-bit integer
// additions are associative, and any kernel and any order give the same bits (native/src/optics/medium.ts states
// the contract). That frees the kernels to pick the cheapest route per batch:
// - lists: one column addition per lit mirror (sparse frames);
// - grouped: the mirrors whose on/off pattern is the same over the whole batch (the macro-pixels a facade lights
//   together) summed once per group, then each frame a sum of a few group vectors; the groups and their sums are
//   kept across calls while later batches fit the same grouping, as they do batch after batch in training;
// - dense: on CPUs with AVX-512 VNNI, int16 dot products (vpdpwssd: 2 mirrors × 16 pixels per instruction, twice
//   float FMA's rate) on a packed int16 copy of the matrix kept across calls (dense, unstructured frames);
// - tables: 16-entry tables of the subset sums of every 4 mirrors (method of four Russians), with a block of pixels
//   of a frame in registers (dense frames elsewhere).
// Pixel blocks or frames run in parallel on the pool; with `outIm` null the intensities are written directly.
#include "optics/medium.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "optics/random.h"
#include "runtime/pool.h"
#include "runtime/simd.h"

#if OPU_NATIVE_X86_SIMD
#include <immintrin.h>

#include "linalg/gemm.h"
#endif

namespace opu {
namespace {

// q = round(4096·x), clipped to ±32767 (11σ of a CN(0, 1) entry's real or imaginary part: never reached).
inline int32_t quantize(double x) {
  const double q = std::floor(x * kMediumScale + 0.5);
  return static_cast<int32_t>(std::min(32767.0, std::max(-32767.0, q)));
}

// Columns q0..q1 of pixels p0..p1 as integers q, columns `colStride` apart.
void fillQuantizedTile(uint32_t seed, uint32_t epoch, const int32_t* pixels, int p0, int p1, const int32_t* mirrors,
                       int q0, int q1, int32_t* re, int32_t* im, long colStride) {
  uint32_t w[4];
  for (int q = q0; q < q1; ++q) {
    const uint32_t mirror = static_cast<uint32_t>(mirrors[q]);
    const int half = (mirror & 1) * 2;
    int32_t* colRe = re + static_cast<long>(q - q0) * colStride - p0;
    int32_t* colIm = im + static_cast<long>(q - q0) * colStride - p0;
    for (int p = p0; p < p1; ++p) {
      philox4x32(static_cast<uint32_t>(pixels[p]), mirror >> 1, epoch, 0, seed, kMedium, w);
      double zr, zi;
      complexNormal(w[half], w[half + 1], zr, zi);
      colRe[p] = quantize(zr);
      colIm[p] = quantize(zi);
    }
  }
}

// Where a kernel reads columns from: the cached matrix (float q/4096, converted exactly) or Philox.
struct Columns {
  uint32_t seed, epoch;
  const int32_t* pixels;
  int m;
  const int32_t* mirrors;
  const float* cachedRe;
  const float* cachedIm;

  // Column q, pixels [p0, p0 + np), as integers into re/im.
  void column(int q, int p0, int np, int32_t* re, int32_t* im) const {
    if (cachedRe) {
      const float* sRe = cachedRe + static_cast<long>(q) * m + p0;
      const float* sIm = cachedIm + static_cast<long>(q) * m + p0;
      for (int i = 0; i < np; ++i) re[i] = static_cast<int32_t>(sRe[i] * kMediumScale);
      for (int i = 0; i < np; ++i) im[i] = static_cast<int32_t>(sIm[i] * kMediumScale);
      return;
    }
    fillQuantizedTile(seed, epoch, pixels, p0, p0 + np, mirrors, q, q + 1, re, im, np);
  }
};

typedef int32_t v16i __attribute__((vector_size(64), aligned(4)));

OPU_VECTOR_CLONES void addColumn(int32_t* __restrict accRe, int32_t* __restrict accIm, const int32_t* __restrict colRe,
                                 const int32_t* __restrict colIm, int np) {
  for (int i = 0; i < np; ++i) accRe[i] += colRe[i];
  for (int i = 0; i < np; ++i) accIm[i] += colIm[i];
}

// A frame's exact sums into the output: fields as float(sum)/4096, intensities as the float nearest to
// (double(re)² + double(im)²)/4096² (TypeScript computes the same double operations).
OPU_VECTOR_CLONES void writeRow(const int32_t* __restrict sumRe, const int32_t* __restrict sumIm, int np,
                                float* __restrict outRe, float* __restrict outIm) {
  if (!outIm) {
    for (int i = 0; i < np; ++i) {
      const double re = sumRe[i], im = sumIm[i];
      outRe[i] = static_cast<float>((re * re + im * im) * (1.0 / (kMediumScale * kMediumScale)));
    }
    return;
  }
  for (int i = 0; i < np; ++i) outRe[i] = static_cast<float>(sumRe[i]) * (1.0f / kMediumScale);
  for (int i = 0; i < np; ++i) outIm[i] = static_cast<float>(sumIm[i]) * (1.0f / kMediumScale);
}

struct Batch {
  const uint8_t* packed;
  int frames, n, bytes;
  unsigned lastMask;  // bits of the last byte that are mirrors; the others are ignored
  unsigned byteAt(int f, int b) const {
    const unsigned v = packed[static_cast<long>(f) * bytes + b];
    return b == bytes - 1 ? v & lastMask : v;
  }
};

// ---------------------------------------------------------------------------------------------------------- lists
constexpr int kListPixels = 256;
constexpr int kListMirrors = 256;

void listsKernel(const Columns& src, const Batch& x, float* outRe, float* outIm) {
  const int m = src.m;
  parallelFor((m + kListPixels - 1) / kListPixels, [&](int block) {
    const int p0 = block * kListPixels;
    const int np = std::min(kListPixels, m - p0);
    thread_local std::vector<int32_t> tileRe, tileIm, accRe, accIm;
    tileRe.resize(static_cast<size_t>(kListPixels) * kListMirrors);
    tileIm.resize(tileRe.size());
    accRe.assign(static_cast<size_t>(x.frames) * np, 0);
    accIm.assign(accRe.size(), 0);
    std::vector<uint8_t> used(kListMirrors);
    for (int q0 = 0; q0 < x.n; q0 += kListMirrors) {
      const int q1 = std::min(x.n, q0 + kListMirrors);
      std::fill(used.begin(), used.end(), 0);
      bool any = false;
      for (int f = 0; f < x.frames; ++f)
        for (int b = q0 / 8; b < (q1 + 7) / 8; ++b)
          for (unsigned bits = x.byteAt(f, b); bits; bits &= bits - 1) used[8 * b + __builtin_ctz(bits) - q0] = 1, any = true;
      if (!any) continue;
      for (int q = q0; q < q1; ++q)
        if (used[q - q0]) src.column(q, p0, np, &tileRe[static_cast<size_t>(q - q0) * np], &tileIm[static_cast<size_t>(q - q0) * np]);
      for (int f = 0; f < x.frames; ++f) {
        int32_t* aRe = &accRe[static_cast<size_t>(f) * np];
        int32_t* aIm = &accIm[static_cast<size_t>(f) * np];
        for (int b = q0 / 8; b < (q1 + 7) / 8; ++b)
          for (unsigned bits = x.byteAt(f, b); bits; bits &= bits - 1) {
            const size_t col = static_cast<size_t>(8 * b + __builtin_ctz(bits) - q0) * np;
            addColumn(aRe, aIm, &tileRe[col], &tileIm[col], np);
          }
      }
    }
    for (int f = 0; f < x.frames; ++f)
      writeRow(&accRe[static_cast<size_t>(f) * np], &accIm[static_cast<size_t>(f) * np], np,
               outRe + static_cast<long>(f) * m + p0, outIm ? outIm + static_cast<long>(f) * m + p0 : nullptr);
  });
}

// --------------------------------------------------------------------------------------------------------- tables
// 32 pixels of a frame (re and im: 4 vectors of 16 integers) stay in registers while each nibble of a 64-mirror
// chunk adds its subset sum from a 16-entry table (16 tables, 64 KB); every frame's bytes of the chunk are looked
// up, zero or not (entry 0 adds zeros), without branches. Measured on Zen 5: 32 pixels and 64 mirrors beat 16 or 64
// pixels and 32 or 128 mirrors, and blocking the frames (to keep tables and sums in L1) loses more to rebuilding
// the tables than it gains.
constexpr int kTableVectors = 4;
constexpr int kChunkBytes = 8;

// The tables of one chunk: (nibble j, subset s) at (j·16 + s)·2P, re then im; mirrors past the last add nothing.
template <int V>
OPU_VECTOR_CLONES void buildTables(const int32_t* __restrict colRe, const int32_t* __restrict colIm, int mirrors,
                                   int bytes, int32_t* __restrict tables) {
  constexpr int P = 8 * V;
  for (int j = 0; j < 2 * bytes; ++j) {
    int32_t* t = tables + static_cast<long>(j) * 16 * 2 * P;
    std::memset(t, 0, 2 * P * sizeof(int32_t));
    for (int sub = 1; sub < 16; ++sub) {
      int32_t* dst = t + sub * 2 * P;
      const int high = 31 - __builtin_clz(sub);
      const int32_t* prev = t + (sub ^ (1 << high)) * 2 * P;
      if (4 * j + high >= mirrors) {
        std::memcpy(dst, prev, 2 * P * sizeof(int32_t));
        continue;
      }
      const long col = static_cast<long>(4 * j + high) * P;
      for (int i = 0; i < P; ++i) dst[i] = prev[i] + colRe[col + i];
      for (int i = 0; i < P; ++i) dst[P + i] = prev[P + i] + colIm[col + i];
    }
  }
}

// acc[f] += the chunk's subset sums for every frame, rows `bytes` apart in `rows`.
template <int V>
OPU_VECTOR_CLONES void useTables(const int32_t* __restrict tables, const uint8_t* __restrict rows, int bytes,
                                 int frames, int32_t* __restrict acc) {
  constexpr int P = 8 * V;
  for (int f = 0; f < frames; ++f) {
    const uint8_t* row = rows + static_cast<long>(f) * bytes;
    v16i a[V], v, w;
    int32_t* dst = acc + static_cast<long>(f) * 2 * P;
    for (int k = 0; k < V; ++k) std::memcpy(&a[k], dst + 16 * k, 64);
    for (int b = 0; b < bytes; ++b) {
      const unsigned bits = row[b];
      const int32_t* t = tables + (static_cast<long>(2 * b) * 16 + (bits & 15)) * 2 * P;
      const int32_t* u = tables + (static_cast<long>(2 * b + 1) * 16 + (bits >> 4)) * 2 * P;
      for (int k = 0; k < V; ++k) std::memcpy(&v, t + 16 * k, 64), std::memcpy(&w, u + 16 * k, 64), a[k] += v + w;
    }
    for (int k = 0; k < V; ++k) std::memcpy(dst + 16 * k, &a[k], 64);
  }
}

void tablesKernel(const Columns& src, const Batch& x, float* outRe, float* outIm) {
  constexpr int V = kTableVectors;
  constexpr int P = 8 * V;
  constexpr int chunkBytes = kChunkBytes;
  constexpr int chunk = 8 * chunkBytes;
  const int m = src.m;
  const int chunks = (x.bytes + chunkBytes - 1) / chunkBytes;
  // The frames' bytes chunk by chunk (chunk c: frames × its bytes), so that a chunk's pass reads them contiguously;
  // bits past the last mirror cleared.
  std::vector<uint8_t> rows(static_cast<size_t>(x.frames) * chunks * chunkBytes, 0);
  for (int c = 0; c < chunks; ++c) {
    const int b0 = c * chunkBytes, nb = std::min(chunkBytes, x.bytes - b0);
    for (int f = 0; f < x.frames; ++f)
      for (int b = 0; b < nb; ++b) rows[(static_cast<size_t>(c) * x.frames + f) * chunkBytes + b] = x.byteAt(f, b0 + b);
  }
  parallelFor((m + P - 1) / P, [&](int block) {
    const int p0 = block * P;
    const int np = std::min(P, m - p0);
    thread_local std::vector<int32_t> tables, tileRe, tileIm, acc;
    tables.resize(static_cast<size_t>(2 * chunkBytes) * 16 * 2 * P);
    // Columns P apart, zero past np, so the last block's pixel tail adds zeros.
    tileRe.assign(static_cast<size_t>(chunk) * P, 0);
    tileIm.assign(tileRe.size(), 0);
    acc.assign(static_cast<size_t>(x.frames) * 2 * P, 0);
    for (int c = 0; c < chunks; ++c) {
      const int q0 = c * chunk, q1 = std::min(x.n, q0 + chunk);
      for (int q = q0; q < q1; ++q)
        src.column(q, p0, np, &tileRe[static_cast<size_t>(q - q0) * P], &tileIm[static_cast<size_t>(q - q0) * P]);
      buildTables<V>(tileRe.data(), tileIm.data(), q1 - q0, chunkBytes, tables.data());
      useTables<V>(tables.data(), &rows[static_cast<size_t>(c) * x.frames * chunkBytes], chunkBytes, x.frames, acc.data());
    }
    for (int f = 0; f < x.frames; ++f) {
      const int32_t* a = &acc[static_cast<size_t>(f) * 2 * P];
      writeRow(a, a + P, np, outRe + static_cast<long>(f) * m + p0, outIm ? outIm + static_cast<long>(f) * m + p0 : nullptr);
    }
  });
}

// -------------------------------------------------------------------------------------------------------- grouped
// Beyond this many groups in a batch, the grouped kernel is not used (its sums would cost as much as lists).
constexpr int kMaxGroups = 64;
constexpr size_t kKeptGroupings = 8;

// The mirrors of a batch that are always on or off together: each group's members as 64-bit words of the frame
// layout (words [first, last] of them non-zero), its first member as representative, and its column sum over all
// pixels (re then im, m each).
struct Grouping {
  uint64_t geometry;
  int groups, words;
  std::vector<int> representative, first, last;
  std::vector<uint64_t> members;
  std::vector<int32_t> sums;
};

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

// The matrix a grouping's sums belong to: (seed, epoch, pixels, mirrors). The cached matrix, when given, is that
// matrix (the contract), so it does not enter the key.
uint64_t geometryKey(const Columns& src, int n) {
  uint64_t h = mix(mix(mix(1, src.seed), src.epoch), (static_cast<uint64_t>(src.m) << 32) | static_cast<uint32_t>(n));
  for (int i = 0; i < src.m; ++i) h = mix(h, static_cast<uint32_t>(src.pixels[i]));
  for (int i = 0; i < n; ++i) h = mix(h, static_cast<uint32_t>(src.mirrors[i]));
  return h;
}

// Frame f's mirrors as 64-bit words (bits past the last mirror cleared).
void frameWords(const Batch& x, int f, uint64_t* words, int count) {
  words[count - 1] = 0;
  std::memcpy(words, x.packed + static_cast<long>(f) * x.bytes, x.bytes);
  reinterpret_cast<uint8_t*>(words)[x.bytes - 1] &= x.lastMask;
}

// Each frame's lit groups as a bit mask, if every frame is exactly the union of its lit groups; false otherwise.
bool keysOf(const Grouping& g, const Batch& x, std::vector<uint64_t>& keys) {
  keys.resize(x.frames);
  std::vector<uint64_t> frame(g.words), rebuilt(g.words);
  for (int f = 0; f < x.frames; ++f) {
    frameWords(x, f, frame.data(), g.words);
    std::fill(rebuilt.begin(), rebuilt.end(), 0);
    uint64_t key = 0;
    for (int k = 0; k < g.groups; ++k) {
      const int q = g.representative[k];
      if (!((frame[q >> 6] >> (q & 63)) & 1)) continue;
      key |= 1ULL << k;
      const uint64_t* mask = &g.members[static_cast<size_t>(k) * g.words];
      for (int w = g.first[k]; w <= g.last[k]; ++w) rebuilt[w] |= mask[w];
    }
    if (frame != rebuilt) return false;
    keys[f] = key;
  }
  return true;
}

// Transposes an 8×8 bit matrix: bit j of byte i goes to bit i of byte j.
inline uint64_t transpose8(uint64_t v) {
  uint64_t t = (v ^ (v >> 7)) & 0x00AA00AA00AA00AAULL;
  v ^= t ^ (t << 7);
  t = (v ^ (v >> 14)) & 0x0000CCCC0000CCCCULL;
  v ^= t ^ (t << 14);
  t = (v ^ (v >> 28)) & 0x00000000F0F0F0F0ULL;
  v ^= t ^ (t << 28);
  return v;
}

// The batch's grouping (without sums), or null when it has more than kMaxGroups groups.
std::shared_ptr<Grouping> groupBatch(const Batch& x, uint64_t geometry) {
  const int blocks = (x.frames + 7) / 8;
  // patterns[q·blocks + fb]: mirror q's bits over frames 8fb..8fb + 7.
  std::vector<uint8_t> patterns(static_cast<size_t>(x.n) * blocks, 0);
  for (int fb = 0; fb < blocks; ++fb) {
    for (int b = 0; b < x.bytes; ++b) {
      uint64_t v = 0;
      for (int i = 0; i < 8 && 8 * fb + i < x.frames; ++i) v |= static_cast<uint64_t>(x.byteAt(8 * fb + i, b)) << (8 * i);
      if (!v) continue;
      v = transpose8(v);
      for (int j = 0; j < 8 && 8 * b + j < x.n; ++j) patterns[static_cast<size_t>(8 * b + j) * blocks + fb] = v >> (8 * j);
    }
  }
  auto g = std::make_shared<Grouping>();
  g->geometry = geometry;
  g->groups = 0;
  g->words = (x.bytes + 7) / 8;
  std::unordered_multimap<uint64_t, int> byHash;
  for (int q = 0; q < x.n; ++q) {
    const uint8_t* p = &patterns[static_cast<size_t>(q) * blocks];
    uint64_t h = 0;
    bool lit = false;
    for (int i = 0; i < blocks; ++i) h = mix(h, p[i]), lit |= p[i] != 0;
    if (!lit) continue;
    int group = -1;
    for (auto [it, end] = byHash.equal_range(h); it != end; ++it) {
      const int r = g->representative[it->second];
      if (!std::memcmp(p, &patterns[static_cast<size_t>(r) * blocks], blocks)) {
        group = it->second;
        break;
      }
    }
    if (group < 0) {
      if (g->groups == kMaxGroups) return nullptr;
      group = g->groups++;
      g->representative.push_back(q);
      g->first.push_back(q >> 6);
      g->members.resize(static_cast<size_t>(g->groups) * g->words, 0);
      byHash.emplace(h, group);
    }
    g->members[static_cast<size_t>(group) * g->words + (q >> 6)] |= 1ULL << (q & 63);
  }
  g->last.resize(g->groups);
  for (int k = 0; k < g->groups; ++k) {
    g->last[k] = g->words - 1;
    while (!g->members[static_cast<size_t>(k) * g->words + g->last[k]]) --g->last[k];
  }
  return g;
}

void groupSums(const Columns& src, const Batch& x, Grouping& g) {
  const int m = src.m;
  g.sums.assign(static_cast<size_t>(g.groups) * 2 * m, 0);
  parallelFor((m + kListPixels - 1) / kListPixels, [&](int block) {
    const int p0 = block * kListPixels;
    const int np = std::min(kListPixels, m - p0);
    std::vector<int32_t> re(np), im(np);
    for (int k = 0; k < g.groups; ++k) {
      int32_t* sRe = &g.sums[static_cast<size_t>(k) * 2 * m + p0];
      const uint64_t* mask = &g.members[static_cast<size_t>(k) * g.words];
      for (int w = g.first[k]; w <= g.last[k]; ++w)
        for (uint64_t bits = mask[w]; bits; bits &= bits - 1) {
          src.column(64 * w + __builtin_ctzll(bits), p0, np, re.data(), im.data());
          addColumn(sRe, sRe + m, re.data(), im.data(), np);
        }
    }
  });
}

std::mutex groupingsLock;
std::list<std::shared_ptr<Grouping>> kept;  // most recently used first

// A grouping that fits the batch, with sums, and each frame's lit groups; null when the batch has too many groups.
std::shared_ptr<Grouping> groupingFor(const Columns& src, const Batch& x, std::vector<uint64_t>& keys) {
  const uint64_t geometry = geometryKey(src, x.n);
  {
    std::lock_guard<std::mutex> lock(groupingsLock);
    for (auto it = kept.begin(); it != kept.end(); ++it) {
      if ((*it)->geometry != geometry || !keysOf(**it, x, keys)) continue;
      kept.splice(kept.begin(), kept, it);
      return kept.front();
    }
  }
  std::shared_ptr<Grouping> g = groupBatch(x, geometry);
  if (!g) return nullptr;
  keysOf(*g, x, keys);
  groupSums(src, x, *g);
  std::lock_guard<std::mutex> lock(groupingsLock);
  kept.push_front(g);
  if (kept.size() > kKeptGroupings) kept.pop_back();
  return g;
}

OPU_VECTOR_CLONES void addGroups(const int32_t* __restrict sums, uint64_t key, int m, int32_t* __restrict acc) {
  std::memset(acc, 0, 2 * m * sizeof(int32_t));
  for (; key; key &= key - 1) {
    const int32_t* s = sums + static_cast<size_t>(__builtin_ctzll(key)) * 2 * m;
    for (int i = 0; i < 2 * m; ++i) acc[i] += s[i];
  }
}

// Each distinct set of lit groups is summed once (training batches repeat a few frames many times), into the
// output row of its first frame; the other frames copy that row.
void groupedKernel(const Grouping& g, const std::vector<uint64_t>& keys, int m, int frames, float* outRe,
                   float* outIm) {
  std::vector<int> source(frames), distinct;
  std::unordered_map<uint64_t, int> firstWith;
  for (int f = 0; f < frames; ++f) {
    const auto [it, added] = firstWith.emplace(keys[f], f);
    source[f] = it->second;
    if (added) distinct.push_back(f);
  }
  const int count = static_cast<int>(distinct.size());
  const int tasks = std::min(count, threads() * 4);
  parallelFor(tasks, [&](int t) {
    thread_local std::vector<int32_t> acc;
    acc.resize(static_cast<size_t>(2) * m);
    for (long i = static_cast<long>(count) * t / tasks; i < static_cast<long>(count) * (t + 1) / tasks; ++i) {
      const long f = distinct[i];
      addGroups(g.sums.data(), keys[f], m, acc.data());
      writeRow(acc.data(), acc.data() + m, m, outRe + f * m, outIm ? outIm + f * m : nullptr);
    }
  });
  if (count == frames) return;
  const int copies = std::min(frames, threads() * 4);
  parallelFor(copies, [&](int t) {
    for (long f = static_cast<long>(frames) * t / copies; f < static_cast<long>(frames) * (t + 1) / copies; ++f) {
      if (source[f] == f) continue;
      std::memcpy(outRe + f * m, outRe + static_cast<long>(source[f]) * m, m * sizeof(float));
      if (outIm) std::memcpy(outIm + f * m, outIm + static_cast<long>(source[f]) * m, m * sizeof(float));
    }
  });
}

// ---------------------------------------------------------------------------------------------------------- dense
// The dense kernel's packed int16 copy of the matrix (4 bytes an entry, half the float cache it is packed from) is
// kept up to this size. It runs only when the caller caches the matrix: lazy tiles mean memory is short.
constexpr size_t kMaxPackedBytes = size_t{256} << 20;

#if OPU_NATIVE_X86_SIMD
// Dense frames on CPUs with AVX-512 VNNI (and not capped by OPU_NATIVE_SIMD=avx2 or portable): C = X·Q as a GEMM of int16, vpdpwssd adding the products of 2 mirrors
// (x ∈ {0, 1} times q) to each 32-bit sum, twice the multiply-adds per instruction of float FMA. Per block of 32
// pixels, Q is packed as pairs of mirrors (32 int16 per vector: 16 pixels × 2 mirrors; re and im of 2 × 16 pixels),
// and MR frames × 32 pixels (re and im) of sums stay in 24 registers across all mirrors.
constexpr int kDenseFrames = 6;

bool denseAvailable() {
  static const bool available = [] {
    __builtin_cpu_init();
    return gemm::path() == gemm::Path::Avx512 && __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("avx512bw");
  }();
  return available;
}

// Named accumulators (an array of them is spilled to the stack by GCC 12).
#define OPU_DENSE_ROW(r, i)                                                                              \
  __m512i r##0 = _mm512_loadu_si512(c + (i) * 64), r##1 = _mm512_loadu_si512(c + (i) * 64 + 16),        \
          r##2 = _mm512_loadu_si512(c + (i) * 64 + 32), r##3 = _mm512_loadu_si512(c + (i) * 64 + 48)
#define OPU_DENSE_STEP(r, i)                                 \
  do {                                                      \
    const __m512i x = _mm512_set1_epi32(a[k * 6 + (i)]);     \
    r##0 = _mm512_dpwssd_epi32(r##0, x, b0);                \
    r##1 = _mm512_dpwssd_epi32(r##1, x, b1);                \
    r##2 = _mm512_dpwssd_epi32(r##2, x, b2);                \
    r##3 = _mm512_dpwssd_epi32(r##3, x, b3);                \
  } while (0)
#define OPU_DENSE_STORE(r, i)                            \
  _mm512_storeu_si512(c + (i) * 64, r##0);              \
  _mm512_storeu_si512(c + (i) * 64 + 16, r##1);         \
  _mm512_storeu_si512(c + (i) * 64 + 32, r##2);         \
  _mm512_storeu_si512(c + (i) * 64 + 48, r##3)

// c[r·64 ..] += Σ_k a[k·6 + r] · b[k], k in [k0, k1): 6 frames × 32 pixels, re and im.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void denseMicro(const int32_t* __restrict a, int k0, int k1,
                                                                      const int16_t* __restrict b,
                                                                      int32_t* __restrict c) {
  static_assert(kDenseFrames == 6, "six named rows below");
  OPU_DENSE_ROW(s0, 0);
  OPU_DENSE_ROW(s1, 1);
  OPU_DENSE_ROW(s2, 2);
  OPU_DENSE_ROW(s3, 3);
  OPU_DENSE_ROW(s4, 4);
  OPU_DENSE_ROW(s5, 5);
  b += static_cast<long>(k0) * 128;
  for (int k = k0; k < k1; ++k, b += 128) {
    const __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 32), b2 = _mm512_loadu_si512(b + 64),
                  b3 = _mm512_loadu_si512(b + 96);
    OPU_DENSE_STEP(s0, 0);
    OPU_DENSE_STEP(s1, 1);
    OPU_DENSE_STEP(s2, 2);
    OPU_DENSE_STEP(s3, 3);
    OPU_DENSE_STEP(s4, 4);
    OPU_DENSE_STEP(s5, 5);
  }
  OPU_DENSE_STORE(s0, 0);
  OPU_DENSE_STORE(s1, 1);
  OPU_DENSE_STORE(s2, 2);
  OPU_DENSE_STORE(s3, 3);
  OPU_DENSE_STORE(s4, 4);
  OPU_DENSE_STORE(s5, 5);
}

// Q packed for denseMicro, per block of 32 pixels: b[(block·pairs + k)·128 + v·32 + 2i + h] = mirror 2k + h at
// pixel i of vector v (re of pixels 0–15, im 0–15, re 16–31, im 16–31). Packing reads the whole matrix column by
// column, more than a batch's products cost, so the last packed matrix is kept (by the same key as the groupings).
struct PackedMedium {
  uint64_t geometry;
  std::vector<int16_t> b;
};
constexpr int kDensePixels = 32;

std::mutex packedLock;
std::shared_ptr<PackedMedium> packedKept;

std::shared_ptr<PackedMedium> packedFor(const Columns& src, int n) {
  constexpr int P = kDensePixels;
  const uint64_t geometry = geometryKey(src, n);
  {
    std::lock_guard<std::mutex> lock(packedLock);
    if (packedKept && packedKept->geometry == geometry) return packedKept;
  }
  const int pairs = (n + 1) / 2;
  const int blocks = (src.m + P - 1) / P;
  auto packed = std::make_shared<PackedMedium>();
  packed->geometry = geometry;
  packed->b.assign(static_cast<size_t>(blocks) * pairs * 128, 0);
  parallelFor(blocks, [&](int block) {
    const int p0 = block * P;
    const int np = std::min(P, src.m - p0);
    int32_t re[P], im[P];
    for (int q = 0; q < n; ++q) {
      src.column(q, p0, np, re, im);
      int16_t* dst = &packed->b[(static_cast<size_t>(block) * pairs + (q >> 1)) * 128 + (q & 1)];
      for (int i = 0; i < np; ++i) {
        dst[(i >> 4) * 64 + 2 * (i & 15)] = static_cast<int16_t>(re[i]);
        dst[(i >> 4) * 64 + 32 + 2 * (i & 15)] = static_cast<int16_t>(im[i]);
      }
    }
  });
  std::lock_guard<std::mutex> lock(packedLock);
  packedKept = packed;
  return packed;
}

void denseKernel(const Columns& src, const Batch& x, float* outRe, float* outIm) {
  constexpr int P = kDensePixels, MR = kDenseFrames;
  // Pairs of mirrors per depth block: its 128 bytes per pair of packed Q (16 KB) stay in L1 for all frames.
  constexpr int KC = 128;
  // Pixel blocks per task, so that each frame's output is written 128 pixels at a time.
  constexpr int blocksPerTask = 4;
  const int m = src.m;
  const int pairs = (x.n + 1) / 2;
  const int groups = (x.frames + MR - 1) / MR;
  const std::shared_ptr<PackedMedium> packed = packedFor(src, x.n);
  // a[(g·pairs + k)·MR + r]: the 0/1 of mirrors 2k (low 16 bits) and 2k + 1 (high) of frame g·MR + r, the MR
  // frames of a group side by side so that the micro-kernel's broadcasts read one stream; padded with zero frames.
  static const std::vector<uint32_t> spread = [] {
    std::vector<uint32_t> t(256 * 4);
    for (int v = 0; v < 256; ++v)
      for (int j = 0; j < 4; ++j) t[v * 4 + j] = ((v >> (2 * j)) & 1) | (((v >> (2 * j + 1)) & 1) << 16);
    return t;
  }();
  std::vector<int32_t> a(static_cast<size_t>(groups) * MR * pairs, 0);
  const int rowTasks = std::min(x.frames, threads() * 4);
  parallelFor(rowTasks, [&](int t) {
    for (long f = static_cast<long>(x.frames) * t / rowTasks; f < static_cast<long>(x.frames) * (t + 1) / rowTasks; ++f) {
      int32_t* row = &a[(f / MR) * pairs * MR + f % MR];
      for (int b = 0; b < x.bytes; ++b) {
        const uint32_t* s = &spread[x.byteAt(static_cast<int>(f), b) * 4];
        for (int j = 0; j < 4 && 4 * b + j < pairs; ++j) row[(4 * b + j) * MR] = static_cast<int32_t>(s[j]);
      }
    }
  });
  const int blocks = (m + P - 1) / P;
  parallelFor((blocks + blocksPerTask - 1) / blocksPerTask, [&](int task) {
    const int block0 = task * blocksPerTask;
    const int block1 = std::min(blocks, block0 + blocksPerTask);
    thread_local std::vector<int32_t> c, sums;
    c.assign(static_cast<size_t>(blocksPerTask) * groups * MR * 64, 0);
    for (int block = block0; block < block1; ++block) {
      int32_t* cb = &c[static_cast<size_t>(block - block0) * groups * MR * 64];
      const int16_t* b = &packed->b[static_cast<size_t>(block) * pairs * 128];
      for (int k0 = 0; k0 < pairs; k0 += KC)
        for (int g = 0; g < groups; ++g)
          denseMicro(&a[static_cast<size_t>(g) * MR * pairs], k0, std::min(pairs, k0 + KC), b,
                     &cb[static_cast<size_t>(g) * MR * 64]);
    }
    const int p0 = block0 * P;
    const int np = std::min((block1 - block0) * P, m - p0);
    // Sums of 16 pixels at a time into re (pixels 0..np) and im (from blocksPerTask·P), the block's tail included.
    constexpr int im0 = blocksPerTask * P;
    sums.resize(2 * im0);
    for (long f = 0; f < x.frames; ++f) {
      for (int block = block0; block < block1; ++block) {
        const int32_t* row = &c[(static_cast<size_t>(block - block0) * groups * MR + f) * 64];
        const int i = (block - block0) * P;
        std::memcpy(&sums[i], row, 64);
        std::memcpy(&sums[im0 + i], row + 16, 64);
        std::memcpy(&sums[i + 16], row + 32, 64);
        std::memcpy(&sums[im0 + i + 16], row + 48, 64);
      }
      writeRow(sums.data(), sums.data() + im0, np, outRe + f * m + p0, outIm ? outIm + f * m + p0 : nullptr);
    }
  });
}
#else
bool denseAvailable() { return false; }
void denseKernel(const Columns&, const Batch&, float*, float*) {}
#endif

// 'auto', in column additions: lists one per lit mirror (its sums in memory); tables one lookup per nibble of every
// frame (sums in registers, about a third of the cost) and 16 per nibble to build the tables.
bool tablesPay(const Batch& x) {
  long lit = 0;
  for (int f = 0; f < x.frames; ++f)
    for (int b = 0; b < x.bytes; ++b) lit += __builtin_popcount(x.byteAt(f, b));
  return 2.0 / 3 * x.frames * x.bytes + 32.0 * x.bytes < lit;
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
    std::vector<int32_t> qRe(np), qIm(np);
    for (int q = a; q < b; ++q) {
      fillQuantizedTile(seed, epoch, pixels, p0, p1, mirrors, q, q + 1, qRe.data(), qIm.data(), np);
      float* colRe = re + (q - q0) * np;
      float* colIm = im + (q - q0) * np;
      for (long i = 0; i < np; ++i) colRe[i] = static_cast<float>(qRe[i]) * (1.0f / kMediumScale);
      for (long i = 0; i < np; ++i) colIm[i] = static_cast<float>(qIm[i]) * (1.0f / kMediumScale);
    }
  });
}

void mediumFields(uint32_t seed, uint32_t epoch, const int32_t* pixels, int m, const int32_t* mirrors, int n,
                  const uint8_t* packed, int frames, const float* cachedRe, const float* cachedIm, int kernel,
                  float* outRe, float* outIm) {
  const Columns src{seed, epoch, pixels, m, mirrors, cachedRe, cachedIm};
  const Batch x{packed, frames, n, (n + 7) / 8, n % 8 ? (1u << (n % 8)) - 1 : 0xffu};
  if (frames == 0 || m == 0) return;
  if (n == 0) {
    const std::vector<int32_t> zeros(m, 0);
    for (int f = 0; f < frames; ++f)
      writeRow(zeros.data(), zeros.data(), m, outRe + static_cast<long>(f) * m, outIm ? outIm + static_cast<long>(f) * m : nullptr);
    return;
  }
  if (kernel == kFieldGrouped || kernel == kFieldAuto) {
    std::vector<uint64_t> keys;
    if (std::shared_ptr<Grouping> g = groupingFor(src, x, keys)) return groupedKernel(*g, keys, m, frames, outRe, outIm);
  }
  const bool denseFits = denseAvailable() && cachedRe && static_cast<size_t>(n) * m * 4 <= kMaxPackedBytes;
  if (kernel == kFieldDense || (kernel == kFieldAuto && tablesPay(x))) {
    if (denseFits && kernel != kFieldTables) return denseKernel(src, x, outRe, outIm);
    return tablesKernel(src, x, outRe, outIm);
  }
  if (kernel == kFieldTables) return tablesKernel(src, x, outRe, outIm);
  listsKernel(src, x, outRe, outIm);
}

}  // namespace opu

// The GEMM driver shared by sgemm (float) and dgemm (double): a BLIS-style C = alpha·op(A)·op(B) + beta·C, row-major.
// C is cut into MC×NC blocks, op(A) and op(B) are packed into contiguous micro-panels (which absorbs the transposes),
// and a register-blocked MR×NR micro-kernel does the arithmetic. Rows (or columns) of C are split across the thread
// pool; each thread packs its own panels, so no synchronization is needed inside a call.
//
// Only the block sizes (Blocking<T>) and the micro-kernels' vector types (Avx512<T>, Avx2<T>) depend on the element
// type. Every product of C is summed in depth order inside one micro-kernel per depth block of at most KC, so a
// result depends on the path and the block sizes, not on the thread count or the split.
#pragma once

#include "runtime/simd.h"

#if OPU_NATIVE_X86_SIMD
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/pool.h"

namespace opu::gemm {

using Index = std::ptrdiff_t;

enum class Path { Avx512, Avx2, Portable };

// The micro-kernel every GEMM (and dense.cc's vector loops) runs, chosen once. OPU_NATIVE_SIMD=avx2 or =portable caps
// the instruction set (to test and compare the paths on one machine).
inline Path path() {
  static const Path chosen = [] {
#if OPU_NATIVE_X86_SIMD
    __builtin_cpu_init();
    const char* cap = std::getenv("OPU_NATIVE_SIMD");
    const bool portableOnly = cap && std::strcmp(cap, "portable") == 0;
    const bool noAvx512 = portableOnly || (cap && std::strcmp(cap, "avx2") == 0);
    if (!noAvx512 && __builtin_cpu_supports("avx512f")) return Path::Avx512;
    if (!portableOnly && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Path::Avx2;
#endif
    return Path::Portable;
  }();
  return chosen;
}

// "avx512f", "avx2-fma" or "portable".
inline const char* pathName() {
  switch (path()) {
    case Path::Avx512: return "avx512f";
    case Path::Avx2: return "avx2-fma";
    case Path::Portable: return "portable";
  }
  return "portable";
}

// Block sizes per element type, indexed by Path: the micro-tile MR×NR (two vectors wide on the SIMD paths), the MC
// rows of packed A kept in L2, the depth KC of a packed block, the NC columns of packed B (3 MB) kept in L3.
template <typename T>
struct Blocking;
template <>
struct Blocking<float> {
  static constexpr int mr[3] = {12, 6, 6};
  static constexpr int nr[3] = {32, 16, 16};
  static constexpr int mc[3] = {96, 72, 72};
  static constexpr int KC = 256;
  static constexpr int NC = 3072;
};
template <>
struct Blocking<double> {
  static constexpr int mr[3] = {12, 6, 4};
  static constexpr int nr[3] = {16, 8, 8};
  static constexpr int mc[3] = {96, 72, 64};
  static constexpr int KC = 256;  // an MR×KC panel of A (24 KB at MR = 12) stays in L1
  static constexpr int NC = 1536;
};

template <typename T>
struct Operand {
  const T* data;
  int ld;
  bool trans;
};

// Packs op(A)[i0 .. i0+mc, p0 .. p0+kc] into MR-row micro-panels, depth-major, zero-padded to whole panels, each
// panel kc·MR values apart. Depths at which a whole panel is zero are left out (MNIST's blank pixels: about 45% of a
// 12-image panel's depths): the panel keeps its other depths in order, their indices go to depths[panel·kc ..] and
// their number to kept[panel]. Leaving out a zero product only changes the sign of a zero sum, or a NaN from 0·∞ in B.
template <int MR, typename T>
void packA(const Operand<T>& A, int i0, int mc, int p0, int kc, T* out, int* depths, int* kept) {
  for (int ir = 0; ir < mc; ir += MR, out += static_cast<Index>(kc) * MR, depths += kc) {
    const int rows = std::min(MR, mc - ir);
    if (A.trans) {
      // The MR values of one depth are a contiguous run of a row of A.
      for (int p = 0; p < kc; ++p) {
        const T* src = A.data + static_cast<Index>(p0 + p) * A.ld + i0 + ir;
        for (int r = 0; r < MR; ++r) out[p * MR + r] = r < rows ? src[r] : T(0);
      }
    } else {
      // Row r of the panel is a contiguous run of a row of A: read it sequentially.
      for (int r = 0; r < MR; ++r) {
        const T* src = A.data + static_cast<Index>(i0 + ir + r) * A.ld + p0;
        for (int p = 0; p < kc; ++p) out[p * MR + r] = r < rows ? src[p] : T(0);
      }
    }
    int count = 0;
    for (int p = 0; p < kc; ++p) {
      bool zero = true;
      for (int r = 0; r < MR; ++r) zero = zero && out[p * MR + r] == T(0);
      if (zero) continue;
      if (count != p) std::memcpy(out + count * MR, out + p * MR, MR * sizeof(T));
      depths[count++] = p;
    }
    kept[ir / MR] = count;
  }
}

// Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into NR-column micro-panels, depth-major, zero-padded.
template <int NR, typename T>
void packB(const Operand<T>& B, int p0, int kc, int j0, int nc, T* out) {
  for (int jr = 0; jr < nc; jr += NR, out += static_cast<Index>(kc) * NR) {
    const int cols = std::min(NR, nc - jr);
    if (B.trans) {
      // Column c of the panel is a contiguous run of a row of B.
      for (int c = 0; c < NR; ++c) {
        const T* src = B.data + static_cast<Index>(j0 + jr + c) * B.ld + p0;
        for (int p = 0; p < kc; ++p) out[p * NR + c] = c < cols ? src[p] : T(0);
      }
      continue;
    }
    for (int p = 0; p < kc; ++p) {
      const T* src = B.data + static_cast<Index>(p0 + p) * B.ld + j0 + jr;
      if (cols == NR) std::memcpy(out + p * NR, src, NR * sizeof(T));
      else for (int c = 0; c < NR; ++c) out[p * NR + c] = c < cols ? src[c] : T(0);
    }
  }
}

// A momentum-SGD step fused into a weight-gradient product: instead of storing G = alpha·op(A)·op(B), the last depth
// block of each tile does v = momentum·v + (G + decay·p); p −= rate·v on the tile's entries, with the operations of
// sgdStep in its order, so the fused step gives the same bits as sgemm followed by sgdStep. p and v are the tile's
// top-left entries, with the leading dimension of C.
template <typename T>
struct SgdUpdate {
  T* p;
  T* v;
  T rate;
  T momentum;
  T decay;
};

// The block of C a micro-kernel adds alpha·(A panel · B panel) to; edge tiles have fewer rows or columns.
template <typename T>
struct Tile {
  T* c;
  int ldc;
  int rows;
  int cols;
  T alpha;
  // The first depth block of a product with beta = 0 stores instead of adding: C is never read, so it needs no
  // zeroing pass and NaN already in it cannot leak through 0·C.
  bool overwrite;
  // Set on the last depth block of a fused SGD step: the product goes into the update, not into C.
  SgdUpdate<T> sgd;
  bool fusedSgd;
  // g = C + alpha·acc (0 + alpha·acc when overwriting), then stored or applied as an SGD step.
  void addPartial(const T* acc, int nr) const {
    for (int r = 0; r < rows; ++r) {
      T* row = c + static_cast<Index>(r) * ldc;
      for (int j = 0; j < cols; ++j) {
        const T g = (overwrite ? T(0) : row[j]) + alpha * acc[r * nr + j];
        if (!fusedSgd) {
          row[j] = g;
          continue;
        }
        const Index at = static_cast<Index>(r) * ldc + j;
        sgd.v[at] = sgd.momentum * sgd.v[at] + (g + sgd.decay * sgd.p[at]);
        sgd.p[at] -= sgd.rate * sgd.v[at];
      }
    }
  }
};

template <typename T>
using Micro = void (*)(int, const T*, const T*, const int*, const Tile<T>&);

// C tile += alpha · packed A panel · packed B panel, the whole MR×NR block of C in registers. The A panel holds
// `kept` depths; depths[q] is where the q-th one's row of the B panel is. One micro-kernel per
// instruction set: 12 rows of two AVX-512 vectors, 6 rows of two AVX2 vectors, and a plain loop for the compiler.
#if OPU_NATIVE_X86_SIMD
// The vector operations the micro-kernels use, per instruction set and element type: Vec<T>::Reg holds `lanes`
// values of T, and each operation is the intrinsic _mm{width}_{op}_{ps|pd}.
template <typename T>
struct Avx512;
template <typename T>
struct Avx2;
#define OPU_GEMM_VECTOR(Vec, T, RegType, width, isa, sfx)                                                            \
  template <>                                                                                                        \
  struct Vec<T> {                                                                                                    \
    using Reg = RegType;                                                                                             \
    static constexpr int lanes = static_cast<int>(sizeof(RegType) / sizeof(T));                                      \
    static inline __attribute__((always_inline, target(isa))) Reg zero() { return width##_setzero_##sfx(); }        \
    static inline __attribute__((always_inline, target(isa))) Reg set1(T x) { return width##_set1_##sfx(x); }       \
    static inline __attribute__((always_inline, target(isa))) Reg load(const T* p) { return width##_loadu_##sfx(p); } \
    static inline __attribute__((always_inline, target(isa))) void store(T* p, Reg x) { width##_storeu_##sfx(p, x); } \
    static inline __attribute__((always_inline, target(isa))) void storeAligned(T* p, Reg x) {                      \
      width##_store_##sfx(p, x);                                                                                     \
    }                                                                                                                \
    static inline __attribute__((always_inline, target(isa))) Reg fmadd(Reg a, Reg b, Reg c) {                      \
      return width##_fmadd_##sfx(a, b, c);                                                                           \
    }                                                                                                                \
    static inline __attribute__((always_inline, target(isa))) Reg add(Reg a, Reg b) {                                \
      return width##_add_##sfx(a, b);                                                                                \
    }                                                                                                                \
    static inline __attribute__((always_inline, target(isa))) Reg mul(Reg a, Reg b) {                                \
      return width##_mul_##sfx(a, b);                                                                                \
    }                                                                                                                \
    static inline __attribute__((always_inline, target(isa))) Reg sub(Reg a, Reg b) {                                \
      return width##_sub_##sfx(a, b);                                                                                \
    }                                                                                                                \
  };
OPU_GEMM_VECTOR(Avx512, float, __m512, _mm512, "avx512f", ps)
OPU_GEMM_VECTOR(Avx512, double, __m512d, _mm512, "avx512f", pd)
OPU_GEMM_VECTOR(Avx2, float, __m256, _mm256, "avx2,fma", ps)
OPU_GEMM_VECTOR(Avx2, double, __m256d, _mm256, "avx2,fma", pd)
#undef OPU_GEMM_VECTOR

// One body for both SIMD micro-kernels: a target attribute cannot depend on a template parameter, and the vector
// operations only inline into a function compiled for their instruction set, so the body is stamped out per target.
#define OPU_GEMM_SIMD_MICRO(name, isa, Vec, pathIndex)                                                   \
  template <typename T>                                                                                  \
  __attribute__((target(isa))) void name(int kept, const T* a, const T* b, const int* depths,           \
                                         const Tile<T>& t) {                                             \
    using V = Vec<T>;                                                                                    \
    using Reg = typename V::Reg;                                                                         \
    constexpr int MR = Blocking<T>::mr[pathIndex];                                                       \
    constexpr int NR = 2 * V::lanes;                                                                     \
    static_assert(NR == Blocking<T>::nr[pathIndex], "a micro-tile row is two vectors");                  \
    Reg c[MR][2];                                                                                        \
    for (int r = 0; r < MR; ++r) c[r][0] = c[r][1] = V::zero();                                          \
    for (int q = 0; q < kept; ++q) {                                                                     \
      const T* bq = b + static_cast<Index>(depths[q]) * NR;                                              \
      const Reg b0 = V::load(bq);                                                                        \
      const Reg b1 = V::load(bq + V::lanes);                                                             \
      /* Unrolled whatever the optimization level, so that c stays in registers. */                      \
      _Pragma("GCC unroll 12") for (int r = 0; r < MR; ++r) {                                            \
        const Reg ar = V::set1(a[r]);                                                                    \
        c[r][0] = V::fmadd(ar, b0, c[r][0]);                                                             \
        c[r][1] = V::fmadd(ar, b1, c[r][1]);                                                             \
      }                                                                                                  \
      a += MR;                                                                                           \
    }                                                                                                    \
    const Reg alpha = V::set1(t.alpha);                                                                  \
    if (t.rows == MR && t.cols == NR) {                                                                  \
      for (int r = 0; r < MR; ++r) {                                                                     \
        T* row = t.c + static_cast<Index>(r) * t.ldc;                                                    \
        for (int h = 0; h < 2; ++h) {                                                                    \
          const Reg old = t.overwrite ? V::zero() : V::load(row + h * V::lanes);                         \
          const Reg g = V::add(old, V::mul(alpha, c[r][h]));                                             \
          if (!t.fusedSgd) {                                                                             \
            V::store(row + h * V::lanes, g);                                                             \
            continue;                                                                                    \
          }                                                                                              \
          /* sgdStep's operations in its order: v = momentum·v + (g + decay·p); p −= rate·v. */         \
          const Index at = static_cast<Index>(r) * t.ldc + h * V::lanes;                                 \
          const Reg p = V::load(t.sgd.p + at);                                                           \
          const Reg v = V::add(V::mul(V::set1(t.sgd.momentum), V::load(t.sgd.v + at)),                   \
                               V::add(g, V::mul(V::set1(t.sgd.decay), p)));                              \
          V::store(t.sgd.v + at, v);                                                                     \
          V::store(t.sgd.p + at, V::sub(p, V::mul(V::set1(t.sgd.rate), v)));                             \
        }                                                                                                \
      }                                                                                                  \
      return;                                                                                            \
    }                                                                                                    \
    alignas(64) T acc[MR * NR];                                                                          \
    for (int r = 0; r < MR; ++r) {                                                                       \
      V::storeAligned(acc + r * NR, c[r][0]);                                                            \
      V::storeAligned(acc + r * NR + V::lanes, c[r][1]);                                                 \
    }                                                                                                    \
    t.addPartial(acc, NR);                                                                               \
  }

OPU_GEMM_SIMD_MICRO(micro512, "avx512f", Avx512, 0)
OPU_GEMM_SIMD_MICRO(micro256, "avx2,fma", Avx2, 1)
#undef OPU_GEMM_SIMD_MICRO
#endif

template <typename T, int MR, int NR>
void microPortable(int kept, const T* a, const T* b, const int* depths, const Tile<T>& t) {
  T c[MR][NR] = {};
  for (int q = 0; q < kept; ++q) {
    const T* bq = b + static_cast<Index>(depths[q]) * NR;
    for (int r = 0; r < MR; ++r) {
      const T ar = a[r];
      for (int j = 0; j < NR; ++j) c[r][j] += ar * bq[j];
    }
    a += MR;
  }
  t.addPartial(&c[0][0], NR);
}

// The block [m0, m1) × [n0, n1) of C += alpha·op(A)·op(B) with an MR×NR micro-kernel; MC rows of packed A stay in L2.
// With `sgd`, the last depth block applies the product as an SGD step to sgd's p and v (laid out as C) instead.
template <typename T, int MR, int NR, int MC>
void gemmBlock(Micro<T> kernel, const Operand<T>& A, const Operand<T>& B, int m0, int m1, int n0, int n1, int k,
               T alpha, bool overwrite, T* C, int ldc, const SgdUpdate<T>* sgd) {
  constexpr int KC = Blocking<T>::KC, NC = Blocking<T>::NC;
  thread_local std::vector<T> aPack, bPack;
  thread_local std::vector<int> aDepths, aKept;
  aPack.resize(static_cast<std::size_t>(MC) * KC);
  aDepths.resize(static_cast<std::size_t>(MC) * KC);
  aKept.resize(MC / MR + 1);
  bPack.resize(static_cast<std::size_t>(KC) * (NC + NR));
  for (int j0 = n0; j0 < n1; j0 += NC) {
    const int nc = std::min(NC, n1 - j0);
    // Depth in equal blocks of at most KC: a short last block would pay a whole pass over C for little work.
    const int kBlocks = (k + KC - 1) / KC;
    for (int block = 0, p0 = 0; block < kBlocks; ++block) {
      const int kc = (k - p0) / (kBlocks - block);
      const bool fusedSgd = sgd && block == kBlocks - 1;
      packB<NR>(B, p0, kc, j0, nc, bPack.data());
      for (int i0 = m0; i0 < m1; i0 += MC) {
        const int mc = std::min(MC, m1 - i0);
        packA<MR>(A, i0, mc, p0, kc, aPack.data(), aDepths.data(), aKept.data());
        for (int jr = 0; jr < nc; jr += NR) {
          const T* b = bPack.data() + static_cast<std::size_t>(jr) * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            const Index at = static_cast<Index>(i0 + ir) * ldc + j0 + jr;
            const SgdUpdate<T> update = fusedSgd ? SgdUpdate<T>{sgd->p + at, sgd->v + at, sgd->rate, sgd->momentum,
                                                                sgd->decay}
                                                 : SgdUpdate<T>{};
            const Tile<T> tile{C + at,  ldc,    std::min(MR, mc - ir), std::min(NR, nc - jr), alpha, overwrite && block == 0,
                               update, fusedSgd};
            kernel(aKept[ir / MR], aPack.data() + static_cast<std::size_t>(ir) * kc, b,
                   aDepths.data() + static_cast<std::size_t>(ir / MR) * kc, tile);
          }
        }
      }
      p0 += kc;
    }
  }
}

template <typename T>
void gemmBlockOnPath(const Operand<T>& A, const Operand<T>& B, int m0, int m1, int n0, int n1, int k, T alpha,
                     bool overwrite, T* C, int ldc, const SgdUpdate<T>* sgd) {
  using S = Blocking<T>;
  switch (path()) {
#if OPU_NATIVE_X86_SIMD
    case Path::Avx512:
      return gemmBlock<T, S::mr[0], S::nr[0], S::mc[0]>(micro512<T>, A, B, m0, m1, n0, n1, k, alpha, overwrite, C, ldc,
                                                        sgd);
    case Path::Avx2:
      return gemmBlock<T, S::mr[1], S::nr[1], S::mc[1]>(micro256<T>, A, B, m0, m1, n0, n1, k, alpha, overwrite, C, ldc,
                                                        sgd);
#endif
    default:
      return gemmBlock<T, S::mr[2], S::nr[2], S::mc[2]>(microPortable<T, S::mr[2], S::nr[2]>, A, B, m0, m1, n0, n1, k,
                                                        alpha, overwrite, C, ldc, sgd);
  }
}

// C (+)= alpha·op(A)·op(B), or with `sgd` the SGD step of that product, the blocks of C split over the pool.
template <typename T>
void product(bool transA, bool transB, int m, int n, int k, T alpha, const T* A, int lda, const T* B, int ldb,
             bool overwrite, T* C, int ldc, const SgdUpdate<T>* sgd) {
  const Operand<T> a{A, lda, transA};
  const Operand<T> b{B, ldb, transB};
  // One block per thread. Splitting rows makes every thread pack all of op(B); splitting columns makes every thread
  // pack all of op(A). Split the dimension whose other operand is the larger one to pack (a training batch of 128
  // rows against a 800×800 weight matrix splits columns).
  const Index work = static_cast<Index>(m) * n * k;
  const bool byRows = m >= n;
  const int pathIndex = static_cast<int>(path());
  const int quantum = byRows ? Blocking<T>::mr[pathIndex] : Blocking<T>::nr[pathIndex];
  const int extent = byRows ? m : n;
  const int tasks = work < (Index{1} << 18) ? 1 : std::min(threads(), (extent + quantum - 1) / quantum);
  const int perTask = ((extent + tasks - 1) / tasks + quantum - 1) / quantum * quantum;
  parallelFor(tasks, [&](int t) {
    const int lo = t * perTask;
    const int hi = std::min(extent, lo + perTask);
    if (lo >= hi) return;
    if (byRows) gemmBlockOnPath(a, b, lo, hi, 0, n, k, alpha, overwrite, C, ldc, sgd);
    else gemmBlockOnPath(a, b, 0, m, lo, hi, k, alpha, overwrite, C, ldc, sgd);
  });
}

// C = alpha·op(A)·op(B) + beta·C, op(X) = X or Xᵀ: op(A) is m×k, op(B) k×n, C m×n; lda, ldb, ldc are the elements
// between consecutive stored rows. beta = 0 overwrites C, so NaN already in it does not leak through 0·C.
template <typename T>
void gemm(bool transA, bool transB, int m, int n, int k, T alpha, const T* A, int lda, const T* B, int ldb, T beta,
          T* C, int ldc) {
  if (m <= 0 || n <= 0) return;
  const bool hasProduct = k > 0 && alpha != T(0);
  // With a product to add and beta = 0, its first depth block does the overwriting.
  if (!hasProduct || beta != T(0)) {
    for (int i = 0; i < m; ++i) {
      T* row = C + static_cast<Index>(i) * ldc;
      if (beta == T(0)) std::fill(row, row + n, T(0));
      else if (beta != T(1)) for (int j = 0; j < n; ++j) row[j] *= beta;
    }
  }
  if (!hasProduct) return;
  product<T>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta == T(0), C, ldc, nullptr);
}

// The momentum-SGD step of p (m×n, row-major) with the gradient G = alpha·op(A)·op(B), G never stored:
// v = momentum·v + (G + decay·p); p −= rate·v, the same bits as gemm into G then sgdStep.
template <typename T>
void gemmSgdStep(bool transA, bool transB, int m, int n, int k, T alpha, const T* A, int lda, const T* B, int ldb,
                 T* p, T* v, T rate, T momentum, T decay) {
  if (m <= 0 || n <= 0) return;
  // An empty product is G = 0: the step runs on zeros.
  if (k <= 0 || alpha == T(0)) {
    for (Index i = 0; i < static_cast<Index>(m) * n; ++i) {
      v[i] = momentum * v[i] + (T(0) + decay * p[i]);
      p[i] -= rate * v[i];
    }
    return;
  }
  const SgdUpdate<T> sgd{p, v, rate, momentum, decay};
  // Depth beyond one block sums its partial products in G before the last block applies them; with one block, C is
  // neither read nor written (v stands in for it).
  std::vector<T> partial(k > Blocking<T>::KC ? static_cast<std::size_t>(m) * n : 0);
  product<T>(transA, transB, m, n, k, alpha, A, lda, B, ldb, true, partial.empty() ? v : partial.data(), n, &sgd);
}

}  // namespace opu::gemm

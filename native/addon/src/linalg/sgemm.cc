// A BLIS-style GEMM: C is cut into MC×NC blocks, op(A) and op(B) are packed into contiguous micro-panels (which
// absorbs the transposes), and a 6×16 register-blocked micro-kernel does the arithmetic. Rows of C are split
// across the thread pool; each thread packs its own panels, so no synchronization is needed inside a call.
#include "linalg/sgemm.h"

#include "runtime/simd.h"

#if OPU_NATIVE_X86_SIMD
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/pool.h"

namespace opu {
namespace {

constexpr int KC = 256;
constexpr int NC = 3072;  // KC×NC floats of B (3 MB) stay in L3

struct Matrix {
  const float* data;
  int ld;
  bool trans;
  // Element (r, c) of op(X).
  float at(int r, int c) const { return trans ? data[static_cast<long>(c) * ld + r] : data[static_cast<long>(r) * ld + c]; }
};

// Packs op(A)[i0 .. i0+mc, p0 .. p0+kc] into MR-row micro-panels, k-major, zero-padded to whole panels.
template <int MR>
void packA(const Matrix& A, int i0, int mc, int p0, int kc, float* out) {
  for (int ir = 0; ir < mc; ir += MR) {
    const int rows = std::min(MR, mc - ir);
    for (int p = 0; p < kc; ++p) {
      for (int r = 0; r < MR; ++r) *out++ = r < rows ? A.at(i0 + ir + r, p0 + p) : 0.0f;
    }
  }
}

// Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into NR-column micro-panels, k-major, zero-padded.
template <int NR>
void packB(const Matrix& B, int p0, int kc, int j0, int nc, float* out) {
  for (int jr = 0; jr < nc; jr += NR) {
    const int cols = std::min(NR, nc - jr);
    if (B.trans) {
      // Column c of the panel is a contiguous run of row j0 + jr + c of B: read it sequentially.
      for (int c = 0; c < NR; ++c) {
        if (c >= cols) {
          for (int p = 0; p < kc; ++p) out[p * NR + c] = 0.0f;
          continue;
        }
        const float* src = B.data + static_cast<long>(j0 + jr + c) * B.ld + p0;
        for (int p = 0; p < kc; ++p) out[p * NR + c] = src[p];
      }
      out += static_cast<long>(kc) * NR;
      continue;
    }
    for (int p = 0; p < kc; ++p) {
      if (cols == NR) {
        std::memcpy(out, B.data + static_cast<long>(p0 + p) * B.ld + j0 + jr, NR * sizeof(float));
        out += NR;
      } else {
        for (int c = 0; c < NR; ++c) *out++ = c < cols ? B.at(p0 + p, j0 + jr + c) : 0.0f;
      }
    }
  }
}

// The block of C a micro-kernel adds alpha·(A panel · B panel) to; edge tiles have fewer rows or columns.
struct Tile {
  float* c;
  int ldc;
  int rows;
  int cols;
  float alpha;
  // The first K block of a product with beta = 0 stores instead of adding: C is never read, so it needs no zeroing
  // pass and NaN already in it cannot leak through 0·C.
  bool overwrite;
  void addPartial(const float* acc, int nr) const {
    for (int r = 0; r < rows; ++r) {
      float* row = c + static_cast<long>(r) * ldc;
      for (int j = 0; j < cols; ++j) row[j] = (overwrite ? 0.0f : row[j]) + alpha * acc[r * nr + j];
    }
  }
};

// C tile += alpha · packed A panel · packed B panel. One micro-kernel per instruction set; each keeps its
// whole MR×NR block of C in registers.
#if OPU_NATIVE_X86_SIMD
__attribute__((target("avx512f"))) void micro512(int kc, const float* a, const float* b, const Tile& t) {
  constexpr int MR = 12;
  __m512 c[MR][2];
  for (int r = 0; r < MR; ++r) c[r][0] = c[r][1] = _mm512_setzero_ps();
  for (int p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
    for (int r = 0; r < MR; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      c[r][0] = _mm512_fmadd_ps(ar, b0, c[r][0]);
      c[r][1] = _mm512_fmadd_ps(ar, b1, c[r][1]);
    }
    a += MR;
    b += 32;
  }
  const __m512 alpha = _mm512_set1_ps(t.alpha);
  if (t.rows == MR && t.cols == 32) {
    for (int r = 0; r < MR; ++r) {
      float* row = t.c + static_cast<long>(r) * t.ldc;
      const __m512 old0 = t.overwrite ? _mm512_setzero_ps() : _mm512_loadu_ps(row);
      const __m512 old1 = t.overwrite ? _mm512_setzero_ps() : _mm512_loadu_ps(row + 16);
      _mm512_storeu_ps(row, _mm512_add_ps(old0, _mm512_mul_ps(alpha, c[r][0])));
      _mm512_storeu_ps(row + 16, _mm512_add_ps(old1, _mm512_mul_ps(alpha, c[r][1])));
    }
    return;
  }
  alignas(64) float acc[MR * 32];
  for (int r = 0; r < MR; ++r) {
    _mm512_store_ps(acc + r * 32, c[r][0]);
    _mm512_store_ps(acc + r * 32 + 16, c[r][1]);
  }
  t.addPartial(acc, 32);
}

__attribute__((target("avx2,fma"))) void micro256(int kc, const float* a, const float* b, const Tile& t) {
  constexpr int MR = 6;
  __m256 c[MR][2];
  for (int r = 0; r < MR; ++r) c[r][0] = c[r][1] = _mm256_setzero_ps();
  for (int p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    for (int r = 0; r < MR; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
      c[r][0] = _mm256_fmadd_ps(ar, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(ar, b1, c[r][1]);
    }
    a += MR;
    b += 16;
  }
  const __m256 alpha = _mm256_set1_ps(t.alpha);
  if (t.rows == MR && t.cols == 16) {
    for (int r = 0; r < MR; ++r) {
      float* row = t.c + static_cast<long>(r) * t.ldc;
      const __m256 old0 = t.overwrite ? _mm256_setzero_ps() : _mm256_loadu_ps(row);
      const __m256 old1 = t.overwrite ? _mm256_setzero_ps() : _mm256_loadu_ps(row + 8);
      _mm256_storeu_ps(row, _mm256_add_ps(old0, _mm256_mul_ps(alpha, c[r][0])));
      _mm256_storeu_ps(row + 8, _mm256_add_ps(old1, _mm256_mul_ps(alpha, c[r][1])));
    }
    return;
  }
  alignas(32) float acc[MR * 16];
  for (int r = 0; r < MR; ++r) {
    _mm256_store_ps(acc + r * 16, c[r][0]);
    _mm256_store_ps(acc + r * 16 + 8, c[r][1]);
  }
  t.addPartial(acc, 16);
}
#endif

void microPortable(int kc, const float* a, const float* b, const Tile& t) {
  constexpr int MR = 6, NR = 16;
  float c[MR][NR] = {};
  for (int p = 0; p < kc; ++p) {
    for (int r = 0; r < MR; ++r) {
      const float ar = a[r];
      for (int j = 0; j < NR; ++j) c[r][j] += ar * b[j];
    }
    a += MR;
    b += NR;
  }
  t.addPartial(&c[0][0], NR);
}

using Micro = void (*)(int, const float*, const float*, const Tile&);

// The block [m0, m1) × [n0, n1) of C += alpha·op(A)·op(B) with an MR×NR micro-kernel; MC rows of packed A stay
// in L2.
template <int MR, int NR, int MC>
void gemmBlock(Micro kernel, const Matrix& A, const Matrix& B, int m0, int m1, int n0, int n1, int k, float alpha,
               bool overwrite, float* C, int ldc) {
  thread_local std::vector<float> aPack, bPack;
  aPack.resize(static_cast<size_t>(MC) * KC);
  bPack.resize(static_cast<size_t>(KC) * (NC + NR));
  for (int j0 = n0; j0 < n1; j0 += NC) {
    const int nc = std::min(NC, n1 - j0);
    // K in equal blocks of at most KC: a short last block would pay a whole pass over C for little work.
    const int kBlocks = (k + KC - 1) / KC;
    for (int block = 0, p0 = 0; block < kBlocks; ++block) {
      const int kc = (k - p0) / (kBlocks - block);
      packB<NR>(B, p0, kc, j0, nc, bPack.data());
      for (int i0 = m0; i0 < m1; i0 += MC) {
        const int mc = std::min(MC, m1 - i0);
        packA<MR>(A, i0, mc, p0, kc, aPack.data());
        for (int jr = 0; jr < nc; jr += NR) {
          const float* b = bPack.data() + static_cast<size_t>(jr) * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            const Tile tile{C + static_cast<long>(i0 + ir) * ldc + j0 + jr, ldc, std::min(MR, mc - ir),
                            std::min(NR, nc - jr), alpha, overwrite && block == 0};
            kernel(kc, aPack.data() + static_cast<size_t>(ir) * kc, b, tile);
          }
        }
      }
      p0 += kc;
    }
  }
}

enum class Path { Avx512, Avx2, Portable };

Path path() {
  // OPU_NATIVE_SIMD=avx2 or =portable caps the instruction set (to test and compare the paths on one machine).
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

int rowQuantum() { return path() == Path::Avx512 ? 12 : 6; }
int columnQuantum() { return path() == Path::Avx512 ? 32 : 16; }

void gemmBlockOnPath(const Matrix& A, const Matrix& B, int m0, int m1, int n0, int n1, int k, float alpha,
                     bool overwrite, float* C, int ldc) {
  switch (path()) {
#if OPU_NATIVE_X86_SIMD
    case Path::Avx512: return gemmBlock<12, 32, 96>(micro512, A, B, m0, m1, n0, n1, k, alpha, overwrite, C, ldc);
    case Path::Avx2: return gemmBlock<6, 16, 72>(micro256, A, B, m0, m1, n0, n1, k, alpha, overwrite, C, ldc);
#endif
    default: return gemmBlock<6, 16, 72>(microPortable, A, B, m0, m1, n0, n1, k, alpha, overwrite, C, ldc);
  }
}

}  // namespace

const char* sgemmPath() {
  switch (path()) {
    case Path::Avx512: return "avx512f";
    case Path::Avx2: return "avx2-fma";
    case Path::Portable: return "portable";
  }
  return "portable";
}

void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
           float beta, float* C, int ldc) {
  if (m <= 0 || n <= 0) return;
  const bool product = k > 0 && alpha != 0.0f;
  // beta = 0 overwrites, so NaN or garbage already in C does not leak through 0·C; with a product to add, its first
  // K block does the overwriting.
  if (!product || beta != 0.0f) {
    for (int i = 0; i < m; ++i) {
      float* row = C + static_cast<long>(i) * ldc;
      if (beta == 0.0f) std::fill(row, row + n, 0.0f);
      else if (beta != 1.0f) for (int j = 0; j < n; ++j) row[j] *= beta;
    }
  }
  if (!product) return;
  const bool overwrite = beta == 0.0f;
  const Matrix a{A, lda, transA};
  const Matrix b{B, ldb, transB};
  // One block per thread. Splitting rows makes every thread pack all of op(B); splitting columns makes every thread
  // pack all of op(A). Split the dimension whose other operand is the larger one to pack (a training batch of 128
  // rows against a 800×800 weight matrix splits columns).
  const long work = static_cast<long>(m) * n * k;
  const bool byRows = m >= n;
  const int quantum = byRows ? rowQuantum() : columnQuantum();
  const int extent = byRows ? m : n;
  const int tasks = work < (1L << 18) ? 1 : std::min(threads(), (extent + quantum - 1) / quantum);
  const int perTask = ((extent + tasks - 1) / tasks + quantum - 1) / quantum * quantum;
  parallelFor(tasks, [&](int t) {
    const int lo = t * perTask;
    const int hi = std::min(extent, lo + perTask);
    if (lo >= hi) return;
    if (byRows) gemmBlockOnPath(a, b, lo, hi, 0, n, k, alpha, overwrite, C, ldc);
    else gemmBlockOnPath(a, b, 0, m, lo, hi, k, alpha, overwrite, C, ldc);
  });
}

}  // namespace opu

// Dense float64 linear algebra, row-major. The O(n³) part of every factorization is either dgemm (BLIS-style
// packing, register-blocked micro-kernels, the pool) or a vector loop over whole rows or columns compiled once per
// instruction set, so that the target sizes (Cholesky at n = 1100 with 2000 right-hand sides, QR of 2000×1000, SVD of
// 1000×2000) take milliseconds to a second instead of the seconds to minutes of scalar loops.
#include "linalg/dense.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "linalg/gemm.h"
#include "runtime/pool.h"
#include "runtime/simd.h"

namespace opu::dense {
namespace {

using Index = std::ptrdiff_t;

// Offset of element (row, col) of a row-major matrix with leading dimension ld, in a type that cannot overflow.
inline Index at(Index row, Index ld, Index col) { return row * ld + col; }

using gemm::Path;
using gemm::path;

// A vector loop is written once, as an always-inline body name##Body, and compiled for every instruction set; name()
// runs the variant path() picks. Bodies keep explicit partial sums and -ffp-contract=off keeps multiplies and adds
// apart, so every variant computes the same values; they differ only in how many lanes run at once.
#define OPU_DENSE_INLINE inline __attribute__((always_inline))
#if OPU_NATIVE_X86_SIMD
#define OPU_DENSE_VARIANTS(ret, name, params, args)                                      \
  __attribute__((target("avx512f"))) ret name##Avx512 params { return name##Body args; } \
  __attribute__((target("avx2,fma"))) ret name##Avx2 params { return name##Body args; }  \
  ret name params {                                                                      \
    switch (path()) {                                                                    \
      case Path::Avx512: return name##Avx512 args;                                       \
      case Path::Avx2: return name##Avx2 args;                                           \
      case Path::Portable: break;                                                        \
    }                                                                                    \
    return name##Body args;                                                              \
  }
#else
#define OPU_DENSE_VARIANTS(ret, name, params, args) \
  ret name params { return name##Body args; }
#endif

// ---------------------------------------------------------------------------------------------------------------
// Vector loops shared by the factorizations

// x·y over n values with 16 running sums: a fixed summation order whatever the vector width, and no single
// dependency chain.
OPU_DENSE_INLINE double dotBody(const double* __restrict x, const double* __restrict y, int n) {
  double sums[16] = {};
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int l = 0; l < 16; ++l) sums[l] += x[i + l] * y[i + l];
  }
  double total = 0.0;
  for (int l = 0; l < 16; ++l) total += sums[l];
  for (; i < n; ++i) total += x[i] * y[i];
  return total;
}
OPU_DENSE_VARIANTS(double, dot, (const double* x, const double* y, int n), (x, y, n))

// Rows [i0, i1) of the symmetric matrix whose lower triangle is t, times v: own[i] gets row i's lower part times v,
// and spill[j] (j < i) accumulates t_ij·v_i, the strict upper part of the product those rows hold.
OPU_DENSE_INLINE void symvRowsBody(const double* t, Index ld, const double* __restrict v, int i0, int i1,
                                   double* __restrict own, double* __restrict spill) {
  for (int i = i0; i < i1; ++i) {
    const double* __restrict row = t + at(i, ld, 0);
    const double vi = v[i];
    double sums[8] = {};
    int j = 0;
    for (; j + 8 <= i; j += 8) {
      for (int l = 0; l < 8; ++l) {
        sums[l] += row[j + l] * v[j + l];
        spill[j + l] += vi * row[j + l];
      }
    }
    double total = 0.0;
    for (int l = 0; l < 8; ++l) total += sums[l];
    for (; j < i; ++j) {
      total += row[j] * v[j];
      spill[j] += vi * row[j];
    }
    own[i] = total + row[i] * vi;
  }
}
OPU_DENSE_VARIANTS(void, symvRows,
                   (const double* t, Index ld, const double* v, int i0, int i1, double* own, double* spill),
                   (t, ld, v, i0, i1, own, spill))

// Rows [i0, i1) of the lower triangle of t −= v·wᵀ + w·vᵀ.
OPU_DENSE_INLINE void syr2RowsBody(double* t, Index ld, const double* __restrict v, const double* __restrict w, int i0,
                                   int i1) {
  for (int i = i0; i < i1; ++i) {
    double* __restrict row = t + at(i, ld, 0);
    const double vi = v[i];
    const double wi = w[i];
    for (int j = 0; j <= i; ++j) row[j] -= vi * w[j] + wi * v[j];
  }
}
OPU_DENSE_VARIANTS(void, syr2Rows, (double* t, Index ld, const double* v, const double* w, int i0, int i1),
                   (t, ld, v, w, i0, i1))

// ---------------------------------------------------------------------------------------------------------------
// Cholesky

constexpr int kCholeskyBlock = 96;
// Rows solved together against a diagonal block, held transposed so that the loop runs across them.
constexpr int kPanelRows = 8;

// Factors the nb×nb diagonal block d (updates from the blocks left of it already subtracted) in place, column by
// column as the TypeScript reference does; given[j] is a_jj as given, for the positive-definiteness test.
bool factorDiagonalBlock(double* d, int nb, const double* given) {
  for (int j = 0; j < nb; ++j) {
    double* rowJ = d + at(j, nb, 0);
    double pivot = rowJ[j];
    for (int p = 0; p < j; ++p) pivot -= rowJ[p] * rowJ[p];
    if (!(pivot > 1e-9 * std::fabs(given[j]))) return false;
    const double diagonal = std::sqrt(pivot);
    rowJ[j] = diagonal;
    for (int r = j + 1; r < nb; ++r) {
      double* rowR = d + at(r, nb, 0);
      double s = rowR[j];
      for (int p = 0; p < j; ++p) s -= rowR[p] * rowJ[p];
      rowR[j] = s / diagonal;
    }
  }
  return true;
}

// Rows [r0, r1) of the panel below a diagonal block: x ← x·L_d^{-T}, i.e. x_j = (x_j − Σ_{p<j} x_p·l_jp) / l_jj, with
// kPanelRows rows at a time held transposed so that every step is one vector operation across them.
OPU_DENSE_INLINE void solvePanelRowsBody(double* a, int n, int k0, int nb, const double* d, int r0, int r1) {
  double x[kCholeskyBlock][kPanelRows];
  for (int g0 = r0; g0 < r1; g0 += kPanelRows) {
    const int rows = std::min(kPanelRows, r1 - g0);
    for (int j = 0; j < nb; ++j) {
      for (int r = 0; r < kPanelRows; ++r) x[j][r] = r < rows ? a[at(g0 + r, n, k0 + j)] : 0.0;
    }
    for (int j = 0; j < nb; ++j) {
      const double* rowJ = d + at(j, nb, 0);
      double s[kPanelRows];
      for (int r = 0; r < kPanelRows; ++r) s[r] = x[j][r];
      for (int p = 0; p < j; ++p) {
        for (int r = 0; r < kPanelRows; ++r) s[r] -= x[p][r] * rowJ[p];
      }
      for (int r = 0; r < kPanelRows; ++r) x[j][r] = s[r] / rowJ[j];
    }
    for (int r = 0; r < rows; ++r) {
      for (int j = 0; j < nb; ++j) a[at(g0 + r, n, k0 + j)] = x[j][r];
    }
  }
}
OPU_DENSE_VARIANTS(void, solvePanelRows, (double* a, int n, int k0, int nb, const double* d, int r0, int r1),
                   (a, n, k0, nb, d, r0, r1))

// Rows [k0, k0+nb) of b (columns [0, cols), ld) solved against the diagonal block of L at k0, the contributions of
// the other blocks already subtracted: forward (L_kk·X = B) or backward (L_kkᵀ·X = B). Four rows are subtracted
// per pass so that the row being solved is loaded and stored once per four multiply-adds.
OPU_DENSE_INLINE void solveDiagonalBlockBody(const double* factor, int n, int k0, int nb, double* b, int ld, int cols,
                                             bool backward) {
  for (int step = 0; step < nb; ++step) {
    const int j = backward ? nb - 1 - step : step;
    double* __restrict to = b + at(k0 + j, ld, 0);
    // The solved rows this one depends on: p < j forward, p > j backward; coefficient l_jp or l_pj.
    const int p0 = backward ? j + 1 : 0;
    const int p1 = backward ? nb : j;
    auto coefficient = [&](int p) {
      return backward ? factor[at(k0 + p, n, k0 + j)] : factor[at(k0 + j, n, k0 + p)];
    };
    int p = p0;
    for (; p + 4 <= p1; p += 4) {
      const double a0 = coefficient(p), a1 = coefficient(p + 1), a2 = coefficient(p + 2), a3 = coefficient(p + 3);
      const double* __restrict f0 = b + at(k0 + p, ld, 0);
      const double* __restrict f1 = f0 + ld;
      const double* __restrict f2 = f1 + ld;
      const double* __restrict f3 = f2 + ld;
      for (int q = 0; q < cols; ++q) to[q] -= a0 * f0[q] + a1 * f1[q] + a2 * f2[q] + a3 * f3[q];
    }
    for (; p < p1; ++p) {
      const double a = coefficient(p);
      const double* __restrict from = b + at(k0 + p, ld, 0);
      for (int q = 0; q < cols; ++q) to[q] -= a * from[q];
    }
    const double scale = 1.0 / factor[at(k0 + j, n, k0 + j)];
    for (int q = 0; q < cols; ++q) to[q] *= scale;
  }
}
OPU_DENSE_VARIANTS(void, solveDiagonalBlock,
                   (const double* factor, int n, int k0, int nb, double* b, int ld, int cols, bool backward),
                   (factor, n, k0, nb, b, ld, cols, backward))

// L·Lᵀ·X = B for the columns [0, cols) of b (ld): blocked substitutions whose off-diagonal blocks are dgemm calls.
void solveColumns(const double* factor, int n, double* b, int ld, int cols) {
  for (int k0 = 0; k0 < n; k0 += kCholeskyBlock) {
    const int nb = std::min(kCholeskyBlock, n - k0);
    dgemm(false, false, nb, cols, k0, -1.0, factor + at(k0, n, 0), n, b, ld, 1.0, b + at(k0, ld, 0), ld);
    solveDiagonalBlock(factor, n, k0, nb, b, ld, cols, false);
  }
  for (int k0 = (n - 1) / kCholeskyBlock * kCholeskyBlock; k0 >= 0; k0 -= kCholeskyBlock) {
    const int nb = std::min(kCholeskyBlock, n - k0);
    const int k1 = k0 + nb;
    dgemm(true, false, nb, cols, n - k1, -1.0, factor + at(k1, n, k0), n, b + at(k1, ld, 0), ld, 1.0,
          b + at(k0, ld, 0), ld);
    solveDiagonalBlock(factor, n, k0, nb, b, ld, cols, true);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Householder reflectors, k at a time

// Reflectors H_g = I − tau_g·v_g·v_gᵀ, g = first .. first+count, on the rows ≥ first of a matrix; v_g is 0 above
// row g and 1 at it. Stored explicitly (length × count, length = rows − first) so that applying them together,
// H_first⋯H_last = I − V·T·Vᵀ (Schreiber and Van Loan's compact WY form), is two dgemm calls and a small one.
struct ReflectorBlock {
  int first = 0;
  int count = 0;
  int length = 0;
  std::vector<double> v;  // length × count
  std::vector<double> t;  // count × count, upper triangular (zeros below)
};

// T from V and the taus: T[0:c, c] = −tau_c·T[0:c, 0:c]·V[:, 0:c]ᵀ·v_c, T[c][c] = tau_c (LAPACK's dlarft).
void formT(ReflectorBlock& block, const double* tau) {
  const int count = block.count;
  std::vector<double> gram(static_cast<std::size_t>(count) * count);
  dgemm(true, false, count, count, block.length, 1.0, block.v.data(), count, block.v.data(), count, 0.0, gram.data(),
        count);
  block.t.assign(static_cast<std::size_t>(count) * count, 0.0);
  double* t = block.t.data();
  for (int c = 0; c < count; ++c) {
    t[at(c, count, c)] = tau[c];
    for (int i = 0; i < c; ++i) {
      double s = 0.0;
      for (int l = i; l < c; ++l) s += t[at(i, count, l)] * gram[at(l, count, c)];
      t[at(i, count, c)] = -tau[c] * s;
    }
  }
}

// Columns [col0, col1) of c (ld) ← (I − V·T·Vᵀ)·c, the block's product applied (transposed: its transpose, I −
// V·Tᵀ·Vᵀ, which is how a factorization eliminates). Only rows ≥ first change.
void applyBlock(const ReflectorBlock& block, double* c, int ld, int col0, int col1, bool transposed) {
  const int cols = col1 - col0;
  if (cols <= 0) return;
  double* sub = c + at(block.first, ld, col0);
  std::vector<double> y(static_cast<std::size_t>(block.count) * cols);
  std::vector<double> ty(y.size());
  dgemm(true, false, block.count, cols, block.length, 1.0, block.v.data(), block.count, sub, ld, 0.0, y.data(), cols);
  dgemm(transposed, false, block.count, cols, block.count, 1.0, block.t.data(), block.count, y.data(), cols, 0.0,
        ty.data(), cols);
  dgemm(false, false, block.length, cols, block.count, -1.0, block.v.data(), block.count, ty.data(), cols, 1.0, sub,
        ld);
}

// Columns per panel of the blocked QR: the panel (rows × 32 doubles) stays in L2, and the trailing updates are
// dgemm calls of depth 32.
constexpr int kPanelColumns = 32;

// Unblocked Householder QR of a panel (length × width, row-major, in place), LAPACK's dgeqr2 with one change: a column
// whose remainder (its part orthogonal to the previous reflectors) is not above dropBelow × columnNorms[j] makes no
// reflector, so the next reflector starts on the same row. Returns the reflectors made; madeBy[c] is the column of
// reflector c (which lives from row c down), tau[c] its tau. Above row c of column madeBy[c] is R; at row c, beta.
OPU_DENSE_INLINE int factorPanelBody(double* panel, int length, int width, const double* columnNorms, double dropBelow,
                                     double* tau, int* madeBy) {
  double w[kPanelColumns];
  int c = 0;
  for (int jl = 0; jl < width; ++jl) {
    double* x = panel + at(c, width, jl);
    const int below = length - c;
    const double alpha = x[0];
    double sigma = 0.0;
    for (int i = 1; i < below; ++i) sigma += x[at(i, width, 0)] * x[at(i, width, 0)];
    const double norm = std::sqrt(alpha * alpha + sigma);
    if (!(norm > dropBelow * columnNorms[jl])) continue;
    double t = 0.0;
    if (sigma > 0.0) {
      const double beta = -std::copysign(norm, alpha);
      t = (beta - alpha) / beta;
      const double scale = 1.0 / (alpha - beta);
      for (int i = 1; i < below; ++i) x[at(i, width, 0)] *= scale;
      x[0] = beta;
    }
    tau[c] = t;
    madeBy[c] = jl;
    const int rest = width - jl - 1;
    if (t != 0.0 && rest > 0) {
      // w = vᵀ·(the columns right of jl), then those columns −= t·v·w; v is 1 at row c, x below it.
      double* right = panel + at(c, width, jl + 1);
      for (int q = 0; q < rest; ++q) w[q] = right[q];
      for (int i = 1; i < below; ++i) {
        const double vi = x[at(i, width, 0)];
        const double* row = right + at(i, width, 0);
        for (int q = 0; q < rest; ++q) w[q] += vi * row[q];
      }
      for (int q = 0; q < rest; ++q) right[q] -= t * w[q];
      for (int i = 1; i < below; ++i) {
        const double tvi = t * x[at(i, width, 0)];
        double* row = right + at(i, width, 0);
        for (int q = 0; q < rest; ++q) row[q] -= tvi * w[q];
      }
    }
    ++c;
  }
  return c;
}
OPU_DENSE_VARIANTS(int, factorPanel,
                   (double* panel, int length, int width, const double* columnNorms, double dropBelow, double* tau,
                    int* madeBy),
                   (panel, length, width, columnNorms, dropBelow, tau, madeBy))

struct Householder {
  std::vector<ReflectorBlock> blocks;
  std::vector<int> column;  // column[g]: the column whose elimination made reflector g (increasing)
};

// Blocked Householder QR of w (rows × cols, ld cols, rows ≥ cols) in place: afterwards row g < reflectors holds,
// from column column[g] on, row column[g] of R; the rest of w is scratch. Columns whose remainder is not above
// dropBelow × their norm make no reflector (dropBelow = 0 keeps every column with anything left).
Householder householderQr(double* w, int rows, int cols, double dropBelow) {
  std::vector<double> columnNorms(cols, 0.0);
  for (int i = 0; i < rows; ++i) {
    const double* row = w + at(i, cols, 0);
    for (int j = 0; j < cols; ++j) columnNorms[j] += row[j] * row[j];
  }
  for (double& norm : columnNorms) norm = std::sqrt(norm);
  Householder h;
  std::vector<double> panel;
  double tau[kPanelColumns];
  int madeBy[kPanelColumns];
  int g = 0;
  for (int j0 = 0; j0 < cols; j0 += kPanelColumns) {
    const int width = std::min(kPanelColumns, cols - j0);
    const int length = rows - g;
    panel.resize(static_cast<std::size_t>(length) * width);
    const std::size_t rowBytes = width * sizeof(double);
    for (int i = 0; i < length; ++i) std::memcpy(&panel[at(i, width, 0)], w + at(g + i, cols, j0), rowBytes);
    const int count = factorPanel(panel.data(), length, width, columnNorms.data() + j0, dropBelow, tau, madeBy);
    for (int i = 0; i < length; ++i) std::memcpy(w + at(g + i, cols, j0), &panel[at(i, width, 0)], rowBytes);
    if (count == 0) continue;
    ReflectorBlock block;
    block.first = g;
    block.count = count;
    block.length = length;
    block.v.assign(static_cast<std::size_t>(length) * count, 0.0);
    for (int c = 0; c < count; ++c) {
      block.v[at(c, count, c)] = 1.0;
      for (int i = c + 1; i < length; ++i) block.v[at(i, count, c)] = panel[at(i, width, madeBy[c])];
      h.column.push_back(j0 + madeBy[c]);
    }
    formT(block, tau);
    applyBlock(block, w, cols, j0 + width, cols, true);
    h.blocks.push_back(std::move(block));
    g += count;
  }
  return h;
}

// ---------------------------------------------------------------------------------------------------------------
// Symmetric eigenproblem

// Row ranges of a tridiagonalization step above 362 rows: enough for the pool's threads on the target machines.
constexpr int kTridiagonalRanges = 4;

// Householder tridiagonalization of the symmetric matrix whose lower triangle is t (n×n, in place): diagonal d,
// off-diagonal e (e[i] couples i and i+1). Reflector k (on rows k+1 ..) has tau[k] and its vector below row k+1 in
// column k of t. Each step is the symmetric rank-2 update of LAPACK's dsytd2, over the lower triangle only.
void tridiagonalize(double* t, int n, double* d, double* e, double* tau) {
  std::vector<double> v(n), p(n), w(n), spill;
  for (int k = 0; k + 2 < n; ++k) {
    const int length = n - k - 1;
    double* trailing = t + at(k + 1, n, k + 1);
    const double alpha = t[at(k + 1, n, k)];
    double sigma = 0.0;
    for (int i = 1; i < length; ++i) sigma += t[at(k + 1 + i, n, k)] * t[at(k + 1 + i, n, k)];
    d[k] = t[at(k, n, k)];
    tau[k] = 0.0;
    e[k] = alpha;
    if (sigma == 0.0) continue;
    const double beta = -std::copysign(std::sqrt(alpha * alpha + sigma), alpha);
    const double tk = (beta - alpha) / beta;
    const double scale = 1.0 / (alpha - beta);
    v[0] = 1.0;
    for (int i = 1; i < length; ++i) {
      t[at(k + 1 + i, n, k)] *= scale;
      v[i] = t[at(k + 1 + i, n, k)];
    }
    tau[k] = tk;
    e[k] = beta;
    // p = tk·T·v over row ranges of equal triangle area; each range spills into its own copy of the upper part. A
    // fixed number of ranges, not one per thread, so that the sums (and the results) do not depend on the threads.
    const int tasks = static_cast<Index>(length) * length >= (1 << 17) ? kTridiagonalRanges : 1;
    spill.assign(static_cast<std::size_t>(tasks) * length, 0.0);
    auto rowsOf = [&](int task) {
      return static_cast<int>(std::lround(length * std::sqrt(static_cast<double>(task) / tasks)));
    };
    parallelFor(tasks, [&](int task) {
      symvRows(trailing, n, v.data(), rowsOf(task), rowsOf(task + 1), p.data(), spill.data() + at(task, length, 0));
    });
    for (int task = 0; task < tasks; ++task) {
      for (int i = 0; i < length; ++i) p[i] += spill[at(task, length, i)];
    }
    double pv = 0.0;
    for (int i = 0; i < length; ++i) {
      p[i] *= tk;
      pv += p[i] * v[i];
    }
    // w = p − (tk/2)(pᵀv)·v, and T −= v·wᵀ + w·vᵀ.
    const double half = 0.5 * tk * pv;
    for (int i = 0; i < length; ++i) w[i] = p[i] - half * v[i];
    parallelFor(tasks, [&](int task) { syr2Rows(trailing, n, v.data(), w.data(), rowsOf(task), rowsOf(task + 1)); });
  }
  if (n >= 2) {
    d[n - 2] = t[at(n - 2, n, n - 2)];
    e[n - 2] = t[at(n - 1, n, n - 2)];
  }
  d[n - 1] = t[at(n - 1, n, n - 1)];
  e[n - 1] = 0.0;
}

// z (n×n) ← Qᵀ for the Q = H_0⋯H_{n−3} of tridiagonalize: Q = diag(1, Q') with Q' formed blockwise, Q' = (its blocks
// applied, last first, to the identity), as LAPACK's dorgqr.
void tridiagonalBasis(const double* t, int n, const double* tau, double* z) {
  std::fill(z, z + static_cast<Index>(n) * n, 0.0);
  z[0] = 1.0;
  if (n <= 2) {
    if (n == 2) z[at(1, n, 1)] = 1.0;
    return;
  }
  const int m = n - 1;
  const int reflectors = n - 2;
  std::vector<ReflectorBlock> blocks;
  for (int g0 = 0; g0 < reflectors; g0 += kPanelColumns) {
    ReflectorBlock block;
    block.first = g0;
    block.count = std::min(kPanelColumns, reflectors - g0);
    block.length = m - g0;
    block.v.assign(static_cast<std::size_t>(block.length) * block.count, 0.0);
    for (int c = 0; c < block.count; ++c) {
      block.v[at(c, block.count, c)] = 1.0;
      for (int i = c + 1; i < block.length; ++i) block.v[at(i, block.count, c)] = t[at(1 + g0 + i, n, g0 + c)];
    }
    formT(block, tau + g0);
    blocks.push_back(std::move(block));
  }
  std::vector<double> q(static_cast<std::size_t>(m) * m, 0.0);
  for (int i = 0; i < m; ++i) q[at(i, m, i)] = 1.0;
  // Columns left of a block's first row are still unit vectors above it, which the block leaves alone.
  for (auto block = blocks.rbegin(); block != blocks.rend(); ++block) {
    applyBlock(*block, q.data(), m, block->first, m, false);
  }
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < m; ++j) z[at(i + 1, n, j + 1)] = q[at(j, m, i)];
  }
}

// The rotations of QL sweeps, kept until they are applied to the eigenvector estimates: sequence q rotates rows i and
// i+1 by (cosine, sine)[offset[q] + r], r = 0, 1, .. for i from last[q] − 1 down to first[q] (the order QL makes them).
struct RotationLog {
  std::vector<int> first, last;
  std::vector<std::size_t> offset;
  std::vector<double> cosine, sine;
};

// Rotations kept before they are applied: 16 MB of cosines and sines, at most one pass over z per 2^20 rotations.
constexpr std::size_t kRotationBudget = 1 << 20;

// Element positions rotated together: the updated lower rows of 32 positions ride down a sequence in four AVX-512
// registers. Fewer leave the chain bound by its latency (measured: 8 positions 1.9, 32 positions 6.6 G rotated
// elements/s on one Zen 5 core, against 2.8 rotating whole row pairs in memory).
constexpr int kRotationRun = 32;

// One logged sequence on positions [k0, k0 + width) of z's rows, width ≤ kRotationRun. Row i+1's updated value is
// carried down the chain, so each rotation loads one row and stores one.
OPU_DENSE_INLINE void rotateSequence(double* z, Index ld, int first, int last, const double* cosine, const double* sine,
                                     int k0, int width) {
  double carry[kRotationRun];
  for (int l = 0; l < width; ++l) carry[l] = z[at(last, ld, k0 + l)];
  for (int i = last - 1; i >= first; --i) {
    const double* __restrict upper = z + at(i, ld, k0);
    double* __restrict lower = z + at(i + 1, ld, k0);
    const double c = cosine[last - 1 - i];
    const double s = sine[last - 1 - i];
    for (int l = 0; l < width; ++l) {
      const double h = carry[l];
      lower[l] = s * upper[l] + c * h;
      carry[l] = c * upper[l] - s * h;
    }
  }
  for (int l = 0; l < width; ++l) z[at(first, ld, k0 + l)] = carry[l];
}

// Every logged sequence, in order, on positions [k0, k1) of the rows of z. Each position is transformed on its own,
// so a run of positions can take all the sequences while its rows (n × 32 doubles) stay in L2; rotating whole rows
// instead would stream z from memory once per sweep.
OPU_DENSE_INLINE void applyRotationsBody(double* z, Index ld, const RotationLog& log, int k0, int k1) {
  for (int run = k0; run < k1; run += kRotationRun) {
    const int width = std::min(kRotationRun, k1 - run);
    for (std::size_t q = 0; q < log.first.size(); ++q) {
      const double* cosine = log.cosine.data() + log.offset[q];
      const double* sine = log.sine.data() + log.offset[q];
      if (width == kRotationRun) {
        rotateSequence(z, ld, log.first[q], log.last[q], cosine, sine, run, kRotationRun);
      } else {
        rotateSequence(z, ld, log.first[q], log.last[q], cosine, sine, run, width);
      }
    }
  }
}
OPU_DENSE_VARIANTS(void, applyRotations, (double* z, Index ld, const RotationLog& log, int k0, int k1),
                   (z, ld, log, k0, k1))

// Applies and clears the log, each thread on one contiguous range of positions: threads on neighbouring runs at once
// would fight over the cache lines the prefetchers pull across the boundary (twice slower than one thread, measured).
void flushRotations(double* z, int n, RotationLog& log) {
  if (log.first.empty()) return;
  const int runs = (n + kRotationRun - 1) / kRotationRun;
  const int tasks = std::min(threads(), runs);
  parallelFor(tasks, [&](int task) {
    const int k0 = task * runs / tasks * kRotationRun;
    const int k1 = std::min(n, (task + 1) * runs / tasks * kRotationRun);
    applyRotations(z, n, log, k0, k1);
  });
  log.first.clear();
  log.last.clear();
  log.offset.clear();
  log.cosine.clear();
  log.sine.clear();
}

// Eigenvalues of the tridiagonal (d, e) into d, by implicit QL with Wilkinson-type shifts (EISPACK's tql2, as in
// JAMA); the sweeps' rotations are applied to the rows of z, which then hold the eigenvectors.
void tridiagonalQl(double* d, double* e, double* z, int n) {
  // QL makes about n² rotations in all (1.03·n² measured at n = 1000): room for them up to the budget.
  RotationLog log;
  const std::size_t capacity = std::min(kRotationBudget, 2 * static_cast<std::size_t>(n) * n) + n;
  log.cosine.reserve(capacity);
  log.sine.reserve(capacity);
  const double eps = std::numeric_limits<double>::epsilon();
  double shift = 0.0;
  double scale = 0.0;
  for (int l = 0; l < n; ++l) {
    scale = std::max(scale, std::fabs(d[l]) + std::fabs(e[l]));
    int m = l;
    while (m < n - 1 && !(std::fabs(e[m]) <= eps * scale)) ++m;
    if (m > l) {
      do {
        double g = d[l];
        double p = (d[l + 1] - g) / (2.0 * e[l]);
        double r = std::sqrt(p * p + 1.0);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const double dl1 = d[l + 1];
        double h = g - d[l];
        for (int i = l + 2; i < n; ++i) d[i] -= h;
        shift += h;
        p = d[m];
        double c = 1.0, c2 = 1.0, c3 = 1.0, s = 0.0, s2 = 0.0;
        const double el1 = e[l + 1];
        log.first.push_back(l);
        log.last.push_back(m);
        log.offset.push_back(log.cosine.size());
        for (int i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = std::sqrt(p * p + e[i] * e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          log.cosine.push_back(c);
          log.sine.push_back(s);
        }
        if (log.cosine.size() >= kRotationBudget) flushRotations(z, n, log);
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (std::fabs(e[l]) > eps * scale);
    }
    d[l] += shift;
    e[l] = 0.0;
  }
  flushRotations(z, n, log);
}

// Negates column k of x (and of other, when given) wherever its largest-magnitude entry (the first of equals) is
// negative: a deterministic sign, the same in every implementation.
void signColumns(double* x, int rows, int cols, double* other, int otherRows) {
  for (int k = 0; k < cols; ++k) {
    int best = 0;
    for (int i = 1; i < rows; ++i) {
      if (std::fabs(x[at(i, cols, k)]) > std::fabs(x[at(best, cols, k)])) best = i;
    }
    if (!(x[at(best, cols, k)] < 0.0)) continue;
    for (int i = 0; i < rows; ++i) x[at(i, cols, k)] = -x[at(i, cols, k)];
    for (int i = 0; other != nullptr && i < otherRows; ++i) other[at(i, cols, k)] = -other[at(i, cols, k)];
  }
}

// Indices of values in decreasing order (stable: equal values keep their order).
std::vector<int> decreasingOrder(const double* values, int n) {
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return values[x] > values[y]; });
  return order;
}

// ---------------------------------------------------------------------------------------------------------------
// One-sided Jacobi

// The working columns of one-sided Jacobi on an n×n matrix: w = X·V (column-major), v the accumulated rotations
// (column-major), norms the squared norms of w's columns.
struct JacobiColumns {
  double* w;
  double* v;
  double* norms;
  int n;
  double tolerance;
};

struct JacobiRotation {
  int p;
  int q;
  double c;
  double s;
};

// Rotates every pair (p, q), p ∈ [p0, p1), q ∈ [max(q0, p+1), q1), of w that is not yet orthogonal to tolerance,
// appending the rotations to log: Hestenes' rotation (Rutishauser's formulas) makes w_p ⟂ w_q; the new norms are
// summed while rotating.
OPU_DENSE_INLINE void rotateWBody(const JacobiColumns& cols, int p0, int p1, int q0, int q1, JacobiRotation* log,
                                  int& count) {
  const int n = cols.n;
  for (int p = p0; p < p1; ++p) {
    for (int q = std::max(q0, p + 1); q < q1; ++q) {
      double* __restrict wp = cols.w + at(p, n, 0);
      double* __restrict wq = cols.w + at(q, n, 0);
      const double gamma = dotBody(wp, wq, n);
      const double alpha = cols.norms[p];
      const double beta = cols.norms[q];
      if (!(std::fabs(gamma) > cols.tolerance * std::sqrt(alpha) * std::sqrt(beta))) continue;
      const double zeta = (beta - alpha) / (2.0 * gamma);
      const double t = std::copysign(1.0, zeta) / (std::fabs(zeta) + std::sqrt(1.0 + zeta * zeta));
      const double c = 1.0 / std::sqrt(1.0 + t * t);
      const double s = c * t;
      double sumsP[8] = {}, sumsQ[8] = {};
      int i = 0;
      for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; ++l) {
          const double x = wp[i + l];
          const double y = wq[i + l];
          const double xr = c * x - s * y;
          const double yr = s * x + c * y;
          wp[i + l] = xr;
          wq[i + l] = yr;
          sumsP[l] += xr * xr;
          sumsQ[l] += yr * yr;
        }
      }
      double normP = 0.0, normQ = 0.0;
      for (int l = 0; l < 8; ++l) {
        normP += sumsP[l];
        normQ += sumsQ[l];
      }
      for (; i < n; ++i) {
        const double x = wp[i];
        const double y = wq[i];
        wp[i] = c * x - s * y;
        wq[i] = s * x + c * y;
        normP += wp[i] * wp[i];
        normQ += wq[i] * wq[i];
      }
      cols.norms[p] = normP;
      cols.norms[q] = normQ;
      log[count++] = {p, q, c, s};
    }
  }
}

// Columns per Jacobi block: a pair of blocks of w and v (4 × 16 columns of n = 1000, 512 KB) stays in L2 while its
// pairs rotate.
constexpr int kJacobiBlockColumns = 16;
constexpr int kJacobiMaxSweeps = 60;

// One task of a Jacobi round: the pairs between column blocks [x0, x1) and [y0, y1) (and inside each, when within),
// then their rotations on v; log has room for every pair. Returns the rotations.
OPU_DENSE_INLINE int jacobiBlockPairBody(const JacobiColumns& cols, int x0, int x1, int y0, int y1, bool within,
                                         JacobiRotation* log) {
  int count = 0;
  if (within) {
    rotateWBody(cols, x0, x1, x0, x1, log, count);
    rotateWBody(cols, y0, y1, y0, y1, log, count);
  }
  rotateWBody(cols, x0, x1, y0, y1, log, count);
  // v's columns do not feed the next rotations: they follow in one pass per rotation, after w's.
  for (int r = 0; r < count; ++r) {
    double* __restrict vp = cols.v + at(log[r].p, cols.n, 0);
    double* __restrict vq = cols.v + at(log[r].q, cols.n, 0);
    const double c = log[r].c;
    const double s = log[r].s;
    for (int k = 0; k < cols.n; ++k) {
      const double x = vp[k];
      const double y = vq[k];
      vp[k] = c * x - s * y;
      vq[k] = s * x + c * y;
    }
  }
  return count;
}
OPU_DENSE_VARIANTS(int, jacobiBlockPair,
                   (const JacobiColumns& cols, int x0, int x1, int y0, int y1, bool within, JacobiRotation* log),
                   (cols, x0, x1, y0, y1, within, log))

// One-sided Jacobi on w (n columns of n, column-major) until every pair of columns is orthogonal to sqrt(n)·eps
// (LAPACK's dgesvj default); v accumulates the rotations. Columns are cut into an even number of blocks of at most
// kJacobiBlockColumns, and each sweep is a round-robin tournament of blocks: in every round the pairs of blocks are
// disjoint, so they run over the pool at once.
void oneSidedJacobi(double* w, double* v, int n) {
  std::vector<double> norms(n);
  for (int j = 0; j < n; ++j) norms[j] = dot(w + at(j, n, 0), w + at(j, n, 0), n);
  const double tolerance = std::sqrt(static_cast<double>(n)) * std::numeric_limits<double>::epsilon();
  const JacobiColumns cols{w, v, norms.data(), n, tolerance};
  int blocks = std::max(2, (n + kJacobiBlockColumns - 1) / kJacobiBlockColumns);
  blocks += blocks % 2;
  auto start = [&](int block) { return static_cast<int>(static_cast<Index>(block) * n / blocks); };
  for (int sweep = 0; sweep < kJacobiMaxSweeps; ++sweep) {
    std::atomic<long> rotations{0};
    for (int round = 0; round < blocks - 1; ++round) {
      parallelFor(blocks / 2, [&](int task) {
        // Every pair of two blocks' columns: 32·31/2.
        JacobiRotation log[kJacobiBlockColumns * (2 * kJacobiBlockColumns - 1)];
        // The circle method: block blocks−1 stays, the others turn one place per round.
        int x = task == 0 ? blocks - 1 : (round + task) % (blocks - 1);
        int y = task == 0 ? round : (round - task + blocks - 1) % (blocks - 1);
        if (x > y) std::swap(x, y);
        rotations += jacobiBlockPair(cols, start(x), start(x + 1), start(y), start(y + 1), round == 0, log);
      });
    }
    if (rotations == 0) break;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Public functions

const char* dgemmPath() { return gemm::pathName(); }

// The double instance of the shared GEMM driver (linalg/gemm.h): 12×16 AVX-512, 6×8 AVX2-FMA or 4×8 portable
// micro-kernels, KC = 256, NC = 1536.
void dgemm(bool transA, bool transB, int m, int n, int k, double alpha, const double* A, int lda, const double* B,
           int ldb, double beta, double* C, int ldc) {
  gemm::gemm<double>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

bool choleskyFactor(double* a, int n) {
  std::vector<double> given(n);
  for (int j = 0; j < n; ++j) given[j] = a[at(j, n, j)];
  std::vector<double> d(static_cast<std::size_t>(kCholeskyBlock) * kCholeskyBlock);
  // Left-looking by block columns: each is updated by one dgemm from the finished columns left of it, so the upper
  // triangle is never written (the diagonal block is updated in scratch d).
  for (int k0 = 0; k0 < n; k0 += kCholeskyBlock) {
    const int nb = std::min(kCholeskyBlock, n - k0);
    const int k1 = k0 + nb;
    std::fill(d.begin(), d.end(), 0.0);
    for (int r = 0; r < nb; ++r) std::memcpy(&d[at(r, nb, 0)], a + at(k0 + r, n, k0), (r + 1) * sizeof(double));
    dgemm(false, true, nb, nb, k0, -1.0, a + at(k0, n, 0), n, a + at(k0, n, 0), n, 1.0, d.data(), nb);
    dgemm(false, true, n - k1, nb, k0, -1.0, a + at(k1, n, 0), n, a + at(k0, n, 0), n, 1.0, a + at(k1, n, k0), n);
    if (!factorDiagonalBlock(d.data(), nb, given.data() + k0)) return false;
    for (int r = 0; r < nb; ++r) std::memcpy(a + at(k0 + r, n, k0), &d[at(r, nb, 0)], (r + 1) * sizeof(double));
    // The rows below, in runs of whole kPanelRows groups over the pool.
    const int groups = (n - k1 + kPanelRows - 1) / kPanelRows;
    const int tasks = static_cast<Index>(n - k1) * nb * nb < (1 << 16) ? 1 : std::min(groups, 4 * threads());
    const int perTask = (groups + tasks - 1) / tasks * kPanelRows;
    parallelFor(tasks, [&](int t) {
      const int r0 = k1 + t * perTask;
      const int r1 = std::min(n, r0 + perTask);
      if (r0 < r1) solvePanelRows(a, n, k0, nb, d.data(), r0, r1);
    });
  }
  return true;
}

void choleskySolve(const double* factor, int n, double* b, int width) {
  if (n <= 0 || width <= 0) return;
  // Right-hand sides are independent: each task solves its own run of columns, with no synchronization.
  const int quantum = 16;
  const int tasks = std::max(1, std::min(threads(), width / quantum));
  const int chunk = ((width + tasks - 1) / tasks + quantum - 1) / quantum * quantum;
  parallelFor(tasks, [&](int t) {
    const int c0 = t * chunk;
    const int cols = std::min(width - c0, chunk);
    if (cols > 0) solveColumns(factor, n, b + c0, width, cols);
  });
}

void thinQr(const double* a, int rows, int cols, double* q, double* r) {
  std::memcpy(q, a, sizeof(double) * rows * cols);
  const Householder h = householderQr(q, rows, cols, 1e-13);
  const int reflectors = static_cast<int>(h.column.size());
  std::fill(r, r + static_cast<Index>(cols) * cols, 0.0);
  for (int g = 0; g < reflectors; ++g) {
    const int j = h.column[g];
    std::memcpy(r + at(j, cols, j), q + at(g, cols, j), (cols - j) * sizeof(double));
  }
  // Q's first `reflectors` columns: the blocks applied, last first, to the identity (LAPACK's dorgqr); a column left
  // of a block's first row is a unit vector above it, which the block leaves alone.
  std::fill(q, q + static_cast<Index>(rows) * cols, 0.0);
  for (int g = 0; g < reflectors; ++g) q[at(g, cols, g)] = 1.0;
  for (auto block = h.blocks.rbegin(); block != h.blocks.rend(); ++block) {
    applyBlock(*block, q, cols, block->first, reflectors, false);
  }
  // Then each to the column that made it (column[g] ≥ g, increasing: last first never overwrites), zero in between.
  for (int g = reflectors - 1; g >= 0; --g) {
    const int j = h.column[g];
    if (j == g) continue;
    for (int i = 0; i < rows; ++i) {
      q[at(i, cols, j)] = q[at(i, cols, g)];
      q[at(i, cols, g)] = 0.0;
    }
  }
  // A nonnegative diagonal makes the factorization unique, the same as Gram–Schmidt's.
  for (int g = 0; g < reflectors; ++g) {
    const int j = h.column[g];
    if (!(r[at(j, cols, j)] < 0.0)) continue;
    for (int c = j; c < cols; ++c) r[at(j, cols, c)] = -r[at(j, cols, c)];
    for (int i = 0; i < rows; ++i) q[at(i, cols, j)] = -q[at(i, cols, j)];
  }
}

void symmetricEigen(const double* a, int n, double* values, double* vectors) {
  if (n <= 0) return;
  std::vector<double> t(static_cast<std::size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) std::memcpy(&t[at(i, n, 0)], a + at(i, n, 0), (i + 1) * sizeof(double));
  std::vector<double> d(n), e(n), tau(std::max(n - 2, 0));
  tridiagonalize(t.data(), n, d.data(), e.data(), tau.data());
  std::vector<double> z(static_cast<std::size_t>(n) * n);
  tridiagonalBasis(t.data(), n, tau.data(), z.data());
  tridiagonalQl(d.data(), e.data(), z.data(), n);
  const std::vector<int> order = decreasingOrder(d.data(), n);
  for (int j = 0; j < n; ++j) {
    values[j] = d[order[j]];
    const double* vector = &z[at(order[j], n, 0)];
    for (int i = 0; i < n; ++i) vectors[at(i, n, j)] = vector[i];
  }
  signColumns(vectors, n, n, nullptr, 0);
}

void svd(const double* a, int rows, int cols, double* u, double* s, double* v) {
  // The SVD of a wide A is that of Aᵀ with u and v swapped: factor the tall one, m × n, in the output it fills.
  const bool tall = rows >= cols;
  const int m = tall ? rows : cols;
  const int n = tall ? cols : rows;
  double* left = tall ? u : v;   // m × n
  double* right = tall ? v : u;  // n × n
  if (n == 0) return;
  auto element = [&](int i, int j) { return tall ? a[at(i, cols, j)] : a[at(j, cols, i)]; };
  // Preconditioning as Drmač and Veselić (2008): A·P = Q1·R1 with the columns by decreasing norm, R1ᵀ = Q2·R2, and
  // Jacobi on X = R2ᵀ. Two QR steps push the mass of X onto its diagonal, sorted: about 10 sweeps where Jacobi on R1
  // takes 40 for a spectrum over 8 decades. Sorting the rows of R1ᵀ by decreasing norm keeps the second
  // Householder QR accurate when A's columns are badly scaled.
  std::vector<double> norms(n, 0.0);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) norms[j] += element(i, j) * element(i, j);
  }
  const std::vector<int> columns = decreasingOrder(norms.data(), n);
  for (int i = 0; i < m; ++i) {
    for (int k = 0; k < n; ++k) left[at(i, n, k)] = element(i, columns[k]);
  }
  // Every column with anything left keeps its reflector: dropping would cost the small singular values.
  const Householder h1 = householderQr(left, m, n, 0.0);
  std::vector<double> second(static_cast<std::size_t>(n) * n, 0.0);
  for (std::size_t g = 0; g < h1.column.size(); ++g) {
    const int row = h1.column[g];
    for (int j = row; j < n; ++j) second[at(j, n, row)] = left[at(g, n, j)];
  }
  const Householder h2 = householderQr(second.data(), n, n, 0.0);
  // X = R2ᵀ into w, column-major (column j of X is row j of R2); Jacobi makes W = X·J with orthogonal columns.
  std::vector<double> w(static_cast<std::size_t>(n) * n, 0.0);
  std::vector<double> rotations(static_cast<std::size_t>(n) * n, 0.0);
  for (std::size_t g = 0; g < h2.column.size(); ++g) {
    const int row = h2.column[g];
    std::memcpy(&w[at(row, n, row)], &second[at(g, n, row)], (n - row) * sizeof(double));
  }
  for (int j = 0; j < n; ++j) rotations[at(j, n, j)] = 1.0;
  oneSidedJacobi(w.data(), rotations.data(), n);
  std::vector<double> sigma(n);
  for (int j = 0; j < n; ++j) sigma[j] = std::sqrt(dot(&w[at(j, n, 0)], &w[at(j, n, 0)], n));
  const std::vector<int> order = decreasingOrder(sigma.data(), n);
  for (int k = 0; k < n; ++k) s[k] = sigma[order[k]];
  // A = (Q1·U_X)·Σ·(P·Q2·J)ᵀ. A Q with dropped columns times Y is its reflectors applied, last first, to the rows of
  // Y at the kept columns over zeros (LAPACK's dormqr).
  std::fill(left, left + static_cast<Index>(m) * n, 0.0);
  for (std::size_t g = 0; g < h1.column.size(); ++g) {
    const int row = h1.column[g];
    for (int k = 0; k < n; ++k) left[at(g, n, k)] = s[k] > 0.0 ? w[at(order[k], n, row)] / s[k] : 0.0;
  }
  for (auto block = h1.blocks.rbegin(); block != h1.blocks.rend(); ++block) applyBlock(*block, left, n, 0, n, false);
  std::fill(second.begin(), second.end(), 0.0);
  for (std::size_t g = 0; g < h2.column.size(); ++g) {
    const int row = h2.column[g];
    for (int k = 0; k < n; ++k) second[at(g, n, k)] = rotations[at(order[k], n, row)];
  }
  for (auto block = h2.blocks.rbegin(); block != h2.blocks.rend(); ++block) {
    applyBlock(*block, second.data(), n, 0, n, false);
  }
  for (int k = 0; k < n; ++k) std::memcpy(right + at(columns[k], n, 0), &second[at(k, n, 0)], n * sizeof(double));
  if (tall) signColumns(right, n, n, left, m);
  else signColumns(left, m, n, right, n);
}

}  // namespace opu::dense

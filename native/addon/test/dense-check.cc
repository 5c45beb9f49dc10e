// Standalone check of linalg/dense.cc, without N-API: seeded cases against independent references (naive loops and
// long double Gram–Schmidt and Jacobi), then, with --timing, the target sizes of the solvers timed. Prints the worst
// error of every case against its limit; exits 1 if any case fails. Built and run by native/scripts/check-dense.mjs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "linalg/dense.h"
#include "runtime/pool.h"

namespace {

using opu::dense::choleskyFactor;
using opu::dense::choleskySolve;
using opu::dense::dgemm;
using opu::dense::svd;
using opu::dense::symmetricEigen;
using opu::dense::thinQr;
using Matrix = std::vector<double>;

constexpr double kEps = std::numeric_limits<double>::epsilon();
int failures = 0;

// Mulberry32 uniforms in (0, 1), Box–Muller normals: the same generator as the TypeScript tests.
struct Random {
  uint32_t state;
  double uniform() {
    state += 0x6d2b79f5u;
    uint32_t t = state;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return ((t ^ (t >> 14)) + 0.5) / 4294967296.0;
  }
  double normal() { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(2.0 * M_PI * uniform()); }
  Matrix normals(int rows, int cols) {
    Matrix m(static_cast<size_t>(rows) * cols);
    for (double& x : m) x = normal();
    return m;
  }
};

void report(const std::string& name, double error, double limit) {
  const bool ok = error <= limit;
  if (!ok) ++failures;
  std::printf("%-4s %-64s %10.3e  (limit %.1e)\n", ok ? "ok" : "FAIL", name.c_str(), error, limit);
}

void reportFlag(const std::string& name, bool ok) {
  if (!ok) ++failures;
  std::printf("%-4s %s\n", ok ? "ok" : "FAIL", name.c_str());
}

// op(A)·op(B) in long double, row-major: the reference for everything else.
Matrix product(bool transA, bool transB, int m, int n, int k, const double* a, int lda, const double* b, int ldb) {
  Matrix c(static_cast<size_t>(m) * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      long double s = 0;
      for (int p = 0; p < k; ++p) {
        const long double x = transA ? a[p * lda + i] : a[i * lda + p];
        s += x * (transB ? b[j * ldb + p] : b[p * ldb + j]);
      }
      c[static_cast<size_t>(i) * n + j] = static_cast<double>(s);
    }
  }
  return c;
}

double maxAbs(const Matrix& m) {
  double best = 0;
  for (double x : m) best = std::max(best, std::fabs(x));
  return best;
}

double maxDifference(const Matrix& x, const Matrix& y) {
  double best = 0;
  for (size_t i = 0; i < x.size(); ++i) best = std::max(best, std::fabs(x[i] - y[i]));
  return best;
}

// Columns of a rows × cols normal matrix made orthonormal by modified Gram–Schmidt, twice, in long double.
Matrix orthonormal(Random& random, int rows, int cols) {
  std::vector<long double> q(static_cast<size_t>(rows) * cols);
  for (auto& x : q) x = random.normal();
  for (int j = 0; j < cols; ++j) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int k = 0; k < j; ++k) {
        long double c = 0;
        for (int i = 0; i < rows; ++i) c += q[i * cols + k] * q[i * cols + j];
        for (int i = 0; i < rows; ++i) q[i * cols + j] -= c * q[i * cols + k];
      }
    }
    long double norm = 0;
    for (int i = 0; i < rows; ++i) norm += q[i * cols + j] * q[i * cols + j];
    norm = std::sqrt(norm);
    for (int i = 0; i < rows; ++i) q[i * cols + j] /= norm;
  }
  return Matrix(q.begin(), q.end());
}

// max |XᵀX − I| over the columns of x (rows × cols) that are not zero.
double orthonormality(const Matrix& x, int rows, int cols) {
  const Matrix gram = product(true, false, cols, cols, rows, x.data(), cols, x.data(), cols);
  double worst = 0;
  for (int i = 0; i < cols; ++i) {
    for (int j = 0; j < cols; ++j) {
      if (gram[i * cols + i] == 0 || gram[j * cols + j] == 0) continue;
      worst = std::max(worst, std::fabs(gram[i * cols + j] - (i == j ? 1.0 : 0.0)));
    }
  }
  return worst;
}

// Whether every column's largest-magnitude entry (the first of equals) is positive or the column is zero.
bool signedColumns(const Matrix& x, int rows, int cols) {
  for (int k = 0; k < cols; ++k) {
    int best = 0;
    for (int i = 1; i < rows; ++i) {
      if (std::fabs(x[i * cols + k]) > std::fabs(x[best * cols + k])) best = i;
    }
    if (x[best * cols + k] < 0) return false;
  }
  return true;
}

// U·diag(s)·Vᵀ for u rows × r, v cols × r.
Matrix recompose(const Matrix& u, const Matrix& s, const Matrix& v, int rows, int cols, int r) {
  Matrix us(u);
  for (int i = 0; i < rows; ++i) {
    for (int k = 0; k < r; ++k) us[i * r + k] *= s[k];
  }
  return product(false, true, rows, cols, r, us.data(), r, v.data(), r);
}

void checkDgemm() {
  Random random{11};
  const int shapes[][3] = {{1, 1, 1},       {7, 9, 1},       {13, 17, 5},    {33, 47, 29},
                           {100, 130, 257}, {131, 70, 513}, {40, 300, 600}, {260, 25, 70}};
  double worst = 0;
  bool nanFree = true;
  for (const auto& shape : shapes) {
    const int m = shape[0], n = shape[1], k = shape[2];
    for (int variant = 0; variant < 8; ++variant) {
      const bool transA = variant & 1, transB = variant & 2, accumulate = variant & 4;
      // Leading dimensions wider than the stored rows.
      const int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 5;
      const Matrix a = random.normals(transA ? k : m, lda);
      const Matrix b = random.normals(transB ? n : k, ldb);
      Matrix c = random.normals(m, ldc);
      if (!accumulate) std::fill(c.begin(), c.end(), std::nan(""));
      const double alpha = 0.7, beta = accumulate ? -1.3 : 0.0;
      Matrix expected = product(transA, transB, m, n, k, a.data(), lda, b.data(), ldb);
      // Σ|a||b| bounds the rounding of each entry.
      Matrix absA(a), absB(b);
      for (double& x : absA) x = std::fabs(x);
      for (double& x : absB) x = std::fabs(x);
      const Matrix scale = product(transA, transB, m, n, k, absA.data(), lda, absB.data(), ldb);
      const Matrix before(c);
      dgemm(transA, transB, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < ldc; ++j) {
          const double got = c[i * ldc + j];
          if (j >= n) {
            // Padding past n columns is never written.
            if (!(std::isnan(got) && std::isnan(before[i * ldc + j])) && got != before[i * ldc + j]) worst = 1;
            continue;
          }
          if (std::isnan(got)) nanFree = false;
          const double want = alpha * expected[i * n + j] + (accumulate ? beta * before[i * ldc + j] : 0.0);
          const double bound = std::fabs(alpha) * scale[i * n + j] + std::fabs(beta * before[i * ldc + j]);
          worst = std::max(worst, std::fabs(got - want) / (bound * k * kEps + 1e-300));
        }
      }
    }
  }
  report("dgemm, 8 shapes × transposes × beta, error / (k·eps·Σ|a||b|)", worst, 1.0);
  reportFlag("dgemm, beta = 0 overwrites NaN in C", nanFree);
}

// A symmetric positive definite n×n matrix: XᵀX/rows + 0.01·I with X (n + 5) × n normal.
Matrix spd(Random& random, int n) {
  const int rows = n + 5;
  const Matrix x = random.normals(rows, n);
  Matrix a = product(true, false, n, n, rows, x.data(), n, x.data(), n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) a[i * n + j] = a[i * n + j] / rows + (i == j ? 0.01 : 0.0);
  }
  return a;
}

void checkCholesky() {
  Random random{23};
  for (int n : {1, 2, 95, 97, 250}) {
    const Matrix a = spd(random, n);
    Matrix factor(a);
    // The strict upper triangle must come back untouched: mark it.
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j) factor[i * n + j] = 1e300;
    }
    const bool ok = choleskyFactor(factor.data(), n);
    Matrix lower(factor);
    bool upperKept = true;
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j) {
        upperKept = upperKept && factor[i * n + j] == 1e300;
        lower[i * n + j] = 0;
      }
    }
    const Matrix llt = product(false, true, n, n, n, lower.data(), n, lower.data(), n);
    reportFlag("cholesky n=" + std::to_string(n) + ": positive definite, upper triangle untouched", ok && upperKept);
    report("cholesky n=" + std::to_string(n) + ": |L·Lᵀ − A| / |A|", maxDifference(llt, a) / maxAbs(a), 20 * n * kEps);
    for (int width : {1, 37, 300}) {
      const Matrix b = random.normals(n, width);
      Matrix x(b);
      choleskySolve(factor.data(), n, x.data(), width);
      const Matrix ax = product(false, false, n, width, n, a.data(), n, x.data(), width);
      report("cholesky n=" + std::to_string(n) + " width=" + std::to_string(width) + ": |A·X − B| / (|A|·|X|)",
             maxDifference(ax, b) / (maxAbs(a) * maxAbs(x)), 20 * n * kEps);
    }
  }
  // Binary patterns in which two data elements are always lit together: their Gram matrix is singular.
  for (int n : {20, 150}) {
    const int patterns = 2 * n;
    Matrix xi(static_cast<size_t>(patterns) * n);
    for (double& x : xi) x = random.uniform() < 0.5 ? 1.0 : 0.0;
    const int copy = n - 3, of = n / 3;
    for (int i = 0; i < patterns; ++i) xi[i * n + copy] = xi[i * n + of];
    Matrix gram = product(true, false, n, n, patterns, xi.data(), n, xi.data(), n);
    reportFlag("cholesky n=" + std::to_string(n) + ": two identical pattern columns → not positive definite",
               !choleskyFactor(gram.data(), n));
  }
}

// R of the QR of a by modified Gram–Schmidt run twice, in long double, dropping columns as thinQr does.
Matrix referenceR(const Matrix& a, int rows, int cols) {
  std::vector<long double> q(a.begin(), a.end());
  Matrix r(static_cast<size_t>(cols) * cols, 0.0);
  for (int j = 0; j < cols; ++j) {
    long double before = 0;
    for (int i = 0; i < rows; ++i) before += q[i * cols + j] * q[i * cols + j];
    std::vector<long double> coefficient(cols, 0);
    for (int pass = 0; pass < 2; ++pass) {
      for (int k = 0; k < j; ++k) {
        long double c = 0;
        for (int i = 0; i < rows; ++i) c += q[i * cols + k] * q[i * cols + j];
        coefficient[k] += c;
        for (int i = 0; i < rows; ++i) q[i * cols + j] -= c * q[i * cols + k];
      }
    }
    long double after = 0;
    for (int i = 0; i < rows; ++i) after += q[i * cols + j] * q[i * cols + j];
    after = std::sqrt(after);
    const bool keep = after > 1e-13L * std::sqrt(before);
    for (int k = 0; k < j; ++k) r[k * cols + j] = static_cast<double>(coefficient[k]);
    r[j * cols + j] = keep ? static_cast<double>(after) : 0.0;
    for (int i = 0; i < rows; ++i) q[i * cols + j] = keep ? q[i * cols + j] / after : 0;
  }
  return r;
}

void checkQr(const std::string& name, const Matrix& a, int rows, int cols, const std::vector<int>& dependent) {
  Matrix q(static_cast<size_t>(rows) * cols), r(static_cast<size_t>(cols) * cols);
  thinQr(a.data(), rows, cols, q.data(), r.data());
  const Matrix qr = product(false, false, rows, cols, cols, q.data(), cols, r.data(), cols);
  report(name + ": |Q·R − A| / |A|", maxDifference(qr, a) / maxAbs(a), 10 * rows * kEps);
  report(name + ": |QᵀQ − I| (nonzero columns)", orthonormality(q, rows, cols), 10 * rows * kEps);
  report(name + ": |R − R(long double Gram–Schmidt)| / |A|", maxDifference(r, referenceR(a, rows, cols)) / maxAbs(a),
         1e-11);
  bool shape = true;
  for (int i = 0; i < cols; ++i) {
    for (int j = 0; j < i; ++j) shape = shape && r[i * cols + j] == 0;
    const bool drop = std::find(dependent.begin(), dependent.end(), i) != dependent.end();
    shape = shape && (drop ? r[i * cols + i] == 0 : r[i * cols + i] > 0);
    for (int k = 0; drop && k < rows; ++k) shape = shape && q[k * cols + i] == 0;
  }
  reportFlag(name + ": R upper triangular, diagonal > 0 except dependent columns (zero in Q)", shape);
}

void checkQrCases() {
  Random random{37};
  checkQr("thinQr 300×200", random.normals(300, 200), 300, 200, {});
  checkQr("thinQr 64×64", random.normals(64, 64), 64, 64, {});
  checkQr("thinQr 500×70", random.normals(500, 70), 500, 70, {});
  // Dependent columns: a sum of two others, a zero column, a copy of the first, inside and across panels.
  const int rows = 90, cols = 75;
  Matrix a = random.normals(rows, cols);
  for (int i = 0; i < rows; ++i) {
    a[i * cols + 5] = a[i * cols + 2] + 0.5 * a[i * cols + 3];
    a[i * cols + 17] = 0;
    a[i * cols + 40] = a[i * cols + 0];
    a[i * cols + 74] = a[i * cols + 33] - a[i * cols + 60];
  }
  checkQr("thinQr 90×75 rank-deficient", a, rows, cols, {5, 17, 40, 74});
}

// A = Q·diag(values)·Qᵀ for a random orthogonal Q.
Matrix planted(Random& random, const Matrix& values, int n) {
  const Matrix q = orthonormal(random, n, n);
  Matrix ql(q);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) ql[i * n + j] *= values[j];
  }
  Matrix a = product(false, true, n, n, n, ql.data(), n, q.data(), n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < i; ++j) a[i * n + j] = a[j * n + i] = 0.5 * (a[i * n + j] + a[j * n + i]);
  }
  return a;
}

void checkEigen(const std::string& name, const Matrix& a, int n, Matrix expected) {
  Matrix values(n), vectors(static_cast<size_t>(n) * n);
  symmetricEigen(a.data(), n, values.data(), vectors.data());
  std::sort(expected.begin(), expected.end(), std::greater<double>());
  const double norm = std::max(maxAbs(expected), 1e-300);
  report(name + ": |λ − planted| / |A|", maxDifference(values, expected) / norm, 10 * n * kEps + 4 * kEps);
  Matrix av = product(false, false, n, n, n, a.data(), n, vectors.data(), n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) av[i * n + j] -= vectors[i * n + j] * values[j];
  }
  report(name + ": |A·V − V·Λ| / |A|", maxAbs(av) / norm, 10 * n * kEps + 4 * kEps);
  report(name + ": |VᵀV − I|", orthonormality(vectors, n, n), 10 * n * kEps + 4 * kEps);
  reportFlag(name + ": values decreasing, largest entry of each vector positive",
             std::is_sorted(values.rbegin(), values.rend()) && signedColumns(vectors, n, n));
}

void checkEigenCases() {
  Random random{41};
  checkEigen("eigen 1×1", {-3.5}, 1, {-3.5});
  checkEigen("eigen 2×2", {2, 1, 1, 2}, 2, {3, 1});
  checkEigen("eigen identity 5×5", planted(random, {1, 1, 1, 1, 1}, 5), 5, {1, 1, 1, 1, 1});
  for (int n : {3, 20, 97, 200}) {
    Matrix values(n);
    // Spread, with negatives, a repeated pair and a near-zero value.
    for (int i = 0; i < n; ++i) values[i] = (i % 3 == 0 ? -1 : 1) * std::pow(10.0, 3.0 * i / n - 1);
    if (n > 3) values[1] = values[2];
    values[n - 1] = 1e-12;
    const std::string name = "eigen " + std::to_string(n) + "×" + std::to_string(n) + " planted";
    checkEigen(name, planted(random, values, n), n, values);
  }
}

// Singular values of a (rows ≥ cols) by one-sided Jacobi in long double, sorted decreasing: the reference for
// graded matrices, whose small singular values double-precision rounding of a different method would not keep.
Matrix referenceSingularValues(const Matrix& a, int rows, int cols) {
  std::vector<long double> w(a.begin(), a.end());
  for (int sweep = 0; sweep < 100; ++sweep) {
    bool rotated = false;
    for (int p = 0; p < cols; ++p) {
      for (int q = p + 1; q < cols; ++q) {
        long double alpha = 0, beta = 0, gamma = 0;
        for (int i = 0; i < rows; ++i) {
          alpha += w[i * cols + p] * w[i * cols + p];
          beta += w[i * cols + q] * w[i * cols + q];
          gamma += w[i * cols + p] * w[i * cols + q];
        }
        if (std::fabs(gamma) <= 1e-18L * std::sqrt(alpha * beta)) continue;
        rotated = true;
        const long double zeta = (beta - alpha) / (2 * gamma);
        const long double t = (zeta >= 0 ? 1 : -1) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
        const long double c = 1 / std::sqrt(1 + t * t), s = c * t;
        for (int i = 0; i < rows; ++i) {
          const long double x = w[i * cols + p], y = w[i * cols + q];
          w[i * cols + p] = c * x - s * y;
          w[i * cols + q] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  Matrix s(cols);
  for (int j = 0; j < cols; ++j) {
    long double norm = 0;
    for (int i = 0; i < rows; ++i) norm += w[i * cols + j] * w[i * cols + j];
    s[j] = static_cast<double>(std::sqrt(norm));
  }
  std::sort(s.begin(), s.end(), std::greater<double>());
  return s;
}

// Checks an SVD; relative compares every singular value relatively (else: to |A|, what any backward-stable method
// can do when A's rounding already moves the small ones by eps·|A|).
void checkSvd(const std::string& name, const Matrix& a, int rows, int cols, const Matrix& expected, bool relative) {
  const int r = std::min(rows, cols);
  Matrix u(static_cast<size_t>(rows) * r), s(r), v(static_cast<size_t>(cols) * r);
  svd(a.data(), rows, cols, u.data(), s.data(), v.data());
  double error = 0;
  for (int k = 0; k < r; ++k) {
    error = std::max(error, std::fabs(s[k] - expected[k]) / (relative ? expected[k] : expected[0]));
  }
  report(name + (relative ? ": max |s − σ| / σ" : ": max |s − σ| / σ_max"), error, 40 * r * kEps);
  report(name + ": |U·S·Vᵀ − A| / |A|", maxDifference(recompose(u, s, v, rows, cols, r), a) / maxAbs(a),
         20 * std::max(rows, cols) * kEps);
  report(name + ": |UᵀU − I|, |VᵀV − I|", std::max(orthonormality(u, rows, r), orthonormality(v, cols, r)),
         20 * std::max(rows, cols) * kEps);
  reportFlag(name + ": s decreasing, largest entry of each v column positive",
             std::is_sorted(s.rbegin(), s.rend()) && signedColumns(v, cols, r));
}

void checkSvdCases() {
  Random random{53};
  for (auto [rows, cols] : {std::pair{150, 60}, {60, 150}, {80, 80}}) {
    const int r = std::min(rows, cols);
    Matrix sigma(r);
    for (int k = 0; k < r; ++k) sigma[k] = std::pow(10.0, 2.0 - 10.0 * k / (r - 1));
    const Matrix left = orthonormal(random, rows, r), right = orthonormal(random, cols, r);
    const Matrix a = recompose(left, sigma, right, rows, cols, r);
    checkSvd("svd " + std::to_string(rows) + "×" + std::to_string(cols) + " σ = 1e2..1e-8, random U, V", a, rows,
             cols, sigma, false);
  }
  // Graded columns: A = B·D, B normal, D = 1e2..1e-8. Every singular value is determined to relative accuracy by
  // A's entries, and QR + one-sided Jacobi keeps it.
  for (auto [rows, cols] : {std::pair{70, 40}, {40, 70}}) {
    Matrix a = random.normals(rows, cols);
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) {
        const int graded = rows >= cols ? j : i;
        a[i * cols + j] *= std::pow(10.0, 2.0 - 10.0 * graded / (std::min(rows, cols) - 1));
      }
    }
    Matrix tall(a);
    if (rows < cols) {
      for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) tall[j * rows + i] = a[i * cols + j];
      }
    }
    checkSvd("svd " + std::to_string(rows) + "×" + std::to_string(cols) + " graded B·D, D = 1e2..1e-8", a, rows, cols,
             referenceSingularValues(tall, std::max(rows, cols), std::min(rows, cols)), true);
  }
  // Rank 10 of 30, and zero.
  {
    const Matrix b = random.normals(50, 10), c = random.normals(10, 30);
    const Matrix a = product(false, false, 50, 30, 10, b.data(), 10, c.data(), 30);
    Matrix u(50 * 30), s(30), v(30 * 30);
    svd(a.data(), 50, 30, u.data(), s.data(), v.data());
    report("svd 50×30 of rank 10: s[10..] / s[0]", s[10] / s[0], 100 * kEps);
    report("svd 50×30 of rank 10: |U·S·Vᵀ − A| / |A|", maxDifference(recompose(u, s, v, 50, 30, 30), a) / maxAbs(a),
           1000 * kEps);
    report("svd 50×30 of rank 10: |VᵀV − I|", orthonormality(v, 30, 30), 1000 * kEps);
    Matrix zero(12 * 7, 0.0), uz(12 * 7), sz(7), vz(7 * 7);
    svd(zero.data(), 12, 7, uz.data(), sz.data(), vz.data());
    reportFlag("svd of zero: s = 0, u = 0, v orthonormal",
               maxAbs(sz) == 0 && maxAbs(uz) == 0 && orthonormality(vz, 7, 7) == 0);
  }
}

// Small integer matrices (ties, exact dependencies, zero rows and columns are common), 1..6 × 1..6: worst
// reconstruction of the SVD, the QR and the eigendecomposition.
void checkSmallIntegerMatrices() {
  Random random{97};
  double worst = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const int rows = 1 + static_cast<int>(random.uniform() * 6), cols = 1 + static_cast<int>(random.uniform() * 6);
    const int r = std::min(rows, cols);
    Matrix a(static_cast<size_t>(rows) * cols);
    for (double& x : a) x = std::floor(random.uniform() * 5) - 2;
    const double scale = std::max(1.0, maxAbs(a));
    Matrix u(static_cast<size_t>(rows) * r), s(r), v(static_cast<size_t>(cols) * r);
    svd(a.data(), rows, cols, u.data(), s.data(), v.data());
    worst = std::max(worst, maxDifference(recompose(u, s, v, rows, cols, r), a) / scale);
    if (rows >= cols) {
      Matrix q(static_cast<size_t>(rows) * cols), rr(static_cast<size_t>(cols) * cols);
      thinQr(a.data(), rows, cols, q.data(), rr.data());
      const Matrix qr = product(false, false, rows, cols, cols, q.data(), cols, rr.data(), cols);
      worst = std::max(worst, maxDifference(qr, a) / scale);
    }
    const int n = rows;
    Matrix sym(static_cast<size_t>(n) * n), values(n), vectors(static_cast<size_t>(n) * n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j <= i; ++j) sym[i * n + j] = sym[j * n + i] = std::floor(random.uniform() * 5) - 2;
    }
    symmetricEigen(sym.data(), n, values.data(), vectors.data());
    const Matrix recomposed = recompose(vectors, values, vectors, n, n, n);
    worst = std::max(worst, maxDifference(recomposed, sym) / std::max(1.0, maxAbs(sym)));
  }
  report("3000 small integer matrices: worst |U·S·Vᵀ − A|, |Q·R − A|, |V·Λ·Vᵀ − A| / |A|", worst, 1e-13);
}

// Every function on inputs large enough to split over the pool, with 1 thread and with 3: the same bits.
void checkThreadIndependence() {
  Random random{89};
  auto runAll = [&](int threads) {
    opu::setThreads(threads);
    std::vector<Matrix> out;
    const Matrix a = random.normals(400, 400), b = random.normals(400, 300);
    Random copy = random;
    Matrix c(400 * 300);
    dgemm(true, false, 400, 300, 400, 1.0, a.data(), 400, b.data(), 300, 0.0, c.data(), 300);
    out.push_back(c);
    Matrix factor = spd(copy, 400), x(b);
    choleskyFactor(factor.data(), 400);
    choleskySolve(factor.data(), 400, x.data(), 300);
    out.push_back(x);
    Matrix q(400 * 300), r(300 * 300);
    thinQr(b.data(), 400, 300, q.data(), r.data());
    out.push_back(q);
    Matrix values(400), vectors(400 * 400);
    symmetricEigen(factor.data(), 400, values.data(), vectors.data());
    out.push_back(vectors);
    Matrix u(300 * 300), s(300), v(400 * 300);
    svd(b.data(), 300, 400, u.data(), s.data(), v.data());
    out.push_back(u);
    out.push_back(v);
    return out;
  };
  const Random start = random;
  const auto one = runAll(1);
  random = start;
  const auto three = runAll(3);
  opu::setThreads(0);
  bool same = true;
  for (size_t i = 0; i < one.size(); ++i) {
    same = same && std::memcmp(one[i].data(), three[i].data(), one[i].size() * sizeof(double)) == 0;
  }
  reportFlag("dgemm, cholesky, thinQr, symmetricEigen, svd: the same bits on 1 thread and on 3", same);
}

// Best time of run() over repeats, prepare() (copying inputs it overwrites) untimed before each.
template <typename Prepare, typename Run>
double seconds(Prepare&& prepare, Run&& run, int repeats) {
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    prepare();
    const auto t0 = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

void nothing() {}

void timeTargets() {
  Random random{71};
  std::printf("\ntimings (best of runs; %d threads, dgemm path %s)\n", opu::threads(), opu::dense::dgemmPath());
  // Transmission-matrix retrieval: Ξ 2200×1100 binary patterns, Y 2200×2000.
  const int patterns = 2200, n = 1100, width = 2000;
  Matrix xi(static_cast<size_t>(patterns) * n);
  for (double& x : xi) x = random.uniform() < 0.5 ? 1.0 : 0.0;
  const Matrix y = random.normals(patterns, width);
  Matrix xty(static_cast<size_t>(n) * width), gram(static_cast<size_t>(n) * n);
  auto transposedProduct = [&] {
    dgemm(true, false, n, width, patterns, 1.0, xi.data(), n, y.data(), width, 0.0, xty.data(), width);
  };
  const double tProduct = seconds(nothing, transposedProduct, 3);
  std::printf("  dgemm Ξᵀ·Y, 1100×2200 · 2200×2000          %8.1f ms  (%.0f GFLOP/s)\n", tProduct * 1e3,
              2.0 * n * width * patterns / tProduct * 1e-9);
  dgemm(true, false, n, n, patterns, 1.0, xi.data(), n, xi.data(), n, 0.0, gram.data(), n);
  Matrix factor, x;
  auto factorize = [&] {
    if (!choleskyFactor(factor.data(), n)) ++failures;
  };
  const double tFactor = seconds([&] { factor = gram; }, factorize, 3);
  const double tSolve = seconds([&] { x = xty; }, [&] { choleskySolve(factor.data(), n, x.data(), width); }, 3);
  Matrix residual(xty);
  dgemm(false, false, n, width, n, 1.0, gram.data(), n, x.data(), width, -1.0, residual.data(), width);
  std::printf("  cholesky n=1100 factor + solve width=2000  %8.1f ms  (factor %.1f, solve %.1f; "
              "|G·X − B|/(|G||X|) %.1e)\n",
              (tFactor + tSolve) * 1e3, tFactor * 1e3, tSolve * 1e3, maxAbs(residual) / (maxAbs(gram) * maxAbs(x)));
  // Randomized SVD: QR of the 2000×1000 sketch, SVD of the 1000×2000 projection.
  Matrix sketch = random.normals(2000, 1000), q(2000 * 1000), r(1000 * 1000);
  const double tQr = seconds(nothing, [&] { thinQr(sketch.data(), 2000, 1000, q.data(), r.data()); }, 3);
  Matrix qr(2000 * 1000, 0.0);
  dgemm(false, false, 2000, 1000, 1000, 1.0, q.data(), 1000, r.data(), 1000, 0.0, qr.data(), 1000);
  std::printf("  thinQr 2000×1000                           %8.1f ms  (|Q·R − A|/|A| %.1e)\n", tQr * 1e3,
              maxDifference(qr, sketch) / maxAbs(sketch));
  // A normal matrix (a flat spectrum: Jacobi's slowest case), and one whose spectrum falls over 8 decades, as the
  // projections of randomized SVD do: G1·diag(10^(−8i/1000))·G2.
  const Matrix flat = random.normals(1000, 2000);
  Matrix decaying(1000 * 2000);
  {
    Matrix left = random.normals(1000, 1000);
    const Matrix g2 = random.normals(1000, 2000);
    for (int i = 0; i < 1000; ++i) {
      for (int k = 0; k < 1000; ++k) left[i * 1000 + k] *= std::pow(10.0, -8.0 * k / 1000);
    }
    dgemm(false, false, 1000, 2000, 1000, 1.0, left.data(), 1000, g2.data(), 2000, 0.0, decaying.data(), 2000);
  }
  for (const auto& [name, b] : {std::pair{"normal", &flat}, {"decaying", &decaying}}) {
    Matrix u(1000 * 1000), s(1000), v(2000 * 1000);
    const double tSvd = seconds(nothing, [&] { svd(b->data(), 1000, 2000, u.data(), s.data(), v.data()); }, 2);
    Matrix us(u);
    for (int i = 0; i < 1000; ++i) {
      for (int k = 0; k < 1000; ++k) us[i * 1000 + k] *= s[k];
    }
    Matrix usv(1000 * 2000);
    dgemm(false, true, 1000, 2000, 1000, 1.0, us.data(), 1000, v.data(), 1000, 0.0, usv.data(), 2000);
    std::printf("  svd 1000×2000 %-9s                    %8.1f ms  (|U·S·Vᵀ − A|/|A| %.1e, σ %.1e..%.1e)\n", name,
                tSvd * 1e3, maxDifference(usv, *b) / maxAbs(*b), s[0], s[999]);
  }
  for (int size : {20, 1000}) {
    Matrix sym = random.normals(size, size), values(size), vectors(static_cast<size_t>(size) * size);
    for (int i = 0; i < size; ++i) {
      for (int j = 0; j < i; ++j) sym[j * size + i] = sym[i * size + j];
    }
    const int repeats = size == 20 ? 1000 : 1;
    auto eigen = [&] {
      for (int i = 0; i < repeats; ++i) symmetricEigen(sym.data(), size, values.data(), vectors.data());
    };
    const double t = seconds(nothing, eigen, 3) / repeats;
    std::printf("  symmetricEigen %4d×%-4d                   %8.3f ms\n", size, size, t * 1e3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("dense check: dgemm path %s, %d threads\n", opu::dense::dgemmPath(), opu::threads());
  checkDgemm();
  checkCholesky();
  checkQrCases();
  checkEigenCases();
  checkSvdCases();
  checkSmallIntegerMatrices();
  checkThreadIndependence();
  if (argc > 1 && std::strcmp(argv[1], "--timing") == 0) timeTargets();
  std::printf("%s\n", failures == 0 ? "all cases passed" : (std::to_string(failures) + " case(s) FAILED").c_str());
  return failures == 0 ? 0 : 1;
}

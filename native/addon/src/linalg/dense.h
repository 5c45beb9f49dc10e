// Dense float64 linear algebra, row-major: the solvers of transmission-matrix retrieval (Cholesky), ridge regression
// and randomized SVD (thin QR, SVD), and symmetric eigenproblems. Plain C++17, no N-API: callers own every buffer.
//
// Threads: every function may split its work over the shared pool (runtime/pool.h); called from inside a pool task
// it runs on that thread alone. Calls on different buffers may run concurrently (the pool serializes them).
// Scratch: each function allocates its own (listed per function), nothing is kept between calls except dgemm's
// per-thread packing buffers (about 3.5 MB per thread).
// Values whose squares overflow or underflow double (|x| beyond about 1e±150) are not supported: norms are plain
// sums of squares, as in the TypeScript twins (native/src/linalg/dense.ts).
#pragma once

namespace opu::dense {

// C = alpha·op(A)·op(B) + beta·C, op(X) = X or Xᵀ: op(A) is m×k, op(B) k×n, C m×n; lda, ldb, ldc are the elements
// between consecutive stored rows. beta = 0 overwrites C, so NaN already in it does not leak through 0·C.
void dgemm(bool transA, bool transB, int m, int n, int k, double alpha, const double* A, int lda, const double* B,
           int ldb, double beta, double* C, int ldc);

// Which dgemm micro-kernel runs: "avx512f", "avx2-fma" or "portable". OPU_NATIVE_SIMD=avx2 or =portable caps it
// (read once), as for sgemm; the other kernels here follow the same choice for their vector loops.
const char* dgemmPath();

// Cholesky factor of a symmetric n×n matrix: the lower triangle of a is overwritten by L (A = L·Lᵀ), the strict
// upper triangle is neither read nor written. Returns false when A is not positive definite: a pivot
// a_jj − Σ_p l_jp² not above 1e-9·|a_jj| (a_jj as given), e.g. the Gram matrix of two identical columns. On false
// the lower triangle is partly overwritten. Scratch: n + 96² doubles.
bool choleskyFactor(double* a, int n);

// Solves L·Lᵀ·X = B in place: factor is choleskyFactor's output (only its lower triangle is read), b is n × width
// (one column per right-hand side), overwritten by X.
void choleskySolve(const double* factor, int n, double* b, int width);

// Thin QR of a (rows × cols, rows ≥ cols) by blocked Householder: q (rows × cols) gets orthonormal columns, r
// (cols × cols) upper triangular with a nonnegative diagonal, A = Q·R. A column whose part orthogonal to the previous
// columns is not above 1e-13 of its norm is numerically dependent: its column of q is zero and so is its row of r
// (its coefficients on the previous columns stay in r). Scratch: about rows × cols doubles.
void thinQr(const double* a, int rows, int cols, double* q, double* r);

// All eigenpairs of a symmetric n×n matrix (its lower triangle is read): values in decreasing order, vectors n×n with
// column j the unit eigenvector of values[j], signed so that its largest-magnitude entry (the first of equals) is
// positive. Householder tridiagonalization, then implicit QL. Scratch: about 3.5·n² doubles, plus up to 16 MB of
// logged rotations.
void symmetricEigen(const double* a, int n, double* values, double* vectors);

// Thin SVD A = U·diag(s)·Vᵀ of a (rows × cols), r = min(rows, cols): u is rows × r, s has r values in decreasing
// order, v is cols × r, both with orthonormal columns (a column of u is zero where s is exactly 0). Each column of v
// is signed so that its largest-magnitude entry (the first of equals) is positive, u's column with it. Householder QR
// of A (or Aᵀ when wide) with its columns sorted by norm, QR of Rᵀ, then one-sided Jacobi (Drmač and Veselić's
// preconditioning): small singular values keep their relative accuracy when A's columns are badly scaled.
// Scratch: about max(rows, cols) × r + 3.5·r² doubles.
void svd(const double* a, int rows, int cols, double* u, double* s, double* v);

}  // namespace opu::dense

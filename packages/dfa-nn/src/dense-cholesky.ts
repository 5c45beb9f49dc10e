/**
 * Dense symmetric positive definite solves in Float64. The Gram matrices of ridge regression are summed in float32 by
 * the native GEMM, but their factorization is done in double: a Cholesky factor in float32 loses the small eigenvalues
 * that the regularization is meant to keep.
 */

/**
 * Overwrites the lower triangle of the n × n row-major `a` with its Cholesky factor L (a = L·Lᵀ). Returns false when a
 * pivot is below 1e-9 of its diagonal entry: the matrices come from float32 sums (7 digits), so a smaller pivot is
 * rounding noise on a singular matrix, not information.
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j <= i; j++) {
      const rowJ = j * n;
      // Row-oriented (Cholesky–Banachiewicz): both rows are read contiguously, which keeps the inner loop in cache.
      const entry = a[rowI + j]!;
      let s = entry;
      for (let k = 0; k < j; k++) s -= a[rowI + k]! * a[rowJ + k]!;
      if (j < i) a[rowI + j] = s / a[rowJ + j]!;
      else {
        if (!(s > 1e-9 * entry)) return false;
        a[rowI + i] = Math.sqrt(s);
      }
    }
  }
  return true;
}

/** Solves L·Lᵀ·X = B in place for the n × t row-major right-hand sides `b`, with L from `choleskyInPlace`. */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array, t: number): void {
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let k = 0; k < i; k++) {
      const lik = l[rowI + k]!;
      if (lik === 0) continue;
      for (let c = 0; c < t; c++) b[i * t + c]! -= lik * b[k * t + c]!;
    }
    const pivot = l[rowI + i]!;
    for (let c = 0; c < t; c++) b[i * t + c]! /= pivot;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const lki = l[k * n + i]!;
      if (lki === 0) continue;
      for (let c = 0; c < t; c++) b[i * t + c]! -= lki * b[k * t + c]!;
    }
    const pivot = l[i * n + i]!;
    for (let c = 0; c < t; c++) b[i * t + c]! /= pivot;
  }
}

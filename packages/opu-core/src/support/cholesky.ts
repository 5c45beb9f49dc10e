/**
 * Dense symmetric positive definite solves in Float64, row-major, in TypeScript. Transmission-matrix retrieval uses
 * opu-native's `kernels.choleskyFactor` / `kernels.choleskySolve` now; these stay only while ridge regression
 * (opu-learn) still imports them, and go once it does not.
 */

/** Columns the solve processes together, so that the rows it touches stay in cache. */
const COLUMN_BLOCK = 128;

/**
 * @deprecated Use opu-native's `kernels.choleskyFactor(a, n)` (same contract, in C++).
 *
 * Cholesky factor L (lower triangle, in place) of a symmetric matrix; false when it is not positive definite
 * (e.g. two data elements that every pattern lit together).
 */
export function choleskyFactor(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let p = 0; p < j; p++) d -= a[j * n + p]! ** 2;
    if (!(d > 1e-9 * Math.abs(a[j * n + j]!))) return false;
    const diagonal = Math.sqrt(d);
    a[j * n + j] = diagonal;
    for (let r = j + 1; r < n; r++) {
      let s = a[r * n + j]!;
      for (let p = 0; p < j; p++) s -= a[r * n + p]! * a[j * n + p]!;
      a[r * n + j] = s / diagonal;
    }
  }
  return true;
}

/**
 * @deprecated Use opu-native's `kernels.choleskySolve(factor, n, b, width)` (same contract, in C++).
 *
 * Solves L·Lᵀ·X = B in place for B with n rows of `width` values (one column per right-hand side, e.g. every
 * output's real and imaginary parts), by row operations on blocks of columns.
 */
export function choleskySolveRows(factor: Float64Array, n: number, b: Float64Array, width: number): void {
  const lower = (j: number, p: number) => factor[j * n + p]!;
  const upper = (j: number, p: number) => factor[p * n + j]!;
  for (let q0 = 0; q0 < width; q0 += COLUMN_BLOCK) {
    const q1 = Math.min(width, q0 + COLUMN_BLOCK);
    for (let j = 0; j < n; j++) {
      subtractRows(b, width, q0, q1, j, 0, j, lower);
      scaleRow(b, width, q0, q1, j, 1 / factor[j * n + j]!);
    }
    for (let j = n - 1; j >= 0; j--) {
      subtractRows(b, width, q0, q1, j, j + 1, n, upper);
      scaleRow(b, width, q0, q1, j, 1 / factor[j * n + j]!);
    }
  }
}

/**
 * Columns [q0, q1) of row j of b −= Σ_{p ∈ [p0, p1)} coefficient(j, p)·row p, four rows p at a time so that row j
 * is loaded and stored once per four multiply-adds.
 */
function subtractRows(
  b: Float64Array,
  width: number,
  q0: number,
  q1: number,
  j: number,
  p0: number,
  p1: number,
  coefficient: (j: number, p: number) => number,
): void {
  const to = j * width;
  let p = p0;
  for (; p + 4 <= p1; p += 4) {
    const a0 = coefficient(j, p);
    const a1 = coefficient(j, p + 1);
    const a2 = coefficient(j, p + 2);
    const a3 = coefficient(j, p + 3);
    const f0 = p * width;
    const f1 = f0 + width;
    const f2 = f1 + width;
    const f3 = f2 + width;
    for (let q = q0; q < q1; q++) {
      b[to + q]! -= a0 * b[f0 + q]! + a1 * b[f1 + q]! + a2 * b[f2 + q]! + a3 * b[f3 + q]!;
    }
  }
  for (; p < p1; p++) {
    const a = coefficient(j, p);
    const from = p * width;
    for (let q = q0; q < q1; q++) b[to + q]! -= a * b[from + q]!;
  }
}

function scaleRow(b: Float64Array, width: number, q0: number, q1: number, j: number, a: number): void {
  for (let q = j * width + q0; q < j * width + q1; q++) b[q]! *= a;
}

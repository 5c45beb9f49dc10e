import { kernels } from 'opu-native';
import { float64 } from './qr.js';
import { checkShape } from './sketch.js';

/** A = U·diag(s)·Vᵀ, thin: r = min(rows, cols) singular triplets, s in decreasing order. */
export interface Svd {
  /** rows × r, row-major, orthonormal columns (a column whose singular value is exactly 0 is 0). */
  u: Float64Array;
  s: Float64Array;
  /** cols × r, row-major, orthonormal columns, each signed so that its largest-magnitude entry is positive. */
  v: Float64Array;
}

/**
 * Dense SVD by opu-native's `kernels.svd`, into new arrays: a QR of the tall side first, then one-sided Jacobi on the
 * triangle, which gives small singular values to high relative accuracy, unlike the eigenvalues of AᵀA whose
 * condition number is squared.
 */
export function svd(a: ArrayLike<number>, rows: number, cols: number): Svd {
  checkShape(a, rows, cols, 'a');
  const r = Math.min(rows, cols);
  const u = new Float64Array(rows * r);
  const s = new Float64Array(r);
  const v = new Float64Array(cols * r);
  kernels.svd(float64(a), rows, cols, u, s, v);
  return { u, s, v };
}

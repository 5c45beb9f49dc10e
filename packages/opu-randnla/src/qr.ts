import { kernels } from 'opu-native';
import { checkShape } from './sketch.js';

/** Thin QR of a tall matrix, rows × cols (rows ≥ cols), in Float64. */
export interface ThinQr {
  /**
   * rows × cols, row-major, orthonormal columns; a column that depends numerically on the ones before it (its part
   * orthogonal to them is not above 1e-13 of its norm) is 0, and so is its row of r.
   */
  q: Float64Array;
  /** cols × cols, row-major, upper triangular, nonnegative diagonal (which makes the factorization unique). */
  r: Float64Array;
}

/** A = Q·R by opu-native's `kernels.thinQr` (blocked Householder), into new arrays. */
export function thinQr(a: ArrayLike<number>, rows: number, cols: number): ThinQr {
  checkShape(a, rows, cols, 'a');
  const q = new Float64Array(rows * cols);
  const r = new Float64Array(cols * cols);
  kernels.thinQr(float64(a), rows, cols, q, r);
  return { q, r };
}

/** The values as a Float64Array: the array itself when it is one (the kernels only read it). */
export function float64(a: ArrayLike<number>): Float64Array {
  return a instanceof Float64Array ? a : Float64Array.from(a);
}

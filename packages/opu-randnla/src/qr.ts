/** Thin QR of a tall matrix, rows × cols (rows ≥ cols), in Float64. */
export interface ThinQr {
  /** rows × cols, row-major, orthonormal columns (a column of a rank-deficient input is 0). */
  q: Float64Array;
  /** cols × cols, row-major, upper triangular. */
  r: Float64Array;
}

/**
 * Gram–Schmidt run twice per column ("twice is enough", Giraud et al. 2005): orthogonal to rounding for any
 * numerically full-rank input, at the cost of one more pass than modified Gram–Schmidt.
 */
export function thinQr(a: ArrayLike<number>, rows: number, cols: number): ThinQr {
  // Column-major, so that every dot product and update runs over contiguous memory.
  const q = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) q[j * rows + i] = a[i * cols + j]!;
  const r = new Float64Array(cols * cols);
  for (let j = 0; j < cols; j++) {
    const v = q.subarray(j * rows, (j + 1) * rows);
    const before = norm(v);
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const u = q.subarray(k * rows, (k + 1) * rows);
        const c = dot(u, v);
        r[k * cols + j]! += c;
        for (let i = 0; i < rows; i++) v[i]! -= c * u[i]!;
      }
    }
    const after = norm(v);
    // What is left of a column inside the span of the previous ones is rounding: drop it rather than amplify it.
    const keep = after > 1e-13 * before;
    r[j * cols + j] = keep ? after : 0;
    for (let i = 0; i < rows; i++) v[i] = keep ? v[i]! / after : 0;
  }
  const rowMajor = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) rowMajor[i * cols + j] = q[j * rows + i]!;
  return { q: rowMajor, r };
}

export function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

function norm(x: Float64Array): number {
  return Math.sqrt(dot(x, x));
}

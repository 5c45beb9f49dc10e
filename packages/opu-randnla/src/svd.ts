import { dot, thinQr } from './qr.js';

/** A = U·diag(s)·Vᵀ, thin: r = min(rows, cols) singular triplets, s in decreasing order. */
export interface Svd {
  /** rows × r, row-major, orthonormal columns. */
  u: Float64Array;
  s: Float64Array;
  /** cols × r, row-major, orthonormal columns. */
  v: Float64Array;
}

/**
 * Dense SVD of a small or thin matrix: QR first (so the iteration runs on an r × r triangle, not on the tall matrix),
 * then one-sided Jacobi (Hestenes) on R, which gives small singular values to high relative accuracy, unlike the
 * eigenvalues of AᵀA whose condition number is squared.
 */
export function svd(a: ArrayLike<number>, rows: number, cols: number): Svd {
  if (rows < cols) {
    const { u, s, v } = svd(transpose(a, rows, cols), cols, rows);
    return { u: v, s, v: u };
  }
  const { q, r } = thinQr(a, rows, cols);
  const { u: ur, s, v } = jacobiSvd(r, cols);
  return { u: multiply(q, ur, rows, cols, cols), s, v };
}

/** Columns this close to orthogonal (cosine of their angle) are left alone: a few units of rounding. */
const ORTHOGONAL = 1e-14;

/** One-sided Jacobi on a square n × n matrix: rotate column pairs until every pair is orthogonal. */
function jacobiSvd(a: Float64Array, n: number): Svd {
  // Column-major working copy W = A·V; at convergence its columns are s_j·u_j.
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[j * n + i] = a[i * n + j]!;
  const v = new Float64Array(n * n);
  for (let j = 0; j < n; j++) v[j * n + j] = 1;
  const column = (m: Float64Array, j: number) => m.subarray(j * n, (j + 1) * n);
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const wp = column(w, p);
        const wq = column(w, q);
        const alpha = dot(wp, wp);
        const beta = dot(wq, wq);
        const gamma = dot(wp, wq);
        if (Math.abs(gamma) <= ORTHOGONAL * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(wp, wq, c, s);
        rotate(column(v, p), column(v, q), c, s);
      }
    }
    if (!rotated) break;
  }
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) s[j] = Math.sqrt(dot(column(w, j), column(w, j)));
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => s[y]! - s[x]!);
  const u = new Float64Array(n * n);
  const vOut = new Float64Array(n * n);
  order.forEach((j, k) => {
    const scale = s[j]! > 0 ? 1 / s[j]! : 0;
    for (let i = 0; i < n; i++) {
      u[i * n + k] = w[j * n + i]! * scale;
      vOut[i * n + k] = v[j * n + i]!;
    }
  });
  return { u, s: Float64Array.from(order, (j) => s[j]!), v: vOut };
}

function rotate(x: Float64Array, y: Float64Array, c: number, s: number): void {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    x[i] = c * xi - s * yi;
    y[i] = s * xi + c * yi;
  }
}

function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

/** (m × k)·(k × n), row-major, Float64: the small products where sgemm's single precision would cost accuracy. */
export function multiply(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = c.subarray(i * n, (i + 1) * n);
    for (let l = 0; l < k; l++) {
      const x = a[i * k + l]!;
      if (x === 0) continue;
      const bl = b.subarray(l * n, (l + 1) * n);
      for (let j = 0; j < n; j++) row[j]! += x * bl[j]!;
    }
  }
  return c;
}

import { ArgumentError, type LinearProjection } from 'opu-core';
import { kernels } from 'opu-native';
import { thinQr } from './qr.js';
import { checkShape, checkSketchInputs, type SketchOptions, sketchRows } from './sketch.js';
import { svd } from './svd.js';

export interface RandomizedSvdOptions extends SketchOptions {
  /** Digital passes of A·Aᵀ on the sketch: each raises the spectrum's decay to a power, sharpening the range. */
  powerIterations?: number;
  /**
   * Sketch columns beyond k. The sketch fixes ℓ = k + oversampling as its `outputs`; when given, this is checked
   * against it, so that an OPU opened with the wrong outputs fails loudly.
   */
  oversampling?: number;
}

/** The top-k singular triplets: A ≈ U·diag(s)·Vᵀ. */
export interface TruncatedSvd {
  /** m × k, row-major, orthonormal columns. */
  u: Float32Array;
  /** k singular values, decreasing. */
  s: Float64Array;
  /** n × k, row-major, orthonormal columns. */
  v: Float32Array;
}

/**
 * Randomized SVD (Halko, Martinsson & Tropp 2011, algorithm 4.4 then 5.1) of A (m × n, row-major) with the sketch
 * as the random test matrix: Y = A·Ω with Ω = Bᵀ is one projection of A's rows (the OPU's part, ℓ = sketch.outputs
 * columns); the power iterations, QR and the small SVD are digital.
 */
export async function randomizedSvd(
  a: Float32Array,
  m: number,
  n: number,
  k: number,
  sketch: LinearProjection,
  options: RandomizedSvdOptions = {},
): Promise<TruncatedSvd> {
  checkShape(a, m, n, 'a');
  checkSketchInputs(sketch, n, 'a');
  const l = sketch.outputs;
  const { powerIterations = 2, oversampling } = options;
  if (!(Number.isInteger(k) && k >= 1 && k <= l)) {
    throw new ArgumentError(`k = ${k} is not an integer in [1, ${l}] (the sketch's outputs)`, {
      field: 'k',
      fix: 'open the OPU with outputs = k + oversampling',
    });
  }
  if (oversampling !== undefined && k + oversampling !== l) {
    throw new ArgumentError(`k + oversampling = ${k + oversampling} but the sketch has ${l} outputs`, {
      field: 'options.oversampling',
      fix: `open the OPU with outputs = ${k + oversampling}`,
    });
  }
  if (l > Math.min(m, n)) {
    throw new ArgumentError(`the sketch's ${l} outputs exceed min(m, n) = ${Math.min(m, n)}`, {
      field: 'sketch.outputs',
      fix: 'use a sketch with at most min(m, n) outputs',
    });
  }
  let q = orthonormalColumns(await sketchRows(sketch, a, options), m, l);
  const z = new Float32Array(n * l);
  const y = new Float32Array(m * l);
  for (let i = 0; i < powerIterations; i++) {
    // Re-orthonormalizing between the products keeps the directions of small singular values from drowning in
    // rounding (HMT algorithm 4.4).
    kernels.sgemm(n, l, m, a, q, z, { transA: true });
    const w = orthonormalColumns(z, n, l);
    kernels.sgemm(m, l, n, a, w, y);
    q = orthonormalColumns(y, m, l);
  }
  const b = new Float32Array(l * n);
  kernels.sgemm(l, n, m, q, a, b, { transA: true });
  const small = svd(b, l, n);
  // U = Q·U_B, its first k columns only, in float64: single precision would cost the accuracy the SVD just gave.
  const u = new Float64Array(m * k);
  kernels.dgemm(m, k, l, Float64Array.from(q), small.u, u, { ldb: l });
  return {
    u: Float32Array.from(u),
    s: small.s.slice(0, k),
    v: leadingColumns(small.v, n, l, k),
  };
}

function orthonormalColumns(y: Float32Array, rows: number, cols: number): Float32Array {
  return Float32Array.from(thinQr(y, rows, cols).q);
}

function leadingColumns(x: Float64Array, rows: number, cols: number, k: number): Float32Array {
  const out = new Float32Array(rows * k);
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = x[i * cols + j]!;
  return out;
}

import { ArgumentError, seededNormal, seededUniform } from 'opu-core';
import { kernels } from 'opu-native';
import { thinQr } from './qr.js';

/** `cols` orthonormal columns of length `rows` (row-major), from the QR of a seeded Gaussian matrix. */
export function randomOrthonormal(rows: number, cols: number, seed: number): Float32Array {
  const g = Float64Array.from({ length: rows * cols }, seededNormal(seed));
  return Float32Array.from(thinQr(g, rows, cols).q);
}

export interface LowRankPlusNoise {
  /** rows × cols, row-major. */
  a: Float32Array;
  /** The top singular values, exactly (to single-precision rounding): the planted ones. */
  singularValues: Float64Array;
}

/**
 * A = U·diag(σ)·Vᵀ + noise·(I − UUᵀ)·G·(I − VVᵀ), G i.i.d. N(0, 1): the noise lives in the orthogonal complement of
 * the planted singular vectors, so the top singular values are exactly σ as long as σ_last exceeds the noise's
 * largest singular value, about noise·(√rows + √cols) (checked).
 */
export function lowRankPlusNoise(
  rows: number,
  cols: number,
  singularValues: ArrayLike<number>,
  noise: number,
  seed: number,
): LowRankPlusNoise {
  const r = singularValues.length;
  const floor = noise * (Math.sqrt(rows) + Math.sqrt(cols));
  if (Math.min(...Array.from(singularValues)) <= 1.1 * floor) {
    throw new ArgumentError(`the smallest planted value is not above the noise's ≈ ${floor.toPrecision(3)}`, {
      field: 'singularValues',
      fix: 'lower the noise or raise the planted singular values',
    });
  }
  const u = randomOrthonormal(rows, r, seed);
  const v = randomOrthonormal(cols, r, seed + 1);
  const g = Float32Array.from({ length: rows * cols }, seededNormal(seed + 2));
  const t = new Float32Array(r * cols);
  kernels.sgemm(r, cols, rows, u, g, t, { transA: true });
  kernels.sgemm(rows, cols, r, u, t, g, { alpha: -1, beta: 1 });
  const gv = new Float32Array(rows * r);
  kernels.sgemm(rows, r, cols, g, v, gv);
  kernels.sgemm(rows, cols, r, gv, v, g, { transB: true, alpha: -1, beta: 1 });
  const us = u.map((x, i) => x * singularValues[i % r]!);
  kernels.sgemm(rows, cols, r, us, v, g, { transB: true, beta: noise });
  return { a: g, singularValues: Float64Array.from(singularValues) };
}

/**
 * A symmetric positive semi-definite n × n matrix U·diag(λ)·Uᵀ of rank λ.length, U random orthonormal: its trace
 * is Σλ and ‖A‖_F² = Σλ², known by construction.
 */
export function symmetricPsd(n: number, eigenvalues: ArrayLike<number>, seed: number): Float32Array {
  const r = eigenvalues.length;
  const u = randomOrthonormal(n, r, seed);
  const ul = u.map((x, i) => x * eigenvalues[i % r]!);
  const a = new Float32Array(n * n);
  kernels.sgemm(n, n, r, ul, u, a, { transB: true });
  return a;
}

/**
 * Adjacency (n × n, symmetric, 0/1, no self-loops) of a stochastic block model: `blocks` communities of about equal
 * size, an edge with probability `within` inside a community and `between` across. Communities add triangles
 * that an Erdős–Rényi graph of the same density lacks.
 */
export function stochasticBlockModel(
  n: number,
  blocks: number,
  within: number,
  between: number,
  seed: number,
): Float32Array {
  const uniform = seededUniform(seed);
  const community = (i: number) => Math.floor((i * blocks) / n);
  const a = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const edge = uniform() < (community(i) === community(j) ? within : between) ? 1 : 0;
      a[i * n + j] = edge;
      a[j * n + i] = edge;
    }
  }
  return a;
}

/** Erdős–Rényi G(n, probability): every edge independently. */
export function erdosRenyi(n: number, probability: number, seed: number): Float32Array {
  return stochasticBlockModel(n, 1, probability, probability, seed);
}

import { describe, expect, it } from 'vitest';
import { topEigenpair } from '../src/measure/top-eigenpair.js';
import { gaussians } from './helpers/fake-device.js';

function matVec(a: Float64Array, k: number, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(k);
  for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) out[r]! += a[r * k + c]! * v[c]!;
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function frobenius(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** Largest eigenvalue of [[a, b], [b, d]] in closed form. */
function top2x2(a: number, b: number, d: number): number {
  return (a + d) / 2 + Math.hypot((a - d) / 2, b);
}

function randomSymmetric(k: number, seed: number, scale = 1): Float64Array {
  const g = gaussians(k * k, seed);
  const a = new Float64Array(k * k);
  for (let r = 0; r < k; r++) {
    for (let c = r; c < k; c++) {
      a[r * k + c] = g[r * k + c]! * scale;
      a[c * k + r] = g[r * k + c]! * scale;
    }
  }
  return a;
}

/**
 * Independent checks of a claimed top eigenpair: unit norm, A·v = λ·v, and λ at least the Rayleigh quotient of
 * every basis vector and of many random vectors (so it is the largest eigenvalue, not just any).
 */
function expectTopEigenpair(a: Float64Array, k: number, lambda: number, v: Float64Array, seed: number): void {
  const tolerance = 1e-10 * (1 + frobenius(a));
  expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-12);
  const av = matVec(a, k, v);
  for (let r = 0; r < k; r++) expect(Math.abs(av[r]! - lambda * v[r]!)).toBeLessThan(tolerance);
  for (let r = 0; r < k; r++) expect(a[r * k + r]!).toBeLessThanOrEqual(lambda + tolerance);
  const probes = gaussians(64 * k, seed);
  for (let p = 0; p < 64; p++) {
    const x = probes.subarray(p * k, (p + 1) * k);
    expect(dot(x, matVec(a, k, x)) / dot(x, x)).toBeLessThanOrEqual(lambda + tolerance);
  }
}

describe('topEigenpair', () => {
  it('finds the top eigenpair of random symmetric 1×1 to 4×4 matrices', () => {
    let seed = 1;
    for (let k = 1; k <= 4; k++) {
      for (let trial = 0; trial < 150; trial++) {
        const a = randomSymmetric(k, seed++, trial % 3 === 0 ? 1e3 : 1);
        const copy = Float64Array.from(a);
        const v = new Float64Array(k);
        const lambda = topEigenpair(a, k, v);
        expect(a).toEqual(copy);
        expectTopEigenpair(a, k, lambda, v, seed++);
        if (k === 2) expect(lambda).toBeCloseTo(top2x2(a[0]!, a[1]!, a[3]!), 9);
      }
    }
  });

  it('finds the top eigenpair of rank-2 PSD matrices (reference Gram matrices)', () => {
    let seed = 1000;
    for (let k = 2; k <= 4; k++) {
      for (let trial = 0; trial < 100; trial++) {
        // A = p·pᵀ + q·qᵀ, the Gram matrix Re(b̄_k·b_l) of complex fields b = p + i·q.
        const p = gaussians(k, seed++);
        const q = gaussians(k, seed++);
        const a = new Float64Array(k * k);
        for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) a[r * k + c] = p[r]! * p[c]! + q[r]! * q[c]!;
        const v = new Float64Array(k);
        const lambda = topEigenpair(a, k, v);
        expectTopEigenpair(a, k, lambda, v, seed++);
        // The non-zero eigenvalues of [p q]·[p q]ᵀ are those of the 2×2 Gram matrix [p q]ᵀ·[p q].
        const expected = top2x2(dot(p, p), dot(p, q), dot(q, q));
        expect(Math.abs(lambda - expected)).toBeLessThan(1e-10 * expected);
        // The top eigenvector lies in span(p, q): its component orthogonal to both vanishes.
        const pp = dot(p, p);
        const residual = Float64Array.from(v, (x, i) => x - (dot(v, p) / pp) * p[i]!);
        const qPerp = Float64Array.from(q, (x, i) => x - (dot(q, p) / pp) * p[i]!);
        const inPlane = Float64Array.from(
          residual,
          (x, i) => x - (dot(residual, qPerp) / dot(qPerp, qPerp)) * qPerp[i]!,
        );
        expect(Math.hypot(...inPlane)).toBeLessThan(1e-8);
      }
    }
  });

  it('returns the largest eigenvalue, not the largest in magnitude', () => {
    const a = Float64Array.of(-5, 0, 0, 0, 1, 0, 0, 0, -3);
    const v = new Float64Array(3);
    expect(topEigenpair(a, 3, v)).toBe(1);
    expect(Array.from(v, Math.abs)).toEqual([0, 1, 0]);
    const rotated = Float64Array.of(-2, 3, 3, -2); // eigenvalues 1 and −5
    const w = new Float64Array(2);
    expect(topEigenpair(rotated, 2, w)).toBeCloseTo(1, 12);
    expect(Math.abs(w[0]! - w[1]!)).toBeLessThan(1e-12);
  });

  it('handles degenerate matrices', () => {
    const v = new Float64Array(3);
    expect(topEigenpair(new Float64Array(9), 3, v)).toBe(0);
    expect(Math.hypot(...v)).toBeCloseTo(1, 12);
    const identity = Float64Array.of(3, 0, 0, 0, 3, 0, 0, 0, 3);
    expect(topEigenpair(identity, 3, v)).toBe(3);
    expect(Math.hypot(...v)).toBeCloseTo(1, 12);
    // Rank 1: all of the weight on one direction.
    const u = [1, 2, 2];
    const rank1 = Float64Array.from({ length: 9 }, (_, i) => u[Math.floor(i / 3)]! * u[i % 3]!);
    expect(topEigenpair(rank1, 3, v)).toBeCloseTo(9, 10);
    expect(Math.abs(dot(v, u)) / 3).toBeCloseTo(1, 10);
  });
});

import { seededNormal } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { lowRankPlusNoise, svd, symmetricPsd, thinQr } from '../src/index.js';

/** max |XᵀX − I| over the k orthonormal columns of X (rows × k). */
function orthonormalityError(x: ArrayLike<number>, rows: number, k: number): number {
  let worst = 0;
  for (let p = 0; p < k; p++) {
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += x[i * k + p]! * x[i * k + q]!;
      worst = Math.max(worst, Math.abs(s - (p === q ? 1 : 0)));
    }
  }
  return worst;
}

/** max |U·diag(s)·Vᵀ − A| / max |A|. */
function reconstructionError(a: ArrayLike<number>, rows: number, cols: number): number {
  const { u, s, v } = svd(a, rows, cols);
  const r = s.length;
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let x = 0;
      for (let l = 0; l < r; l++) x += u[i * r + l]! * s[l]! * v[j * r + l]!;
      worst = Math.max(worst, Math.abs(x - a[i * cols + j]!));
      scale = Math.max(scale, Math.abs(a[i * cols + j]!));
    }
  }
  return worst / scale;
}

const gaussian = (rows: number, cols: number, seed: number) =>
  Float64Array.from({ length: rows * cols }, seededNormal(seed));

describe('dense SVD (QR, then one-sided Jacobi)', () => {
  for (const [rows, cols] of [
    [40, 12],
    [12, 40],
    [30, 30],
    [1, 5],
  ] as const) {
    it(`reconstructs a ${rows} × ${cols} Gaussian matrix with orthonormal factors and sorted values`, () => {
      const a = gaussian(rows, cols, rows * 100 + cols);
      const { u, s, v } = svd(a, rows, cols);
      const r = Math.min(rows, cols);
      expect(s.length).toBe(r);
      expect(reconstructionError(a, rows, cols)).toBeLessThan(1e-12);
      expect(orthonormalityError(u, rows, r)).toBeLessThan(1e-12);
      expect(orthonormalityError(v, cols, r)).toBeLessThan(1e-12);
      for (let i = 1; i < r; i++) expect(s[i]!).toBeLessThanOrEqual(s[i - 1]!);
    });
  }

  it('gives the singular values of a diagonal matrix, and a rank-deficient one with zeros', () => {
    expect(Array.from(svd(Float64Array.from([0, 0, 3, 0, -5, 0]), 2, 3).s)).toEqual([5, 3]);
    // Rank 1: the second column is twice the first.
    const { s } = svd(Float64Array.from([1, 2, 3, 6, -2, -4]), 3, 2);
    expect(s[0]).toBeCloseTo(Math.sqrt(5 * 14), 12);
    expect(s[1]).toBeLessThan(1e-12);
  });

  it('keeps small singular values to high relative accuracy (no AᵀA squaring)', () => {
    // A = U·diag(1, 1e-10)·Vᵀ with rotations: the eigenvalues of AᵀA would lose the small one entirely.
    const [c, s] = [Math.cos(0.3), Math.sin(0.3)];
    const [c2, s2] = [Math.cos(1.1), Math.sin(1.1)];
    const d = [1, 1e-10];
    const a = new Float64Array(4);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const ui = i === 0 ? [c, -s] : [s, c];
        const vj = j === 0 ? [c2, -s2] : [s2, c2];
        a[i * 2 + j] = ui[0]! * d[0]! * vj[0]! + ui[1]! * d[1]! * vj[1]!;
      }
    }
    expect(svd(a, 2, 2).s[1]! / 1e-10).toBeCloseTo(1, 4);
  });

  it('thin QR: Q orthonormal, R upper triangular, Q·R = A', () => {
    const [rows, cols] = [50, 8];
    const a = gaussian(rows, cols, 3);
    const { q, r } = thinQr(a, rows, cols);
    expect(orthonormalityError(q, rows, cols)).toBeLessThan(1e-13);
    let worst = 0;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let x = 0;
        for (let l = 0; l < cols; l++) x += q[i * cols + l]! * r[l * cols + j]!;
        worst = Math.max(worst, Math.abs(x - a[i * cols + j]!));
      }
    }
    expect(worst).toBeLessThan(1e-12);
    for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) expect(r[i * cols + j]).toBe(0);
  });
});

describe('generators with a known spectrum', () => {
  it('lowRankPlusNoise plants its top singular values exactly, above a noise floor', () => {
    const planted = [50, 30, 20, 12];
    const { a, singularValues } = lowRankPlusNoise(96, 64, planted, 0.5, 4);
    const { s } = svd(a, 96, 64);
    for (let i = 0; i < planted.length; i++) expect(s[i]! / singularValues[i]!).toBeCloseTo(1, 5);
    // The floor: about 0.5·(√92 + √60) ≈ 8.7, far from zero (the noise is there) and below the planted values.
    expect(s[planted.length]!).toBeGreaterThan(6);
    expect(s[planted.length]!).toBeLessThan(10);
    expect(() => lowRankPlusNoise(96, 64, [5], 0.5, 4)).toThrow(/noise/);
  });

  it('symmetricPsd has the eigenvalues asked for: trace Σλ, ‖A‖_F² = Σλ², symmetric', () => {
    const n = 64;
    const lambda = Array.from({ length: 20 }, (_, i) => 1 + i);
    const a = symmetricPsd(n, lambda, 5);
    let trace = 0;
    let frobenius = 0;
    let asymmetry = 0;
    for (let i = 0; i < n; i++) {
      trace += a[i * n + i]!;
      for (let j = 0; j < n; j++) {
        frobenius += a[i * n + j]! ** 2;
        asymmetry = Math.max(asymmetry, Math.abs(a[i * n + j]! - a[j * n + i]!));
      }
    }
    expect(trace).toBeCloseTo(210, 3);
    expect(frobenius / 2870).toBeCloseTo(1, 5);
    expect(asymmetry).toBeLessThan(1e-5);
    expect(Array.from(svd(a, n, n).s.slice(0, 3), (x) => Number(x.toFixed(4)))).toEqual([20, 19, 18]);
  });
});

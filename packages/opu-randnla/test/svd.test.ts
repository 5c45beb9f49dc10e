import { seededNormal, seededUniform } from 'opu-core';
import { kernels } from 'opu-native';
import { describe, expect, it } from 'vitest';
import { lowRankPlusNoise, svd, symmetricPsd, thinQr } from '../src/index.js';

/** max |XᵀX − I| over the first k columns of X (rows × stride), which should be orthonormal. */
function orthonormalityError(x: ArrayLike<number>, rows: number, k: number, stride = k): number {
  let worst = 0;
  for (let p = 0; p < k; p++) {
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += x[i * stride + p]! * x[i * stride + q]!;
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

/** Determinant of an integer matrix (n × n, row-major), exactly: Bareiss' fraction-free elimination in BigInt. */
function exactDeterminant(m: readonly bigint[], n: number): bigint {
  if (n === 0) return 1n;
  const a = [...m];
  let previous = 1n;
  let sign = 1n;
  for (let k = 0; k < n - 1; k++) {
    if (a[k * n + k] === 0n) {
      const pivot = Array.from({ length: n - k - 1 }, (_, i) => k + 1 + i).find((i) => a[i * n + k] !== 0n);
      if (pivot === undefined) return 0n;
      for (let j = 0; j < n; j++) [a[k * n + j], a[pivot * n + j]] = [a[pivot * n + j]!, a[k * n + j]!];
      sign = -sign;
    }
    for (let i = k + 1; i < n; i++) {
      for (let j = k + 1; j < n; j++) {
        a[i * n + j] = (a[i * n + j]! * a[k * n + k]! - a[i * n + k]! * a[k * n + j]!) / previous;
      }
    }
    previous = a[k * n + k]!;
  }
  return sign * a[n * n - 1]!;
}

describe(`dense SVD through opu-native's kernels.svd (${kernels.backend}: QR, then one-sided Jacobi)`, () => {
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

  it('keeps graded singular values down to 1e-17 of the largest to ~1e-12 relative accuracy (exact references)', () => {
    // A = B·D, B 20 × 4 with small integer entries (well conditioned), D = diag(1, 2⁻²⁰, 2⁻⁴⁰, 2⁻⁶⁰): the entries
    // are exact. With columns this graded, σ_j = d_j·‖b_j's part orthogonal to b_1 … b_(j−1)‖·(1 + O(2⁻⁴⁰)), and that
    // norm² is G_j / G_(j−1), G_j the determinant of the leading j × j Gram matrix of B, an integer computed exactly.
    // The eigenvalues of AᵀA lose σ₃ and σ₄ entirely (σ₄² < 1e-34·σ₁², far below its rounding) and σ₂ to 1e-5.
    const [rows, cols] = [20, 4];
    const uniform = seededUniform(8);
    const b = Array.from({ length: rows * cols }, () => Math.floor(7 * uniform()) - 3);
    const d = [1, 2 ** -20, 2 ** -40, 2 ** -60];
    const a = Float64Array.from(b, (x, i) => x * d[i % cols]!);
    const gram = (j: number) =>
      exactDeterminant(
        Array.from({ length: j * j }, (_, e) => {
          let sum = 0;
          for (let r = 0; r < rows; r++) sum += b[r * cols + Math.floor(e / j)]! * b[r * cols + (e % j)]!;
          return BigInt(sum);
        }),
        j,
      );
    const expected = d.map((dj, j) => dj * Math.sqrt(Number(gram(j + 1)) / Number(gram(j))));
    const transpose = Float64Array.from(
      { length: rows * cols },
      (_, e) => a[(e % rows) * cols + Math.floor(e / rows)]!,
    );
    for (const s of [svd(a, rows, cols).s, svd(transpose, cols, rows).s]) {
      expect(s[3]! / s[0]!).toBeLessThan(1e-17);
      for (let j = 0; j < cols; j++) expect(Math.abs(s[j]! / expected[j]! - 1), `σ${j + 1}`).toBeLessThan(1e-12);
    }
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
    for (let i = 0; i < cols; i++) expect(r[i * cols + i]).toBeGreaterThan(0);
  });

  it('thin QR of a rank-deficient matrix: the dependent column of Q is 0, its coefficients stay in R', () => {
    // Column 2 = column 0 + 2·column 1, exactly.
    const [rows, cols] = [10, 3];
    const a = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      a[i * cols] = (i % 4) - 1;
      a[i * cols + 1] = ((3 * i) % 5) - 2;
      a[i * cols + 2] = a[i * cols]! + 2 * a[i * cols + 1]!;
    }
    const { q, r } = thinQr(Float32Array.from(a), rows, cols);
    expect(orthonormalityError(q, rows, 2, cols)).toBeLessThan(1e-13);
    for (let i = 0; i < rows; i++) expect(q[i * cols + 2]).toBe(0);
    expect(r[2 * cols + 2]).toBe(0);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let x = 0;
        for (let l = 0; l < cols; l++) x += q[i * cols + l]! * r[l * cols + j]!;
        expect(Math.abs(x - a[i * cols + j]!)).toBeLessThan(1e-13);
      }
    }
  });

  it('refuses an array whose length is not rows × cols, and a wide thin QR, with typed errors', () => {
    expect(() => svd(new Float64Array(5), 2, 3)).toThrow(/expected 2 × 3/);
    expect(() => thinQr(new Float64Array(6), 2, 3)).toThrow(/3 columns exceed the 2 rows/);
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

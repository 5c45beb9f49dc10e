/**
 * The TypeScript dense linear algebra (src/linalg/dense.ts) against independent computations: naive products,
 * Gram–Schmidt, planted spectra built from random orthogonal matrices. The C++ twin is checked by
 * addon/test/dense-check.cc (scripts/check-dense.mjs) on the same kinds of cases.
 */
import { describe, expect, it } from 'vitest';
import { choleskyFactorTs, choleskySolveTs, dgemmTs, svdTs, symmetricEigenTs, thinQrTs } from '../src/linalg/dense.js';

const EPSILON = Number.EPSILON;

/** Mulberry32 uniforms in (0, 1) and Box–Muller normals: the same generator as addon/test/dense-check.cc. */
function seeded(seed: number): { uniform: () => number; normal: () => number } {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

function normals(random: ReturnType<typeof seeded>, rows: number, cols: number): Float64Array {
  return Float64Array.from({ length: rows * cols }, random.normal);
}

/** op(A)·op(B) by the triple loop, row-major. */
function product(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  lda: number,
  b: Float64Array,
  ldb: number,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s += (transA ? a[p * lda + i]! : a[i * lda + p]!) * (transB ? b[j * ldb + p]! : b[p * ldb + j]!);
      c[i * n + j] = s;
    }
  }
  return c;
}

function maxAbs(x: Float64Array): number {
  let best = 0;
  for (const value of x) best = Math.max(best, Math.abs(value));
  return best;
}

function maxDifference(x: Float64Array, y: Float64Array): number {
  let best = 0;
  for (let i = 0; i < x.length; i++) best = Math.max(best, Math.abs(x[i]! - y[i]!));
  return best;
}

/** Columns of a normal rows × cols matrix made orthonormal by modified Gram–Schmidt, run twice. */
function orthonormal(random: ReturnType<typeof seeded>, rows: number, cols: number): Float64Array {
  const q = normals(random, rows, cols);
  for (let j = 0; j < cols; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let c = 0;
        for (let i = 0; i < rows; i++) c += q[i * cols + k]! * q[i * cols + j]!;
        for (let i = 0; i < rows; i++) q[i * cols + j]! -= c * q[i * cols + k]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += q[i * cols + j]! ** 2;
    for (let i = 0; i < rows; i++) q[i * cols + j]! /= Math.sqrt(norm);
  }
  return q;
}

/** max |XᵀX − I| over the columns of x (rows × cols) that are not zero. */
function orthonormality(x: Float64Array, rows: number, cols: number): number {
  const gram = product(true, false, cols, cols, rows, x, cols, x, cols);
  let worst = 0;
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) {
      if (gram[i * cols + i] === 0 || gram[j * cols + j] === 0) continue;
      worst = Math.max(worst, Math.abs(gram[i * cols + j]! - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

/** Whether every column's largest-magnitude entry (the first of equals) is positive, or the column is zero. */
function signedColumns(x: Float64Array, rows: number, cols: number): boolean {
  for (let k = 0; k < cols; k++) {
    let best = 0;
    for (let i = 1; i < rows; i++) if (Math.abs(x[i * cols + k]!) > Math.abs(x[best * cols + k]!)) best = i;
    if (x[best * cols + k]! < 0) return false;
  }
  return true;
}

/** U·diag(s)·Vᵀ for u rows × r, v cols × r. */
function recompose(
  u: Float64Array,
  s: Float64Array,
  v: Float64Array,
  rows: number,
  cols: number,
  r: number,
): Float64Array {
  const us = Float64Array.from(u, (x, index) => x * s[index % r]!);
  return product(false, true, rows, cols, r, us, r, v, r);
}

describe('dgemmTs', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 9, 1],
    [13, 17, 5],
    [33, 47, 29],
    [70, 130, 257],
    [131, 20, 140],
  ];
  it.each(shapes)(
    'm=%i n=%i k=%i, every transpose, leading dimensions wider than the rows, beta 0 and not',
    (m, n, k) => {
      const random = seeded(m * 1000 + n * 10 + k);
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const beta of [0, -1.3]) {
            const lda = (transA ? m : k) + 3;
            const ldb = (transB ? k : n) + 2;
            const ldc = n + 5;
            const a = normals(random, transA ? k : m, lda);
            const b = normals(random, transB ? n : k, ldb);
            const c = normals(random, m, ldc);
            // NaN where beta = 0 must overwrite (and in the padding, which is never written).
            if (beta === 0) c.fill(Number.NaN);
            const before = Float64Array.from(c);
            dgemmTs(transA, transB, m, n, k, 0.7, a, lda, b, ldb, beta, c, ldc);
            const expected = product(transA, transB, m, n, k, a, lda, b, ldb);
            let worst = 0;
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < ldc; j++) {
                const got = c[i * ldc + j]!;
                if (j >= n) {
                  expect(Object.is(got, before[i * ldc + j])).toBe(true);
                  continue;
                }
                const want = 0.7 * expected[i * n + j]! + (beta === 0 ? 0 : beta * before[i * ldc + j]!);
                worst = Math.max(worst, Math.abs(got - want));
              }
            }
            expect(worst).toBeLessThan(1e-13 * k);
          }
        }
      }
    },
  );

  it('k = 0 or alpha = 0 only scales C', () => {
    const c = Float64Array.from([1, 2, 3, 4]);
    dgemmTs(false, false, 2, 2, 0, 1, new Float64Array(0), 1, new Float64Array(0), 2, 2, c, 2);
    expect(Array.from(c)).toEqual([2, 4, 6, 8]);
    dgemmTs(false, false, 2, 2, 1, 0, Float64Array.of(1, 1), 1, Float64Array.of(1, 1), 2, 0, c, 2);
    expect(Array.from(c)).toEqual([0, 0, 0, 0]);
  });
});

/** A symmetric positive definite n×n matrix: XᵀX/rows + 0.01·I with X (n + 5) × n normal. */
function spd(random: ReturnType<typeof seeded>, n: number): Float64Array {
  const rows = n + 5;
  const x = normals(random, rows, n);
  const a = product(true, false, n, n, rows, x, n, x, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = a[i * n + j]! / rows + (i === j ? 0.01 : 0);
  return a;
}

describe('choleskyFactorTs and choleskySolveTs', () => {
  it.each([1, 2, 95, 97, 200])('n=%i: A = L·Lᵀ, upper triangle untouched, A·X = B for 1, 37 and 130 columns', (n) => {
    const random = seeded(100 + n);
    const a = spd(random, n);
    const factor = Float64Array.from(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) factor[i * n + j] = 1e300;
    expect(choleskyFactorTs(factor, n)).toBe(true);
    const lower = Float64Array.from(factor);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        expect(factor[i * n + j]).toBe(1e300);
        lower[i * n + j] = 0;
      }
    }
    const llt = product(false, true, n, n, n, lower, n, lower, n);
    expect(maxDifference(llt, a) / maxAbs(a)).toBeLessThan(20 * n * EPSILON);
    for (const width of [1, 37, 130]) {
      const b = normals(random, n, width);
      const x = Float64Array.from(b);
      choleskySolveTs(factor, n, x, width);
      const ax = product(false, false, n, width, n, a, n, x, width);
      expect(maxDifference(ax, b) / (maxAbs(a) * maxAbs(x))).toBeLessThan(20 * n * EPSILON);
    }
  });

  it.each([20, 150])(
    'n=%i: two pattern columns always lit together make a Gram matrix that is not positive definite',
    (n) => {
      const random = seeded(7 * n);
      const patterns = 2 * n;
      const xi = Float64Array.from({ length: patterns * n }, () => (random.uniform() < 0.5 ? 1 : 0));
      for (let i = 0; i < patterns; i++) xi[i * n + n - 3] = xi[i * n + Math.floor(n / 3)]!;
      const gram = product(true, false, n, n, patterns, xi, n, xi, n);
      expect(choleskyFactorTs(gram, n)).toBe(false);
      // Without the copy, the same patterns are positive definite.
      xi.forEach((_, index) => {
        if (index % n === n - 3) xi[index] = random.uniform() < 0.5 ? 1 : 0;
      });
      expect(choleskyFactorTs(product(true, false, n, n, patterns, xi, n, xi, n), n)).toBe(true);
    },
  );
});

/** R of the QR of a by classical Gram–Schmidt run twice, dropping columns as thinQr does (the former reference). */
function gramSchmidtR(a: Float64Array, rows: number, cols: number): Float64Array {
  const q = Float64Array.from(a);
  const r = new Float64Array(cols * cols);
  for (let j = 0; j < cols; j++) {
    let before = 0;
    for (let i = 0; i < rows; i++) before += q[i * cols + j]! ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let c = 0;
        for (let i = 0; i < rows; i++) c += q[i * cols + k]! * q[i * cols + j]!;
        r[k * cols + j]! += c;
        for (let i = 0; i < rows; i++) q[i * cols + j]! -= c * q[i * cols + k]!;
      }
    }
    let after = 0;
    for (let i = 0; i < rows; i++) after += q[i * cols + j]! ** 2;
    after = Math.sqrt(after);
    const keep = after > 1e-13 * Math.sqrt(before);
    r[j * cols + j] = keep ? after : 0;
    for (let i = 0; i < rows; i++) q[i * cols + j] = keep ? q[i * cols + j]! / after : 0;
  }
  return r;
}

function checkQr(a: Float64Array, rows: number, cols: number, dependent: number[]): void {
  const q = new Float64Array(rows * cols);
  const r = new Float64Array(cols * cols);
  thinQrTs(a, rows, cols, q, r);
  const qr = product(false, false, rows, cols, cols, q, cols, r, cols);
  expect(maxDifference(qr, a) / maxAbs(a)).toBeLessThan(10 * rows * EPSILON);
  expect(orthonormality(q, rows, cols)).toBeLessThan(10 * rows * EPSILON);
  expect(maxDifference(r, gramSchmidtR(a, rows, cols)) / maxAbs(a)).toBeLessThan(1e-11);
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < i; j++) expect(r[i * cols + j]).toBe(0);
    if (dependent.includes(i)) {
      expect(r[i * cols + i]).toBe(0);
      for (let k = 0; k < rows; k++) expect(q[k * cols + i]).toBe(0);
    } else {
      expect(r[i * cols + i]).toBeGreaterThan(0);
    }
  }
}

describe('thinQrTs', () => {
  it.each([
    [200, 120],
    [64, 64],
    [300, 40],
  ])('%i×%i: A = Q·R, QᵀQ = I, R as Gram–Schmidt gives it', (rows, cols) => {
    checkQr(normals(seeded(rows + cols), rows, cols), rows, cols, []);
  });

  it('a numerically dependent column (sum, zero, copy, in and across panels) is zero in Q and on R’s diagonal', () => {
    const rows = 90;
    const cols = 75;
    const a = normals(seeded(5), rows, cols);
    for (let i = 0; i < rows; i++) {
      a[i * cols + 5] = a[i * cols + 2]! + 0.5 * a[i * cols + 3]!;
      a[i * cols + 17] = 0;
      a[i * cols + 40] = a[i * cols]!;
      a[i * cols + 74] = a[i * cols + 33]! - a[i * cols + 60]!;
    }
    checkQr(a, rows, cols, [5, 17, 40, 74]);
  });
});

/** A = Q·diag(values)·Qᵀ for a random orthogonal Q. */
function planted(random: ReturnType<typeof seeded>, values: number[]): Float64Array {
  const n = values.length;
  const q = orthonormal(random, n, n);
  const ql = Float64Array.from(q, (x, index) => x * values[index % n]!);
  const a = product(false, true, n, n, n, ql, n, q, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i] = 0.5 * (a[i * n + j]! + a[j * n + i]!);
  return a;
}

function checkEigen(a: Float64Array, expected: number[]): void {
  const n = expected.length;
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  symmetricEigenTs(a, n, values, vectors);
  const sorted = Float64Array.from(expected).sort().reverse();
  const scale = Math.max(maxAbs(sorted), 1e-300);
  const limit = 10 * n * EPSILON + 4 * EPSILON;
  expect(maxDifference(values, sorted) / scale).toBeLessThan(limit);
  const residual = product(false, false, n, n, n, a, n, vectors, n).map(
    (x, index) => x - vectors[index]! * values[index % n]!,
  );
  expect(maxAbs(residual) / scale).toBeLessThan(limit);
  expect(orthonormality(vectors, n, n)).toBeLessThan(limit);
  expect(signedColumns(vectors, n, n)).toBe(true);
}

describe('symmetricEigenTs', () => {
  it('1×1, 2×2 and a repeated eigenvalue', () => {
    checkEigen(Float64Array.of(-3.5), [-3.5]);
    checkEigen(Float64Array.of(2, 1, 1, 2), [3, 1]);
    checkEigen(planted(seeded(3), [1, 1, 1, 1, 1]), [1, 1, 1, 1, 1]);
    checkEigen(Float64Array.of(3, 0, 0, 0, -2, 0, 0, 0, 5), [3, -2, 5]);
  });

  it.each([3, 20, 97, 150])('n=%i: planted spectrum over 3 decades, signs mixed, a pair and a near-zero value', (n) => {
    const values = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 : 1) * 10 ** ((3 * i) / n - 1));
    if (n > 3) values[1] = values[2]!;
    values[n - 1] = 1e-12;
    checkEigen(planted(seeded(n), values), values);
  });

  it('reads only the lower triangle', () => {
    const a = planted(seeded(9), [4, 3, 2, 1]);
    const garbled = Float64Array.from(a, (x, index) => (index % 4 > Math.floor(index / 4) ? 1e6 : x));
    const values = new Float64Array(4);
    const vectors = new Float64Array(16);
    symmetricEigenTs(garbled, 4, values, vectors);
    expect(maxDifference(values, Float64Array.of(4, 3, 2, 1))).toBeLessThan(1e-14);
  });
});

function svd(a: Float64Array, rows: number, cols: number) {
  const r = Math.min(rows, cols);
  const u = new Float64Array(rows * r);
  const s = new Float64Array(r);
  const v = new Float64Array(cols * r);
  svdTs(a, rows, cols, u, s, v);
  return { u, s, v, r };
}

function checkFactors(a: Float64Array, rows: number, cols: number, u: Float64Array, s: Float64Array, v: Float64Array) {
  const r = s.length;
  const limit = 20 * Math.max(rows, cols) * EPSILON;
  expect(maxDifference(recompose(u, s, v, rows, cols, r), a) / maxAbs(a)).toBeLessThan(limit);
  expect(orthonormality(u, rows, r)).toBeLessThan(limit);
  expect(orthonormality(v, cols, r)).toBeLessThan(limit);
  for (let k = 1; k < r; k++) expect(s[k]).toBeLessThanOrEqual(s[k - 1]!);
  expect(signedColumns(v, cols, r)).toBe(true);
}

/** σ_k = 10^(2 − 10k/(r−1)): 1e2 down to 1e-8. */
function spread(r: number): Float64Array {
  return Float64Array.from({ length: r }, (_, k) => 10 ** (2 - (10 * k) / (r - 1)));
}

describe('svdTs', () => {
  it.each([
    [150, 60],
    [60, 150],
    [80, 80],
  ])('%i×%i, σ = 1e2..1e-8 between random U and V: every σ to eps·σ_max, the factors', (rows, cols) => {
    const random = seeded(rows * cols);
    const r = Math.min(rows, cols);
    const sigma = spread(r);
    const a = recompose(orthonormal(random, rows, r), sigma, orthonormal(random, cols, r), rows, cols, r);
    const { u, s, v } = svd(a, rows, cols);
    // A's own rounding moves every σ by about eps·σ_max: no method does better on such a matrix.
    expect(maxDifference(s, sigma) / sigma[0]!).toBeLessThan(40 * r * EPSILON);
    checkFactors(a, rows, cols, u, s, v);
  });

  it.each([
    [70, 30],
    [30, 70],
  ])(
    '%i×%i graded: A = U·Σ·Vᵀ with columns (rows when wide) scaled 1e2..1e-8, every σ to relative accuracy',
    (rows, cols) => {
      // V is a product of plane rotations whose angles shrink with the ratio of the two σ they mix, so column j of
      // U·Σ·Vᵀ stays of size σ_j: A = B·D with B well conditioned, whose σ its entries determine to relative accuracy.
      const random = seeded(rows + 2 * cols);
      const r = Math.min(rows, cols);
      const sigma = spread(r);
      const mixing = new Float64Array(r * r);
      for (let k = 0; k < r; k++) mixing[k * r + k] = 1;
      for (let p = 0; p < r; p++) {
        for (let q = p + 1; q < r; q++) {
          const angle = 0.1 * (sigma[q]! / sigma[p]!) * (random.uniform() - 0.5);
          const c = Math.cos(angle);
          const s = Math.sin(angle);
          for (let k = 0; k < r; k++) {
            const x = mixing[k * r + p]!;
            const y = mixing[k * r + q]!;
            mixing[k * r + p] = c * x - s * y;
            mixing[k * r + q] = s * x + c * y;
          }
        }
      }
      const tall = recompose(orthonormal(random, Math.max(rows, cols), r), sigma, mixing, Math.max(rows, cols), r, r);
      // Wide: the transpose, so that the rows are graded.
      const a =
        rows >= cols
          ? tall
          : Float64Array.from(
              { length: rows * cols },
              (_, index) => tall[(index % cols) * rows + Math.floor(index / cols)]!,
            );
      const { u, s, v } = svd(a, rows, cols);
      let worst = 0;
      for (let k = 0; k < r; k++) worst = Math.max(worst, Math.abs(s[k]! - sigma[k]!) / sigma[k]!);
      expect(worst).toBeLessThan(1e-12);
      checkFactors(a, rows, cols, u, s, v);
    },
  );

  it('rank 10 of 30: the trailing σ vanish, the factors still reconstruct', () => {
    const random = seeded(77);
    const a = product(false, false, 50, 30, 10, normals(random, 50, 10), 10, normals(random, 10, 30), 30);
    const { u, s, v } = svd(a, 50, 30);
    expect(s[10]! / s[0]!).toBeLessThan(100 * EPSILON);
    expect(maxDifference(recompose(u, s, v, 50, 30, 30), a) / maxAbs(a)).toBeLessThan(1000 * EPSILON);
    expect(orthonormality(v, 30, 30)).toBeLessThan(1000 * EPSILON);
  });

  it('zero: s = 0, u = 0, v orthonormal; 1×1 and a single row', () => {
    const zero = svd(new Float64Array(12 * 7), 12, 7);
    expect(maxAbs(zero.s)).toBe(0);
    expect(maxAbs(zero.u)).toBe(0);
    expect(orthonormality(zero.v, 7, 7)).toBe(0);
    const one = svd(Float64Array.of(-2), 1, 1);
    expect([one.u[0], one.s[0], one.v[0]]).toEqual([-1, 2, 1]);
    const row = svd(Float64Array.of(3, -4), 1, 2);
    expect(row.s[0]).toBeCloseTo(5, 14);
    expect(Array.from(row.v)).toEqual([expect.closeTo(-0.6, 14), expect.closeTo(0.8, 14)]);
    expect(row.u[0]).toBeCloseTo(-1, 14);
  });
});

/**
 * The dense float64 kernels through Kernels: the C++ addon against the TypeScript twins on the same inputs (within
 * what float64 factorizations that differ in summation order allow), the defining identities on both, and the
 * validation of shapes and overlaps. test/dense.test.ts checks the TypeScript twins against independent references.
 */
import { describe, expect, it } from 'vitest';
import { KernelArgumentError, Kernels, loadNative, typescriptKernels } from '../src/index.js';
import { seededUniform } from './helpers.js';

const native = loadNative();
const nativeKernels = native.implementation ? new Kernels('native', native.implementation) : undefined;
const implementations: [string, Kernels][] = [['typescript', typescriptKernels]];
if (nativeKernels) implementations.push(['native', nativeKernels]);

function normals(length: number, seed: number): Float64Array {
  const u = seededUniform(seed);
  return Float64Array.from({ length }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

/** Aᵀ·A + n·I: symmetric positive definite, well conditioned. */
function spd(n: number, seed: number): Float64Array {
  const a = normals(n * n, seed);
  const out = new Float64Array(n * n);
  typescriptKernels.dgemm(n, n, n, a, a, out, { transA: true });
  for (let i = 0; i < n; i++) out[i * n + i]! += n;
  return out;
}

/** Largest |x − y| over |y|'s largest entry (or 1), for comparing two results. */
function relativeGap(x: Float64Array, y: Float64Array): number {
  let gap = 0;
  let scale = 1;
  for (let i = 0; i < y.length; i++) {
    gap = Math.max(gap, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return gap / scale;
}

const lower = (a: Float64Array, n: number) => a.map((value, i) => (i % n <= Math.floor(i / n) ? value : 0));

describe.each(implementations)('dense kernels (%s): defining identities', (_name, k) => {
  it('dgemm equals the float64 triple loop for every transpose, with views and beta', () => {
    for (const [m, n, kk] of [
      [1, 1, 1],
      [7, 13, 5],
      [65, 40, 129],
    ] as const) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const A = normals(m * kk, 1);
          const B = normals(kk * n, 2);
          const C = normals(m * n, 3);
          const expected = C.map((c, idx) => {
            const [i, j] = [Math.floor(idx / n), idx % n];
            let s = 0;
            for (let p = 0; p < kk; p++)
              s += (transA ? A[p * m + i]! : A[i * kk + p]!) * (transB ? B[j * kk + p]! : B[p * n + j]!);
            return 0.5 * s + 2 * c;
          });
          k.dgemm(m, n, kk, A, B, C, { transA, transB, alpha: 0.5, beta: 2 });
          expect(relativeGap(C, expected)).toBeLessThan(1e-13);
        }
      }
    }
  });

  it('choleskyFactor then choleskySolve solve A·X = B; an indefinite matrix gives false', () => {
    const n = 150;
    const A = spd(n, 4);
    const L = A.slice();
    expect(k.choleskyFactor(L, n)).toBe(true);
    const LLt = new Float64Array(n * n);
    const Lo = lower(L, n);
    k.dgemm(n, n, n, Lo, Lo, LLt, { transB: true });
    expect(relativeGap(LLt, A)).toBeLessThan(1e-13);
    const width = 7;
    const X = normals(n * width, 5);
    const B = new Float64Array(n * width);
    k.dgemm(n, width, n, A, X, B);
    k.choleskySolve(L, n, B, width);
    expect(relativeGap(B, X)).toBeLessThan(1e-11);
    const indefinite = Float64Array.of(1, 2, 2, 1);
    expect(k.choleskyFactor(indefinite, 2)).toBe(false);
  });

  it('thinQr: Q has orthonormal columns, R is upper triangular with a nonnegative diagonal, A = Q·R', () => {
    const [rows, cols] = [120, 70];
    const A = normals(rows * cols, 6);
    const Q = new Float64Array(rows * cols);
    const R = new Float64Array(cols * cols).fill(Number.NaN);
    k.thinQr(A, rows, cols, Q, R);
    const QR = new Float64Array(rows * cols);
    k.dgemm(rows, cols, cols, Q, R, QR);
    expect(relativeGap(QR, A)).toBeLessThan(1e-12);
    const QtQ = new Float64Array(cols * cols);
    k.dgemm(cols, cols, rows, Q, Q, QtQ, { transA: true });
    const identity = Float64Array.from({ length: cols * cols }, (_, i) => (i % (cols + 1) === 0 ? 1 : 0));
    expect(relativeGap(QtQ, identity)).toBeLessThan(1e-13);
    for (let i = 0; i < cols; i++) {
      expect(R[i * cols + i]).toBeGreaterThanOrEqual(0);
      for (let j = 0; j < i; j++) expect(R[i * cols + j]).toBe(0);
    }
  });

  it('symmetricEigen: A·V = V·diag(λ), λ descending, V orthonormal', () => {
    const n = 90;
    const A = normals(n * n, 7);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A[j * n + i] = A[i * n + j]!;
    const values = new Float64Array(n);
    const V = new Float64Array(n * n);
    k.symmetricEigen(A, n, values, V);
    for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]!);
    const AV = new Float64Array(n * n);
    k.dgemm(n, n, n, A, V, AV);
    const VL = V.map((x, i) => x * values[i % n]!);
    expect(relativeGap(AV, VL)).toBeLessThan(1e-12);
  });

  it('svd of a tall and of a wide matrix: U·diag(s)·Vᵀ = A, s descending, orthonormal U and V', () => {
    for (const [rows, cols] of [
      [80, 50],
      [40, 95],
    ] as const) {
      const r = Math.min(rows, cols);
      const A = normals(rows * cols, 8);
      const [U, s, V] = [new Float64Array(rows * r), new Float64Array(r), new Float64Array(cols * r)];
      k.svd(A, rows, cols, U, s, V);
      for (let i = 1; i < r; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]!);
      const US = U.map((x, i) => x * s[i % r]!);
      const USVt = new Float64Array(rows * cols);
      k.dgemm(rows, cols, r, US, V, USVt, { transB: true });
      expect(relativeGap(USVt, A)).toBeLessThan(1e-12);
      const VtV = new Float64Array(r * r);
      k.dgemm(r, r, cols, V, V, VtV, { transA: true });
      expect(
        relativeGap(
          VtV,
          Float64Array.from({ length: r * r }, (_, i) => (i % (r + 1) === 0 ? 1 : 0)),
        ),
      ).toBeLessThan(1e-13);
    }
  });

  it('rejects bad shapes and overlapping outputs with typed errors, before writing', () => {
    const a = normals(12, 9);
    const bad: [() => unknown, RegExp][] = [
      [() => k.dgemm(3, 3, 4, new Float64Array(11), a, new Float64Array(9)), /^A: has 11 elements/],
      [
        () => k.dgemm(3, 3, 4, new Float32Array(12) as unknown as Float64Array, a, new Float64Array(9)),
        /^A: is not a Float64Array/,
      ],
      [() => k.choleskyFactor(new Float64Array(8), 3), /^a: has 8 elements/],
      [() => k.choleskySolve(new Float64Array(9), 3, new Float64Array(5), 2), /^b: has 5 elements/],
      [() => k.thinQr(a, 3, 4, new Float64Array(12), new Float64Array(16)), /^cols: 4 columns exceed the 3 rows/],
      [() => k.thinQr(a, 4, 3, a.subarray(0, 12), new Float64Array(9)), /^q: overlaps a/],
      [
        () => k.symmetricEigen(a.subarray(0, 9), 3, new Float64Array(2), new Float64Array(9)),
        /^values: has 2 elements/,
      ],
      [() => k.svd(a, 3, 4, new Float64Array(9), new Float64Array(3), a), /^(v|a): overlaps (a|v)/],
      [() => k.svd(a, 3, 4, new Float64Array(9), new Float64Array(3), new Float64Array(11)), /^v: has 11 elements/],
    ];
    for (const [call, message] of bad) {
      expect(call).toThrow(KernelArgumentError);
      expect(call).toThrow(message);
    }
  });
});

describe.runIf(nativeKernels)('dense kernels: C++ against TypeScript on the same inputs', () => {
  const ts = typescriptKernels;
  const cc = nativeKernels!;

  it('dgemm', () => {
    const [m, n, kk] = [97, 131, 300];
    const A = normals(m * kk, 10);
    const B = normals(kk * n, 11);
    const [x, y] = [normals(m * n, 12), normals(m * n, 12)];
    ts.dgemm(m, n, kk, A, B, x, { beta: -1, alpha: 0.25 });
    cc.dgemm(m, n, kk, A, B, y, { beta: -1, alpha: 0.25 });
    expect(relativeGap(y, x)).toBeLessThan(1e-13);
  });

  it('choleskyFactor and choleskySolve', () => {
    const n = 230; // more than two blocks of 96
    const A = spd(n, 13);
    const [Lt, Lc] = [A.slice(), A.slice()];
    expect(ts.choleskyFactor(Lt, n)).toBe(true);
    expect(cc.choleskyFactor(Lc, n)).toBe(true);
    expect(relativeGap(lower(Lc, n), lower(Lt, n))).toBeLessThan(1e-13);
    const B = normals(n * 5, 14);
    const [Xt, Xc] = [B.slice(), B.slice()];
    ts.choleskySolve(Lt, n, Xt, 5);
    cc.choleskySolve(Lc, n, Xc, 5);
    expect(relativeGap(Xc, Xt)).toBeLessThan(1e-12);
    const singular = new Float64Array(4 * 4).fill(1);
    expect(cc.choleskyFactor(singular.slice(), 4)).toBe(ts.choleskyFactor(singular.slice(), 4));
  });

  it('thinQr (Q and R are unique with R’s diagonal ≥ 0)', () => {
    const [rows, cols] = [150, 75]; // more than two panels of 32
    const A = normals(rows * cols, 15);
    const out = [ts, cc].map((k) => {
      const [q, r] = [new Float64Array(rows * cols), new Float64Array(cols * cols)];
      k.thinQr(A, rows, cols, q, r);
      return [q, r] as const;
    });
    expect(relativeGap(out[1]![0], out[0]![0])).toBeLessThan(1e-11);
    expect(relativeGap(out[1]![1], out[0]![1])).toBeLessThan(1e-12);
  });

  it('symmetricEigen (separated eigenvalues: the vectors are unique up to the shared sign rule)', () => {
    const n = 60;
    // Q·diag(1..n)·Qᵀ with Q from a QR: eigenvalues 1 apart.
    const Q = new Float64Array(n * n);
    typescriptKernels.thinQr(normals(n * n, 16), n, n, Q, new Float64Array(n * n));
    const QD = Q.map((x, i) => x * ((i % n) + 1));
    const A = new Float64Array(n * n);
    typescriptKernels.dgemm(n, n, n, QD, Q, A, { transB: true });
    const out = [ts, cc].map((k) => {
      const [values, vectors] = [new Float64Array(n), new Float64Array(n * n)];
      k.symmetricEigen(A, n, values, vectors);
      return [values, vectors] as const;
    });
    expect(relativeGap(out[1]![0], out[0]![0])).toBeLessThan(1e-13);
    expect(relativeGap(out[1]![1], out[0]![1])).toBeLessThan(1e-11);
  });

  it('svd, tall and wide', () => {
    for (const [rows, cols] of [
      [90, 45],
      [35, 70],
    ] as const) {
      const r = Math.min(rows, cols);
      const A = normals(rows * cols, 17);
      const out = [ts, cc].map((k) => {
        const [u, s, v] = [new Float64Array(rows * r), new Float64Array(r), new Float64Array(cols * r)];
        k.svd(A, rows, cols, u, s, v);
        return [u, s, v] as const;
      });
      expect(relativeGap(out[1]![1], out[0]![1])).toBeLessThan(1e-13);
      // Random Gaussian matrices: singular values well separated, so U and V agree column by column.
      expect(relativeGap(out[1]![0], out[0]![0])).toBeLessThan(1e-9);
      expect(relativeGap(out[1]![2], out[0]![2])).toBeLessThan(1e-9);
    }
  });
});

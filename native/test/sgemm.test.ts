import { describe, expect, it } from 'vitest';
import { KernelArgumentError, Kernels, kernels, loadNative, typescriptKernels } from '../src/index.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function filled(length: number, seed: number): Float32Array {
  const r = random(seed);
  return Float32Array.from({ length }, r);
}

/** Independent reference in float64: C = alpha·op(A)·op(B) + beta·C0. */
function reference(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  beta: number,
  C0: Float32Array,
  ldc: number,
): Float64Array {
  const out = Float64Array.from(C0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const a = transA ? A[p * lda + i]! : A[i * lda + p]!;
        const b = transB ? B[j * ldb + p]! : B[p * ldb + j]!;
        s += a * b;
      }
      out[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * C0[i * ldc + j]!);
    }
  }
  return out;
}

const native = loadNative();
const implementations: [string, Kernels][] = [['typescript', typescriptKernels]];
if (native.implementation) implementations.push(['native', new Kernels('native', native.implementation)]);

describe('kernel loading', () => {
  it('loads the C++ addon unless OPU_NATIVE=0 (a broken build must not pass silently)', () => {
    if (process.env.OPU_NATIVE === '0') {
      expect(kernels.backend).toBe('typescript');
      expect(loadNative().reason).toBe('OPU_NATIVE=0');
    } else {
      expect(native.reason).toBeUndefined();
      expect(kernels.backend).toBe('native');
      expect(['avx512f', 'avx2-fma', 'portable']).toContain(kernels.simd);
    }
  });

  it('falls back with a reason when the addon cannot be loaded', () => {
    expect(loadNative({ OPU_NATIVE: '0' })).toEqual({ implementation: undefined, reason: 'OPU_NATIVE=0' });
  });
});

describe.each(implementations)('sgemm (%s)', (_name, k) => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 17, 5],
    [13, 1, 7],
    [7, 9, 1],
    [33, 47, 29],
    [64, 48, 300],
    [100, 130, 257],
    [131, 70, 513],
    // Fewer rows than columns and enough work to split the columns across threads, with a partial last panel.
    [37, 333, 70],
  ];
  for (const [m, n, kk] of shapes) {
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`${m}×${n}×${kk} transA=${transA} transB=${transB}, alpha and beta, padded leading dimensions`, () => {
        const lda = (transA ? m : kk) + 3;
        const ldb = (transB ? kk : n) + 1;
        const ldc = n + 2;
        const A = filled((transA ? kk : m) * lda, m * 7 + kk);
        const B = filled((transB ? n : kk) * ldb, n * 11 + kk);
        const C = filled(m * ldc, 5);
        const expected = reference(transA, transB, m, n, kk, 0.75, A, lda, B, ldb, -0.5, C, ldc);
        k.sgemm(m, n, kk, A, B, C, { transA, transB, alpha: 0.75, beta: -0.5, lda, ldb, ldc });
        let worst = 0;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(C[i * ldc + j]! - expected[i * ldc + j]!));
        }
        // float32 accumulation of k products of magnitude ≤ 0.25: rounding ≲ 1e-6·√k.
        expect(worst).toBeLessThan(2e-5 * Math.sqrt(kk));
        // Padding columns of C are never written.
        for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) expect(C[i * ldc + j]).toBe(expected[i * ldc + j]);
      });
    }
  }

  it('an A with blank depths (MNIST-like: zero columns, 80% zeros) gives the product, in either layout', () => {
    // 128 images of 28×28 with ink only in a centred blob, against 800 units: the first layer's x·W1ᵀ.
    const [m, n, kk] = [128, 800, 784];
    const u = random(9);
    const x = new Float32Array(m * kk);
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < kk; p++) {
        const [row, col] = [Math.floor(p / 28), p % 28];
        const inBlob = (row - 14) ** 2 + (col - 14) ** 2 < 60 + 40 * u();
        x[i * kk + p] = inBlob && u() > 0 ? u() + 0.5 : 0;
      }
    }
    const xT = new Float32Array(kk * m);
    for (let i = 0; i < m; i++) for (let p = 0; p < kk; p++) xT[p * m + i] = x[i * kk + p]!;
    const W = filled(n * kk, 10);
    const expected = reference(false, true, m, n, kk, 1, x, kk, W, kk, 0, new Float32Array(m * n), n);
    for (const transA of [false, true]) {
      const C = new Float32Array(m * n);
      k.sgemm(m, n, kk, transA ? xT : x, W, C, { transA, transB: true });
      let worst = 0;
      for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(C[i]! - expected[i]!));
      expect(worst).toBeLessThan(2e-5 * Math.sqrt(kk));
    }
  });

  it('beta = 0 ignores NaN already in C; alpha = 0 only scales C', () => {
    // Small, and large enough for several K blocks, edge tiles and threads.
    for (const [m, n, kk] of [
      [3, 3, 4],
      [37, 333, 600],
    ] as const) {
      const A = filled(m * kk, 1);
      const B = filled(kk * n, 2);
      const C = new Float32Array(m * n).fill(Number.NaN);
      k.sgemm(m, n, kk, A, B, C);
      const expected = reference(false, false, m, n, kk, 1, A, kk, B, n, 0, new Float32Array(m * n), n);
      for (let i = 0; i < m * n; i++) expect(Math.abs(C[i]! - expected[i]!)).toBeLessThan(1e-3);
    }
    const [A, B] = [filled(12, 1), filled(12, 2)];
    const D = new Float32Array(9).fill(2);
    k.sgemm(3, 3, 4, A, B, D, { alpha: 0, beta: 0.5 });
    expect(Array.from(D)).toEqual(new Array(9).fill(1));
  });

  it('rejects bad input with typed errors and leaves C untouched', () => {
    const A = filled(12, 1);
    const B = filled(12, 2);
    const C = new Float32Array(9);
    const bad: [() => void, RegExp][] = [
      [() => k.sgemm(3, 3, 4, new Float32Array(11), B, C), /^A: has 11 elements/],
      [() => k.sgemm(3, 3, 4, A, B, new Float32Array(8)), /^C: /],
      [() => k.sgemm(3, 3, 4, [] as unknown as Float32Array, B, C), /^A: is not a Float32Array/],
      [() => k.sgemm(3, 3, 4, new Float64Array(12) as unknown as Float32Array, B, C), /Float32Array/],
      [() => k.sgemm(-1, 3, 4, A, B, C), /^m: /],
      [() => k.sgemm(3, 3.5, 4, A, B, C), /^n: /],
      [() => k.sgemm(3, 3, 4, A, B, C, { lda: 2 }), /^A\.ld: /],
      [() => k.sgemm(3, 3, 4, A, B, C, { alpha: Number.NaN }), /^options\.alpha: /],
      [() => k.sgemm(3, 3, 4, A, B, A.subarray(2, 11)), /^C: overlaps A/],
    ];
    for (const [call, message] of bad) {
      expect(call).toThrow(KernelArgumentError);
      expect(call).toThrow(message);
    }
    expect(Array.from(C)).toEqual(new Array(9).fill(0));
  });
});

describe('threads', () => {
  it('a native pool of any size gives the same sgemm result', () => {
    if (!native.implementation) return expect(kernels.backend).toBe('typescript');
    const k = new Kernels('native', native.implementation);
    // Rows split across threads, then columns.
    for (const [m, n, kk] of [
      [300, 200, 150],
      [60, 410, 150],
    ]) {
      const A = filled(m! * kk!, 3);
      const B = filled(kk! * n!, 4);
      const results = [1, 2, 3].map((t) => {
        expect(k.setThreads(t)).toBe(t);
        const C = new Float32Array(m! * n!);
        k.sgemm(m!, n!, kk!, A, B, C);
        return C;
      });
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
    }
    k.setThreads(0);
  });
});

describe('thread pool', () => {
  it('many short parallel calls in a row each run every task exactly once', () => {
    if (!native.implementation) return expect(kernels.backend).toBe('typescript');
    const k = new Kernels('native', native.implementation);
    // Three chunks per call: the caller and the workers race for them, call after call.
    const n = 3 << 15;
    const a = new Float32Array(n).fill(1);
    const h = new Float32Array(n);
    for (let call = 1; call <= 3000; call++) {
      for (const i of [0, n >> 1, n - 1]) a[i] = call;
      k.activate('relu', a, h);
      for (const i of [0, n >> 1, n - 1]) expect(h[i]).toBe(call);
    }
  });
});

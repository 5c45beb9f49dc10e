import { describe, expect, it } from 'vitest';
import { KernelArgumentError, Kernels, kernels, loadNative, typescriptKernels } from '../src/index.js';
import { seededUniform } from './helpers.js';

function filled(length: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  return Float32Array.from({ length }, () => u() - 0.5);
}

const native = loadNative();
const implementations: [string, Kernels][] = [['typescript', typescriptKernels]];
if (native.implementation) implementations.push(['native', new Kernels('native', native.implementation)]);

/** [m, n, k, transA, transB]: the training shapes (δᵀ·h, k = batch), depth beyond one block, edge tiles. */
const SHAPES: [number, number, number, boolean, boolean][] = [
  [200, 784, 128, true, false],
  [10, 800, 128, true, false],
  [37, 45, 600, true, false],
  [29, 70, 300, false, false],
  [50, 33, 17, false, true],
  [13, 41, 260, true, true],
];

interface Step {
  p: Float32Array;
  v: Float32Array;
}

function fusedAndUnfused(k: Kernels, [m, n, depth, transA, transB]: (typeof SHAPES)[number], decay: number) {
  const A = filled(m * depth, 1);
  const B = filled(depth * n, 2);
  const start = (): Step => ({ p: filled(m * n, 3), v: filled(m * n, 4) });
  const fused = start();
  k.sgemmSgdStep(m, n, depth, A, B, { ...fused, rate: 0.1, momentum: 0.9, decay }, { transA, transB, alpha: 0.5 });
  const unfused = start();
  const gradient = new Float32Array(m * n);
  k.sgemm(m, n, depth, A, B, gradient, { transA, transB, alpha: 0.5 });
  k.sgdStep(unfused.p, gradient, unfused.v, 0.1, 0.9, decay);
  return { fused, unfused, A, B };
}

describe.each(implementations)('sgemmSgdStep (%s)', (_name, k) => {
  it.each(SHAPES)('%i×%i, depth %i (transA %s, transB %s): the bits of sgemm then sgdStep', (...shape) => {
    for (const decay of [0, 0.01]) {
      const { fused, unfused } = fusedAndUnfused(k, shape, decay);
      expect(fused.v).toEqual(unfused.v);
      expect(fused.p).toEqual(unfused.p);
    }
  });

  it('moves p against the product written out in float64', () => {
    const [m, n, depth] = [23, 19, 40];
    const A = filled(depth * m, 5);
    const B = filled(depth * n, 6);
    const p = filled(m * n, 7);
    const v = filled(m * n, 8);
    const [p0, v0] = [Float64Array.from(p), Float64Array.from(v)];
    k.sgemmSgdStep(m, n, depth, A, B, { p, v, rate: 0.05, momentum: 0.8, decay: 0.1 }, { transA: true });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let g = 0;
        for (let q = 0; q < depth; q++) g += A[q * m + i]! * B[q * n + j]!;
        const vi = 0.8 * v0[i * n + j]! + (g + 0.1 * p0[i * n + j]!);
        expect(v[i * n + j]).toBeCloseTo(vi, 5);
        expect(p[i * n + j]).toBeCloseTo(p0[i * n + j]! - 0.05 * vi, 5);
      }
    }
  });

  it('rejects a parameter matrix of the wrong size and p sharing memory with v', () => {
    const A = filled(8, 1);
    const B = filled(12, 2);
    const step = { rate: 0.1, momentum: 0.9, decay: 0 };
    expect(() => k.sgemmSgdStep(2, 3, 4, A, B, { p: filled(7, 3), v: filled(7, 4), ...step })).toThrow(
      KernelArgumentError,
    );
    const shared = new Float32Array(12);
    expect(() =>
      k.sgemmSgdStep(2, 3, 4, A, B, { p: shared.subarray(0, 6), v: shared.subarray(3, 9), ...step }),
    ).toThrow(/overlaps/);
  });
});

describe('sgemmSgdStep, native against TypeScript', () => {
  it('agrees with the TypeScript twin within float rounding of the product', () => {
    if (!native.implementation) return expect(kernels.backend).toBe('typescript');
    const nativeKernels = new Kernels('native', native.implementation);
    for (const shape of SHAPES) {
      const ours = fusedAndUnfused(nativeKernels, shape, 0.01).fused;
      const twin = fusedAndUnfused(typescriptKernels, shape, 0.01).fused;
      for (let i = 0; i < ours.p.length; i++) {
        expect(Math.abs(ours.v[i]! - twin.v[i]!)).toBeLessThan(2e-5 * Math.sqrt(shape[2]));
        expect(Math.abs(ours.p[i]! - twin.p[i]!)).toBeLessThan(2e-6 * Math.sqrt(shape[2]));
      }
    }
  });

  it('gives the same bits on a pool of any size', () => {
    if (!native.implementation) return expect(kernels.backend).toBe('typescript');
    const k = new Kernels('native', native.implementation);
    const results = [1, 2, 3].map((threads) => {
      k.setThreads(threads);
      return fusedAndUnfused(k, [800, 784, 128, true, false], 0.01).fused.p;
    });
    k.setThreads(0);
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });
});

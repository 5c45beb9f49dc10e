import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_KINDS,
  type ActivationKind,
  KernelArgumentError,
  Kernels,
  loadNative,
  typescriptKernels,
} from '../src/index.js';
import { seededUniform } from './helpers.js';

const native = loadNative();
const implementations: [string, Kernels][] = [['typescript', typescriptKernels]];
if (native.implementation) implementations.push(['native', new Kernels('native', native.implementation)]);

function filled(n: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  return Float32Array.from({ length: n }, () => u() * 2 - 1);
}

describe.each(implementations)('elementwise kernels (%s)', (_name, k) => {
  const n = 100_003; // several chunks and a tail
  it('sgdStep matches the update written out', () => {
    const [p, g, v] = [filled(n, 1), filled(n, 2), filled(n, 3)];
    const [p0, v0] = [Float64Array.from(p), Float64Array.from(v)];
    k.sgdStep(p, g, v, 0.1, 0.9, 0.01);
    for (let i = 0; i < n; i += 997) {
      const vi = 0.9 * v0[i]! + (g[i]! + 0.01 * p0[i]!);
      expect(v[i]).toBeCloseTo(vi, 5);
      expect(p[i]).toBeCloseTo(p0[i]! - 0.1 * vi, 5);
    }
  });

  it('adamStep matches the update written out', () => {
    const [p, g, m, v] = [filled(n, 4), filled(n, 5), filled(n, 6), filled(n, 7).map(Math.abs)];
    const [p0, m0, v0] = [Float64Array.from(p), Float64Array.from(m), Float64Array.from(v)];
    const o = { rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, c1: 1 - 0.9 ** 3, c2: 1 - 0.999 ** 3, decay: 0 };
    k.adamStep(p, g, m, v, o);
    for (let i = 0; i < n; i += 997) {
      const mi = 0.9 * m0[i]! + 0.1 * g[i]!;
      const vi = 0.999 * v0[i]! + 0.001 * g[i]! * g[i]!;
      expect(p[i]).toBeCloseTo(p0[i]! - (0.01 * (mi / o.c1)) / (Math.sqrt(vi / o.c2) + 1e-8), 4);
    }
  });

  const reference: Record<ActivationKind, (a: number) => [number, number]> = {
    tanh: (a) => [Math.tanh(a), 1 - Math.tanh(a) ** 2],
    relu: (a) => [Math.max(a, 0), a > 0 ? 1 : 0],
    'leaky-relu': (a) => [a > 0 ? a : 0.05 * a, a > 0 ? 1 : 0.05],
    sigmoid: (a) => [1 / (1 + Math.exp(-a)), Math.exp(-a) / (1 + Math.exp(-a)) ** 2],
  };
  // Spans tiny values (tanh's series branch), the bulk, saturation, and extremes where exp would overflow.
  const a = filled(n, 8).map((x, i) => (i % 3 === 0 ? 1e-3 * x : i % 3 === 1 ? 6 * x : 120 * x));
  a[0] = 0;
  for (const kind of ACTIVATION_KINDS) {
    it(`${kind} and its gradient match the closed forms`, () => {
      const h = new Float32Array(n);
      k.activate(kind, a, h, 0.05);
      expect(h[0]).toBe(kind === 'sigmoid' ? 0.5 : 0);
      let worstRelative = 0;
      for (let i = 0; i < n; i++) {
        const exact = reference[kind](a[i]!)[0];
        worstRelative = Math.max(worstRelative, Math.abs(h[i]! - exact) / Math.max(Math.abs(exact), 1e-30));
      }
      // A few float ulps everywhere, including relative to tiny outputs.
      expect(worstRelative).toBeLessThan(5e-7);

      // The gradient reads g from columns [3, 3 + width) of a wider matrix and scales it.
      const [rows, width, gStride] = [7, n >> 3, (n >> 3) + 5];
      const g = filled(rows * gStride, 9);
      const out = new Float32Array(rows * width);
      k.activationGradient(kind, g.subarray(3), a.subarray(0, rows * width), h.subarray(0, rows * width), out, {
        rows,
        width,
        gStride,
        factor: 0.5,
        slope: 0.05,
      });
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < width; j += 13) {
          const expected = 0.5 * g[r * gStride + 3 + j]! * reference[kind](a[r * width + j]!)[1];
          expect(out[r * width + j]).toBeCloseTo(expected, 6);
        }
      }
    });
  }

  it('columnSums adds the rows', () => {
    const [rows, cols] = [129, 801];
    const x = filled(rows * cols, 10);
    const out = filled(cols, 11);
    k.columnSums(x, rows, cols, out);
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += x[r * cols + j]!;
      expect(out[j]).toBeCloseTo(sum, 4);
    }
  });

  it('rejects mismatched lengths and aliasing', () => {
    const p = new Float32Array(10);
    expect(() => k.sgdStep(p, new Float32Array(9), new Float32Array(10), 0.1, 0.9, 0)).toThrow(KernelArgumentError);
    expect(() => k.sgdStep(p, new Float32Array(10), p, 0.1, 0.9, 0)).toThrow(/overlaps/);
    expect(() => k.activate('tanh', p, new Float32Array(3))).toThrow(/^h: /);
    expect(() => k.activate('gelu' as ActivationKind, p, new Float32Array(10))).toThrow(/^kind: 'gelu'/);
    const shape = { rows: 2, width: 5, gStride: 6 };
    expect(() => k.activationGradient('tanh', new Float32Array(10), p, p.slice(), p.slice(), shape)).toThrow(/^g: /);
    expect(() => k.activationGradient('tanh', p, p.slice(), p.slice(), p, { rows: 2, width: 5 })).toThrow(/overlaps/);
    expect(() => k.columnSums(p, 2, 5, new Float32Array(4))).toThrow(/^out: /);
  });
});

import { ArgumentError, seededUniform } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { Kernels, loadNative, typescriptKernels } from '../src/index.js';

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

  it('tanh matches Math.tanh', () => {
    const a = filled(n, 8).map((x) => 5 * x);
    const h = new Float32Array(n);
    k.tanh(a, h);
    for (let i = 0; i < n; i += 101) expect(h[i]).toBeCloseTo(Math.tanh(a[i]!), 6);
  });

  it('rejects mismatched lengths and aliasing', () => {
    const p = new Float32Array(10);
    expect(() => k.sgdStep(p, new Float32Array(9), new Float32Array(10), 0.1, 0.9, 0)).toThrow(ArgumentError);
    expect(() => k.sgdStep(p, new Float32Array(10), p, 0.1, 0.9, 0)).toThrow(/overlaps/);
    expect(() => k.tanh(p, new Float32Array(3))).toThrow(/^h: /);
  });
});

import { CostTally, GaussianOperator } from 'opu-core';
import { kernels } from 'opu-native';
import { describe, expect, it } from 'vitest';
import { countTriangles, erdosRenyi, exactTriangles, stochasticBlockModel } from '../src/index.js';
import { type Camera, openSimulatedOpu, trueSketch } from './simulated.js';

const n = 256;
const p = 64;
const graphs = {
  'Erdős–Rényi (q = 0.1)': erdosRenyi(n, 0.1, 7),
  'stochastic blocks (4 × 64, 0.3 within, 0.05 across)': stochasticBlockModel(n, 4, 0.3, 0.05, 7),
};

/** Hutchinson's standard error on tr(A³)/6 with Gaussian probes: √(2/p)·‖A³‖_F / 6. */
function theoreticalSigma(a: Float32Array): number {
  const a2 = new Float32Array(n * n);
  const a3 = new Float32Array(n * n);
  kernels.sgemm(n, n, n, a, a, a2);
  kernels.sgemm(n, n, n, a2, a, a3);
  let squares = 0;
  for (const x of a3) squares += x * x;
  return (Math.sqrt(2 / p) * Math.sqrt(squares)) / 6;
}

function bruteForceTriangles(a: Float32Array, size: number): number {
  let count = 0;
  for (let i = 0; i < size; i++)
    for (let j = i + 1; j < size; j++)
      for (let k = j + 1; k < size; k++) count += a[i * size + j]! * a[j * size + k]! * a[i * size + k]!;
  return count;
}

describe('exactTriangles', () => {
  it('counts as a triple loop does, and a complete graph has C(n, 3)', () => {
    const small = erdosRenyi(40, 0.3, 1);
    expect(exactTriangles(small, 40)).toBe(bruteForceTriangles(small, 40));
    expect(exactTriangles(small, 40)).toBeGreaterThan(50);
    expect(exactTriangles(stochasticBlockModel(12, 1, 1, 1, 0), 12)).toBe(220);
  });
});

describe(`countTriangles against the exact count (256 nodes, ${p} probes)`, () => {
  for (const [name, a] of Object.entries(graphs)) {
    const exact = exactTriangles(a, n);
    const sigma = theoreticalSigma(a);

    it(`${name}, digital sketch: within 4σ over 5 seeds`, async () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const estimate = await countTriangles(a, n, new GaussianOperator(n, p, seed));
        expect(Math.abs(estimate.value - exact) / sigma, `seed ${seed}`).toBeLessThan(4);
        expect(estimate.standardError / sigma, `seed ${seed}`).toBeGreaterThan(0.4);
        expect(estimate.standardError / sigma, `seed ${seed}`).toBeLessThan(1.6);
      }
    });

    for (const camera of ['ideal', 'realistic'] as Camera[]) {
      it(`${name}, ${camera} simulated OPU: within 4σ, the optics adding < 0.15σ (measured ≤ 0.09σ)`, async () => {
        const optical: number[] = [];
        for (const seed of [1, 2, 3]) {
          await using opu = await openSimulatedOpu(camera, seed, n, p);
          const cost = new CostTally();
          const estimate = await countTriangles(a, n, opu, { cost });
          expect(cost.calls).toBe(1); // one projection, of the adjacency's rows
          expect(cost.frames).toBeGreaterThan(n);
          const noiseless = await countTriangles(a, n, trueSketch(opu));
          optical.push(Math.abs(estimate.value - noiseless.value) / sigma);
          expect(Math.abs(estimate.value - exact) / sigma, `seed ${seed}`).toBeLessThan(4);
        }
        expect(Math.max(...optical)).toBeLessThan(0.15);
      });
    }
  }
});

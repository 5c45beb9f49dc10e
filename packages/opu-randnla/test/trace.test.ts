import { CostTally, GaussianOperator } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { hutchinsonTrace, symmetricPsd } from '../src/index.js';
import { type Camera, gain, openSimulatedOpu, trueSketch } from './simulated.js';

// A full-rank PSD matrix with eigenvalues e^(−i/64): trace and ‖A‖_F are known exactly.
const n = 256;
const p = 64;
const eigenvalues = Array.from({ length: n }, (_, i) => Math.exp(-i / 64));
const trace = eigenvalues.reduce((s, x) => s + x, 0);
const frobenius = Math.sqrt(eigenvalues.reduce((s, x) => s + x * x, 0));
/** Hutchinson's standard error with Gaussian probes: √(2/p)·‖A‖_F ≈ 1.0, 1.6% of the trace. */
const sigma = Math.sqrt(2 / p) * frobenius;
const seeds = [1, 2, 3, 4, 5];
const matrix = (seed: number) => symmetricPsd(n, eigenvalues, 100 + seed);

describe(`hutchinsonTrace against the exact trace (256 × 256 PSD, ${p} probes)`, () => {
  it('with a digital Gaussian sketch: within 4σ, and its standard error estimates σ', async () => {
    for (const seed of seeds) {
      const estimate = await hutchinsonTrace(matrix(seed), n, new GaussianOperator(n, p, seed));
      expect(estimate.probes).toBe(p);
      expect(Math.abs(estimate.value - trace) / sigma, `seed ${seed}`).toBeLessThan(4);
      expect(estimate.standardError / sigma, `seed ${seed}`).toBeGreaterThan(0.7);
      expect(estimate.standardError / sigma, `seed ${seed}`).toBeLessThan(1.4);
    }
  });

  // project() carries the gain error η of the facade's calibration (one factor 1 + η common to every output), and
  // the estimate goes through two projections: it comes out scaled by (1 + η)². The responsivity is measured as a
  // device property (measure/responsivity.ts): |η| ≤ 0.2% at a thousand outputs, ≤ 0.3% with these 64 (its 4096
  // frames then sample fewer speckle grains), a bias ≤ 0.6% of the trace, 0.4σ here, left inside the 4σ bound with
  // no gain term. What is left is the projections' noise: ≤ 0.03σ (ideal), ≤ 0.26σ (realistic).
  for (const [camera, noiseBound] of [
    ['ideal', 0.05],
    ['realistic', 0.4],
  ] as [Camera, number][]) {
    it(`with the ${camera} simulated OPU: the exact probes' estimate scaled by (1 + η)², plus < ${noiseBound}σ`, async () => {
      for (const seed of [1, 3, 4]) {
        await using opu = await openSimulatedOpu(camera, seed, n, p);
        const a = matrix(seed);
        const eta = await gain(opu);
        expect(Math.abs(eta), `seed ${seed}`).toBeLessThan(0.003);
        const cost = new CostTally();
        const estimate = await hutchinsonTrace(a, n, opu, { cost });
        // Two projections (A, then Cᵀ), each real rows on the OPU's frames.
        expect(cost.calls).toBe(2);
        expect(cost.frames).toBeGreaterThan(n + p);
        expect(cost.deviceTimeUs).toBeGreaterThan(0);
        // The same probes multiplied exactly: what remains after the gain is the projections' noise.
        const exactProbes = await hutchinsonTrace(a, n, trueSketch(opu));
        const noise = Math.abs(estimate.value - (1 + eta) ** 2 * exactProbes.value) / sigma;
        expect(noise, `seed ${seed}`).toBeLessThan(noiseBound);
        expect(Math.abs(estimate.value - trace), `seed ${seed}`).toBeLessThan(4 * sigma);
        expect(estimate.standardError / sigma, `seed ${seed}`).toBeGreaterThan(0.7);
        expect(estimate.standardError / sigma, `seed ${seed}`).toBeLessThan(1.4);
      }
    });
  }

  it('refuses a matrix that is not n × n', async () => {
    await expect(hutchinsonTrace(new Float32Array(10), n, new GaussianOperator(n, p))).rejects.toThrow(/256 × 256/);
  });
});

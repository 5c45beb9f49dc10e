import { CostTally, GaussianOperator } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { lowRankPlusNoise, randomizedSvd } from '../src/index.js';
import { type Camera, openSimulatedOpu } from './simulated.js';

// Rank 10 (100 down to 13.4, ratio 0.8) over a noise floor of about 0.3·(√246 + √246) ≈ 9.4: a gap of only 1.4
// at k, so the sketch alone (no power iteration) misses the smaller values by 20–40%.
const n = 256;
const k = 10;
const l = 40;
const { a, singularValues } = lowRankPlusNoise(
  n,
  n,
  Array.from({ length: k }, (_, i) => 100 * 0.8 ** i),
  0.3,
  1,
);

/** Largest relative error of the top-k singular values against the planted (exact) ones. */
const worstRelativeError = (s: Float64Array) =>
  Math.max(...Array.from(s, (x, i) => Math.abs(x - singularValues[i]!) / singularValues[i]!));

async function opuError(camera: Camera, seed: number, powerIterations: number): Promise<number> {
  await using opu = await openSimulatedOpu(camera, seed, n, l);
  const cost = new CostTally();
  const { s } = await randomizedSvd(a, n, n, k, opu, { powerIterations, cost });
  // One projection (Y = A·Ω) whatever the power iterations, which are digital.
  expect(cost.calls).toBe(1);
  expect(cost.frames).toBeGreaterThan(n);
  return worstRelativeError(s);
}

describe('randomizedSvd against the exact singular values (256 × 256, k = 10, ℓ = 40, 2 power iterations)', () => {
  it('with a digital Gaussian sketch: within 0.5%, and U, V are singular vectors of A', async () => {
    for (const seed of [1, 2, 3]) {
      const { u, s, v } = await randomizedSvd(a, n, n, k, new GaussianOperator(n, l, seed), { oversampling: 30 });
      expect(worstRelativeError(s), `seed ${seed}`).toBeLessThan(0.005);
      // A·v₁ = s₁·u₁ (the top pair is converged to rounding).
      let residual = 0;
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j]! * v[j * k]!;
        residual += (av - s[0]! * u[i * k]!) ** 2;
      }
      expect(Math.sqrt(residual) / s[0]!).toBeLessThan(1e-4);
    }
  });

  it('with the simulated OPU: within 0.4% ideal or realistic (measured ≤ 0.19%), the 8-bit camera costing < 0.05 points', async () => {
    for (const seed of [1, 2, 3]) {
      const ideal = await opuError('ideal', seed, 2);
      const realistic = await opuError('realistic', seed, 2);
      expect(ideal, `seed ${seed}`).toBeLessThan(0.004);
      expect(realistic, `seed ${seed}`).toBeLessThan(0.004);
      // Same medium, so the same B: what differs is the camera noise in Y, which only tilts the starting subspace.
      expect(Math.abs(realistic - ideal), `seed ${seed}`).toBeLessThan(0.0005);
    }
  });

  it('needs the power iterations on this spectrum: the bare sketch is off by more than 10%', async () => {
    expect(await opuError('realistic', 1, 0)).toBeGreaterThan(0.1);
  });

  it('refuses a sketch that does not fit the matrix', async () => {
    await expect(randomizedSvd(a, n, n, k, new GaussianOperator(128, l))).rejects.toThrow(/inputs = 256/);
    await expect(randomizedSvd(a, n, n, k, new GaussianOperator(n, l), { oversampling: 10 })).rejects.toThrow(
      /outputs = 20/,
    );
    await expect(randomizedSvd(a, n, n, 41, new GaussianOperator(n, l))).rejects.toThrow(/k = 41/);
  });
});

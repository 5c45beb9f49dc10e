import { loadMnist } from 'dfa-nn';
import { ArgumentError, CostTally, GaussianOperator, type IntensityFeatures, Opu, seededUniform } from 'opu-core';
import { IDEAL_CAMERA, type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { describe, expect, it } from 'vitest';
import {
  binarize,
  classificationError,
  empiricalKernel,
  evaluateKernelRidge,
  evaluateLinearRidge,
  evaluateOpticalRandomFeatures,
  fitRidge,
  fitStandardization,
  oneHot,
  opticalKernel,
  opticalKernelSamplingStd,
  opticalRandomFeatures,
  predictRidge,
  standardize,
} from '../src/index.js';

const IDEAL: SimOptions = { camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } };
const inputs = 256;
const m = 4000;

/** Binary rows of densities 0.1 … 0.6, so that the pairs span overlaps ρ = ⟨x,x'⟩²/(‖x‖²‖x'‖²) from ~0.01 to ~0.6. */
function binaryRows(rows: number, seed: number): Uint8Array {
  const u = seededUniform(seed);
  const bits = new Uint8Array(rows * inputs);
  for (let r = 0; r < rows; r++) {
    const density = 0.1 + (0.5 * r) / rows;
    for (let q = 0; q < inputs; q++) bits[r * inputs + q] = u() < density ? 1 : 0;
  }
  return bits;
}

/** (k̂ − k)/std for every off-diagonal pair, std from opticalKernelSamplingStd with m features. */
async function kernelDeviations(options: SimOptions, mirrorsPerElement?: number) {
  await using opu = await Opu.open(new SimulatedOpuDevice({ options }), { inputs, outputs: m, mirrorsPerElement });
  return { ...(await deviationsOf(opu)), mirrorsPerElement: opu.layout.mirrorsPerElement };
}

async function deviationsOf(operator: IntensityFeatures) {
  const rows = 24;
  const bits = binaryRows(rows, 5);
  const features = await opticalRandomFeatures(operator, bits, rows);
  const measured = empiricalKernel(features, rows, features, rows, m);
  const exact = opticalKernel(bits, rows, bits, rows, inputs);
  const lit = (r: number) => bits.subarray(r * inputs, (r + 1) * inputs).reduce((s, b) => s + b, 0);
  const deviations: number[] = [];
  const diagonalRatios: number[] = [];
  for (let i = 0; i < rows; i++) {
    diagonalRatios.push(measured[i * rows + i]! / exact[i * rows + i]!);
    for (let j = 0; j < i; j++) {
      let dot = 0;
      for (let q = 0; q < inputs; q++) dot += bits[i * inputs + q]! * bits[j * inputs + q]!;
      const std = opticalKernelSamplingStd(lit(i), lit(j), dot, m);
      deviations.push((measured[i * rows + j]! - exact[i * rows + j]!) / std);
    }
  }
  const common = deviations.reduce((s, d) => s + d, 0) / deviations.length;
  const spread = Math.max(...deviations.map((d) => Math.abs(d - common)));
  return { common, spread, diagonalRatios };
}

describe('the kernel of optical random features', () => {
  /*
   * k̂ = (1/m)Σᵢ fᵢ(x)fᵢ(x') averages m independent products (one per camera pixel, speckle grain 0), each of variance
   * ‖x‖⁴‖x'‖⁴(3 + 14ρ + 3ρ²), so std k̂ = ‖x‖²‖x'‖²·√(3 + 14ρ + 3ρ²)/√m (opticalKernelSamplingStd): 2.7% to 3.5% of
   * k at m = 4000. The deviations of one realization of R share a common part (the realized Σᵢ|Rᵢx|² of every row
   * fluctuates by ~1/√m, and every pair sees it), so the test bounds the mean deviation (|common| ≤ 2 std: a 7% bias
   * would fail) and each pair's deviation around it (≤ 4.5 std: with 276 pairs a false alarm has probability ~0.2%).
   * A pure Monte Carlo of CN(0, 1) matrices shows the same spread of the common part: ±1.6% of k per realization.
   */
  it('matches ‖x‖²‖x′‖² + ⟨x,x′⟩² within sampling error on an ideal camera', async () => {
    const { common, spread, diagonalRatios } = await kernelDeviations({ ...IDEAL, seed: 3 });
    // Measured: common +0.43 std, spread 2.6 std, diagonal ratios 0.95 to 1.10.
    expect(Math.abs(common)).toBeLessThan(2);
    expect(spread).toBeLessThan(4.5);
    // E[f²] = 2‖x‖⁴ (ρ = 1) with a sampling error of √20/(2√m) ≈ 3.5%, so 15% is ~4 std.
    for (const ratio of diagonalRatios) expect(Math.abs(ratio - 1)).toBeLessThan(0.15);
  });

  it('the digital twin (GaussianOperator) has the same kernel, within the same bounds', async () => {
    const { common, spread, diagonalRatios } = await deviationsOf(new GaussianOperator(inputs, m, 3));
    expect(Math.abs(common)).toBeLessThan(2);
    expect(spread).toBeLessThan(4.5);
    for (const ratio of diagonalRatios) expect(Math.abs(ratio - 1)).toBeLessThan(0.15);
  });

  it('keeps σ² = 1 per element when an element is a macro-pixel of several mirrors', async () => {
    const { common, spread, mirrorsPerElement } = await kernelDeviations({ ...IDEAL, seed: 4 }, 3);
    expect(mirrorsPerElement).toBe(3);
    // Measured: common −0.94 std, spread 2.9 std.
    expect(Math.abs(common)).toBeLessThan(2);
    expect(spread).toBeLessThan(4.5);
  });

  /*
   * The default 8-bit camera adds shot and read noise (independent between frames: no off-diagonal bias), 0.3% laser
   * power fluctuation and 1% pixel gain spread (a few 1e-4 of bias) and 8-bit quantization; the bound on the spread
   * allows 5.5 std instead of 4.5 for them.
   */
  it('matches it within 5.5 sampling standard deviations with the default realistic camera', async () => {
    const { common, spread } = await kernelDeviations({ seed: 6 });
    // Measured: common +1.28 std, spread 3.2 std.
    expect(Math.abs(common)).toBeLessThan(2);
    expect(spread).toBeLessThan(5.5);
  });
});

describe('opticalRandomFeatures', () => {
  it('measures in batches, reports progress, and divides by the lit count on request', async () => {
    await using opu = await Opu.open(new SimulatedOpuDevice({ options: { ...IDEAL, seed: 8 } }), {
      inputs,
      outputs: 64,
    });
    const bits = binaryRows(10, 9);
    const progress: number[] = [];
    const cost = new CostTally();
    const raw = await opticalRandomFeatures(opu, bits, 10, {
      batchRows: 4,
      onProgress: (p) => progress.push(p.rowsDone),
      cost,
    });
    expect(progress).toEqual([4, 8, 10]);
    // One transform() per batch, one DMD frame per row at least.
    expect(cost.calls).toBe(3);
    expect(cost.frames).toBeGreaterThanOrEqual(10);
    expect(cost.deviceTimeUs).toBeGreaterThan(0);
    const perLit = await opticalRandomFeatures(opu, bits, 10, { perLitElement: true });
    const lit = bits.subarray(0, inputs).reduce((s, b) => s + b, 0);
    expect(perLit[5]! * lit).toBeCloseTo(raw[5]!, 3);
    expect(() => binarize(new Float32Array(5), 2, 3)).toThrow(ArgumentError);
    await expect(opticalRandomFeatures(opu, new Uint8Array(5), 1)).rejects.toThrow(/^x:/);
  });

  it('standardizes to zero mean and unit variance per feature', () => {
    const x = Float32Array.of(1, 10, 3, 10, 5, 10);
    const s = fitStandardization(x, 3, 2);
    standardize(s, x, 3);
    expect(Array.from(x, (v) => Number(v.toFixed(4)))).toEqual([-1.2247, 0, 0, 0, 1.2247, 0]);
  });
});

describe('MNIST with optical random features + ridge', () => {
  const train = loadMnist('train', 2000);
  const test = loadMnist('test', 1000);

  it('beats a linear classifier on the pixels and approaches the exact kernel', async () => {
    await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 21 } }), {
      inputs: 784,
      outputs: 2000,
    });
    const optical = await evaluateOpticalRandomFeatures({ operator: opu, train, test, featureCounts: [500, 2000] });
    const [few, many] = optical.results.map((r) => r.testError) as [number, number];
    const linear = evaluateLinearRidge(train, test).testError;
    const exact = evaluateKernelRidge(train, test, 'optical-per-lit').testError;
    // Measured (seed 21, default camera): 500 features 15.0%, 2000 features 9.3%, linear 22.8%, exact kernel 7.0%.
    expect(many).toBeLessThan(0.115);
    expect(many).toBeLessThan(few - 0.03);
    expect(linear).toBeGreaterThan(many + 0.08);
    expect(exact).toBeLessThan(many);
    expect(exact).toBeGreaterThan(0.06);
  });
});

describe('evaluateOpticalRandomFeatures streams the features', () => {
  it('gives the errors of fitting the materialized, standardized feature matrix', async () => {
    // The digital twin is deterministic: the second measurement of the training images (the train error) is the first.
    const train = loadMnist('train', 600);
    const test = loadMnist('test', 300);
    const operator = new GaussianOperator(784, 2600, 5);
    // 2600 > DIRECT_SOLVE_LIMIT: CG on the Gram, converged; the reference takes the exact dual Cholesky (600 rows).
    const ridge = { tolerance: 1e-6, maxIterations: 1000 };
    const streamed = await evaluateOpticalRandomFeatures({ operator, train, test, featureCounts: [400, 2600], ridge });
    const trainFeatures = await opticalRandomFeatures(operator, train.x, train.rows, { perLitElement: true });
    const testFeatures = await opticalRandomFeatures(operator, test.x, test.rows, { perLitElement: true });
    for (const [k, m] of [400, 2600].entries()) {
      const leading = (x: Float32Array, rows: number) => {
        const out = new Float32Array(rows * m);
        for (let r = 0; r < rows; r++) out.set(x.subarray(r * 2600, r * 2600 + m), r * m);
        return out;
      };
      const a = leading(trainFeatures, train.rows);
      const b = leading(testFeatures, test.rows);
      const s = fitStandardization(a, train.rows, m);
      standardize(s, a, train.rows);
      standardize(s, b, test.rows);
      const fit = fitRidge(a, train.rows, m, oneHot(train.labels, 10), 10, 0.2 * m, { solver: 'direct' });
      const result = streamed.results[k]!;
      expect(result.features).toBe(m);
      expect(result.diagnostics?.solver).toBe(m === 400 ? 'primal' : 'cg');
      expect(result.testError).toBe(classificationError(predictRidge(fit, b, test.rows), test.labels, 10));
      expect(result.trainError).toBe(classificationError(predictRidge(fit, a, train.rows), train.labels, 10));
    }
    expect(streamed.results[1]!.testError).toBeLessThan(0.2);
    expect(streamed.gramMs).toBeGreaterThan(0);
  });
});

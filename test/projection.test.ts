import { ArgumentError, Opu, packDmdFrames } from 'opu-core';
import { expectedProjectionMatrix, IDEAL_CAMERA, type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { describe, expect, it } from 'vitest';
import { type InputKind, inputBatch, matmulTransposed, relativeError, relativeErrorAgainstTruth } from './helpers.js';

const n = 256;
const m = 512;
const IDEAL: SimOptions = { camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } };

async function openSim(options: SimOptions, seed: number): Promise<Opu> {
  return Opu.open(new SimulatedOpuDevice({ options: { ...options, seed } }), { inputs: n, outputs: m });
}

describe('project() against the simulator’s ground truth', () => {
  it('realizes a matrix with i.i.d. N(0, 1) entries', async () => {
    await using opu = await openSim({}, 1);
    const B = expectedProjectionMatrix(opu.device as SimulatedOpuDevice, opu.layout, opu.calibration!);
    let sum = 0;
    let squares = 0;
    let fourth = 0;
    for (const v of B) {
      sum += v;
      squares += v * v;
      fourth += v ** 4;
    }
    const count = B.length;
    // Sampling errors over 131k entries: mean ±0.003 (1σ), variance ±0.004, kurtosis 3 ± 0.014.
    expect(Math.abs(sum / count)).toBeLessThan(0.015);
    expect(Math.abs(squares / count - 1)).toBeLessThan(0.02);
    expect(fourth / count / (squares / count) ** 2).toBeCloseTo(3, 1);
  });

  for (const kind of ['ternary', 'binary', 'gaussian'] as InputKind[]) {
    it(`is within 1% with an ideal 12-bit camera (${kind} input)`, async () => {
      await using opu = await openSim(IDEAL, 2);
      const e = inputBatch(kind, 16, n, 3);
      const result = await opu.project(e);
      expect(result.meta.encoding).toBe(kind === 'gaussian' ? 'bitplanes' : 'ternary');
      expect(relativeErrorAgainstTruth(opu, e, result.data)).toBeLessThan(0.01);
    });
  }

  for (const seed of [4, 5]) {
    it(`is within 6% with the default realistic camera (seed ${seed})`, async () => {
      await using opu = await openSim({}, seed);
      expect(opu.device.info.camera.bitDepth).toBe(8);
      for (const kind of ['ternary', 'binary', 'gaussian'] as InputKind[]) {
        const e = inputBatch(kind, 16, n, seed * 10);
        const error = relativeErrorAgainstTruth(opu, e, (await opu.project(e)).data);
        expect(error, kind).toBeLessThan(0.06);
        expect(error, kind).toBeGreaterThan(0.01); // the noise is really there
      }
    });
  }

  it('serves small inputs (DFA’s 10 classes) through macro-pixels, as accurately', async () => {
    for (const [options, bound] of [
      [IDEAL, 0.01],
      [{}, 0.06],
    ] as [SimOptions, number][]) {
      await using opu = await Opu.open(new SimulatedOpuDevice({ options: { ...options, seed: 3 } }), {
        inputs: 10,
        outputs: 256,
      });
      expect(opu.layout.mirrorsPerElement).toBeGreaterThan(10);
      for (const kind of ['ternary', 'gaussian'] as InputKind[]) {
        const e = inputBatch(kind, 32, 10, 4);
        const result = await opu.project(e);
        expect(relativeErrorAgainstTruth(opu, e, result.data), kind).toBeLessThan(bound);
        // Sparse pieces are not exposed longer than about two reference frames.
        expect(result.meta.exposureUsMax).toBeLessThan(5000);
      }
    }
  });

  it('is linear: project(a·x + b·y) = a·project(x) + b·project(y) within the noise', async () => {
    await using opu = await openSim(IDEAL, 6);
    const x = inputBatch('gaussian', 4, n, 7);
    const y = inputBatch('gaussian', 4, n, 8);
    const mix = x.map((v, i) => 0.5 * v - 2 * y[i]!);
    const [px, py, pm] = [await opu.project(x), await opu.project(y), await opu.project(mix)];
    let num = 0;
    let den = 0;
    for (let i = 0; i < pm.data.length; i++) {
      num += (pm.data[i]! - (0.5 * px.data[i]! - 2 * py.data[i]!)) ** 2;
      den += pm.data[i]! ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(0.01);
  });

  it('gives the same numbers for the same seed and different ones for another seed', async () => {
    const e = inputBatch('ternary', 4, n, 9);
    const run = async (seed: number) => {
      await using opu = await openSim({}, seed);
      return (await opu.project(e)).data;
    };
    const [a, b, c] = [await run(11), await run(11), await run(12)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('reports progress as frames are measured', async () => {
    await using opu = await openSim({}, 16);
    const seen: number[] = [];
    let planned = 0;
    await opu.project(inputBatch('gaussian', 2, n, 17), {
      onProgress: ({ framesDone, framesPlanned }) => {
        seen.push(framesDone);
        planned = framesPlanned;
      },
    });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBeGreaterThanOrEqual(planned);
    // Each bit plane of the 2 rows: itself alone and with the 3 top references, or the 6 of a dimmer rung.
    expect(planned).toBeGreaterThanOrEqual(2 * 4);
    expect(planned).toBeLessThanOrEqual(2 * 16 * 7);
  });

  it('reports what the measurement cost: frames, exposures, device time and throughput', async () => {
    await using opu = await openSim({}, 13);
    const e = inputBatch('ternary', 8, n, 14);
    const { meta } = await opu.project(e);
    // Two signs × (1 + 3 references) frames per vector, plus nothing else when nothing saturates.
    expect(meta.frames).toBeGreaterThanOrEqual(8 * 2 * 4);
    expect(meta.frames).toBeLessThanOrEqual(8 * 2 * 4 + 16 * (meta.saturationRetries + 1));
    expect(meta.deviceTimeUs).toBeGreaterThanOrEqual(meta.frames * meta.exposureUsMin);
    expect(meta.vectorsPerDeviceSecond).toBeCloseTo(8 / (meta.deviceTimeUs * 1e-6), 6);
    expect(meta.exposureUsMax).toBeLessThanOrEqual(opu.device.info.limits.exposureUs.max);
  });
});

describe('project() near the float32 maximum', () => {
  const FLOAT32_MAX = 3.4028234663852886e38;

  const peak = (values: ArrayLike<number>) => Array.from(values).reduce((a, v) => Math.max(a, Math.abs(v)), 0);

  /** Scales rows [0, rows) of e in place so that each one's largest true output is `target`. */
  function scaleRowsToOutputPeak(e: Float32Array, B: Float32Array, rows: number, target: number): void {
    const exact = matmulTransposed(e, B, n, m);
    for (let r = 0; r < rows; r++) {
      const scale = target / peak(exact.subarray(r * m, (r + 1) * m));
      for (let j = 0; j < n; j++) e[r * n + j]! *= scale;
    }
  }

  /**
   * Columns j ≠ k of B whose difference peaks lowest relative to column j's own peak: a row X·(δ_j − δ_k) has a
   * projection X·(B_ij − B_ik) that fits float32 for an X at which X·B_ij alone does not.
   */
  function cancellingColumns(B: Float32Array): { j: number; k: number; differencePeak: number; ratio: number } {
    const column = (j: number) => Float64Array.from({ length: m }, (_, i) => B[i * n + j]!);
    let best = { j: 0, k: 1, differencePeak: 0, ratio: Number.POSITIVE_INFINITY };
    for (let j = 0; j < n; j++) {
      const bj = column(j);
      const ownPeak = peak(bj);
      for (let k = 0; k < n; k++) {
        if (k === j) continue;
        let differencePeak = 0;
        for (let i = 0; i < m; i++) differencePeak = Math.max(differencePeak, Math.abs(bj[i]! - B[i * n + k]!));
        const ratio = differencePeak / ownPeak;
        if (ratio < best.ratio) best = { j, k, differencePeak, ratio };
      }
    }
    return best;
  }

  it('projects real rows whose largest outputs are half the float32 maximum, finite and as accurately', async () => {
    await using opu = await openSim(IDEAL, 22);
    const B = expectedProjectionMatrix(opu.device as SimulatedOpuDevice, opu.layout, opu.calibration!);
    const e = inputBatch('gaussian', 4, n, 23);
    scaleRowsToOutputPeak(e, B, 4, FLOAT32_MAX / 2);
    const result = await opu.project(e);
    expect(result.meta.encoding).toBe('bitplanes');
    expect(result.data.every(Number.isFinite)).toBe(true);
    expect(relativeErrorAgainstTruth(opu, e, result.data)).toBeLessThan(0.01);
  });

  it('sums a row’s pieces beyond float32 when the row’s projection still fits in it (ternary rows)', async () => {
    await using opu = await openSim(IDEAL, 22);
    const B = expectedProjectionMatrix(opu.device as SimulatedOpuDevice, opu.layout, opu.calibration!);
    const e = inputBatch('ternary', 4, n, 24);
    scaleRowsToOutputPeak(e, B, 3, FLOAT32_MAX / 2);
    // Row 3 is X·(δ_j − δ_k), X ≈ 1e38: its positive piece alone projects beyond float32, the row does not.
    const { j, k, differencePeak, ratio } = cancellingColumns(B);
    expect(ratio).toBeLessThan(0.85);
    const x = (0.9 * FLOAT32_MAX) / differencePeak;
    e.fill(0, 3 * n, 4 * n);
    e[3 * n + j] = x;
    e[3 * n + k] = -x;
    const result = await opu.project(e);
    expect(result.meta.encoding).toBe('ternary');
    expect(result.data.every(Number.isFinite)).toBe(true);
    expect(relativeErrorAgainstTruth(opu, e, result.data)).toBeLessThan(0.01);
  });

  it('refuses a row whose projection float32 cannot hold, naming it, and the fix it names works', async () => {
    await using opu = await openSim(IDEAL, 22);
    const e = inputBatch('gaussian', 3, n, 25);
    const row = e.subarray(2 * n, 3 * n);
    const scale = 3e38 / peak(row);
    for (let j = 0; j < n; j++) row[j]! *= scale;
    const error = (await opu.project(e).catch((caught: unknown) => caught)) as ArgumentError;
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.field).toBe('e[2]');
    expect(error.message).toMatch(/beyond float32/);
    expect(error.fix).toMatch(/divide the row by a power of two/);
    // The fix: project the row divided by 2^8 and multiply the result back in float64.
    const divided = row.map((v) => v / 256);
    const projected = Float64Array.from((await opu.project(divided)).data, (v) => v * 256);
    const B = expectedProjectionMatrix(opu.device as SimulatedOpuDevice, opu.layout, opu.calibration!);
    expect(peak(matmulTransposed(row, B, n, m))).toBeGreaterThan(FLOAT32_MAX);
    expect(relativeError(matmulTransposed(row, B, n, m), projected)).toBeLessThan(0.01);
  });
});

describe('transform(): native intensity features', () => {
  it('returns |R x|² in units of one element’s mean intensity', async () => {
    await using opu = await openSim(IDEAL, 15);
    const x = inputBatch('binary', 8, n, 16);
    const device = opu.device as SimulatedOpuDevice;
    const s = opu.layout.mirrorsPerElement;
    expect(s).toBeGreaterThan(1); // small inputs are spread over macro-pixels by default
    const frames = packDmdFrames(x, 8, n, { mirrorsPerFrame: device.inputSize, mirrorsPerValue: s });
    const field = device.groundTruth.field(frames);
    const result = await opu.transform(x);
    const roi = device.outputSize;
    let num = 0;
    let den = 0;
    for (let r = 0; r < 8; r++) {
      for (let i = 0; i < m; i++) {
        const truth = (field.re[r * roi + i]! ** 2 + field.im[r * roi + i]! ** 2) / s;
        num += (result.data[r * m + i]! - truth) ** 2;
        den += truth ** 2;
      }
    }
    expect(Math.sqrt(num / den)).toBeLessThan(0.01);
  });
});

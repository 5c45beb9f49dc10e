import {
  ArgumentError,
  decodeCalibration,
  encodeCalibration,
  Opu,
  referenceLadder,
  seededNormal,
  seededUniform,
} from 'opu-core';
import { expectedProjectionMatrix, IDEAL_CAMERA, type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { describe, expect, it } from 'vitest';
import { matmulTransposed } from './helpers.js';

// Sizes and seeds the benchmark (64 → 256, 1024 → 2048, seeds from 101) does not use.
const IDEAL: SimOptions = { camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } };
const ROWS = 6;

type RowKind = 'one-hot' | 'two non-zeros' | 'ternary 2%' | 'real 5%' | 'dense ternary' | 'dense real';

/** ROWS rows of one kind: k random positions with ±1 (ternary) or N(0, 1) (real) values, or dense ones. */
function rows(kind: RowKind, n: number, seed: number): Float32Array {
  const uniform = seededUniform(seed);
  const normal = seededNormal(seed + 1);
  const e = new Float32Array(ROWS * n);
  const sign = () => (uniform() < 0.5 ? 1 : -1);
  for (let r = 0; r < ROWS; r++) {
    const row = e.subarray(r * n, (r + 1) * n);
    const scatter = (count: number, value: () => number) => {
      for (let placed = 0; placed < count; ) {
        const j = Math.floor(uniform() * n);
        if (row[j] !== 0) continue;
        row[j] = value();
        placed++;
      }
    };
    if (kind === 'one-hot') scatter(1, () => 1);
    if (kind === 'two non-zeros') scatter(2, sign);
    if (kind === 'ternary 2%') scatter(Math.max(1, Math.round(0.02 * n)), sign);
    if (kind === 'real 5%') scatter(Math.max(1, Math.round(0.05 * n)), normal);
    if (kind === 'dense ternary') for (let j = 0; j < n; j++) row[j] = uniform() < 0.4 ? sign() : 0;
    if (kind === 'dense real') for (let j = 0; j < n; j++) row[j] = normal();
  }
  return e;
}

/** Mean over rows of each row's error relative to its own projection's norm, against the true matrix. */
function meanRowError(opu: Opu, e: Float32Array, projected: Float32Array): number {
  const device = opu.device as SimulatedOpuDevice;
  const B = expectedProjectionMatrix(device, opu.layout, opu.calibration!);
  const [n, m] = [opu.inputs, opu.outputs];
  const exact = matmulTransposed(e, B, n, m);
  let sum = 0;
  for (let r = 0; r < e.length / n; r++) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < m; i++) {
      num += (projected[r * m + i]! - exact[r * m + i]!) ** 2;
      den += exact[r * m + i]! ** 2;
    }
    sum += Math.sqrt(num / den);
  }
  return sum / (e.length / n);
}

describe('every row, from one non-zero to dense, within 1.5× the dense-row error', () => {
  for (const [inputs, outputs, seed] of [
    [96, 384, 7],
    [700, 700, 8],
  ] as const) {
    for (const [camera, options] of [
      ['realistic', {}],
      ['ideal', IDEAL],
    ] as const) {
      it(`${inputs} → ${outputs}, ${camera} camera`, async () => {
        await using opu = await Opu.open(new SimulatedOpuDevice({ options: { ...options, seed } }), {
          inputs,
          outputs,
          seed,
        });
        const kinds: RowKind[] = ['one-hot', 'two non-zeros', 'ternary 2%', 'real 5%', 'dense ternary', 'dense real'];
        const errors = new Map<RowKind, number>();
        for (const [index, kind] of kinds.entries()) {
          const e = rows(kind, inputs, seed * 100 + index);
          errors.set(kind, meanRowError(opu, e, (await opu.project(e)).data));
        }
        // The ideal camera measures dense ternary rows almost exactly (their pieces' calibration errors cancel):
        // the dense-row error is the larger of the two kinds.
        const dense = Math.max(errors.get('dense ternary')!, errors.get('dense real')!);
        // the noise is really there, and the ideal camera's 12-bit quantization is 10× below the realistic one's
        expect(dense).toBeGreaterThan(camera === 'ideal' ? 0.001 : 0.02);
        expect(dense).toBeLessThan(camera === 'ideal' ? 0.01 : 0.06);
        for (const [kind, error] of errors) expect(error, `${kind}: ${errors.get(kind)}`).toBeLessThan(1.5 * dense);
      });
    }
  }

  it('serves a one-hot row with a dim rung, far better than with the top references alone', async () => {
    // A calibration without the references' plane (saved before 0.2) serves every piece with the top references.
    await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 9 } }), { inputs: 600, outputs: 300 });
    const e = rows('one-hot', 600, 91);
    const withRungs = meanRowError(opu, e, (await opu.project(e)).data);
    delete opu.calibration!.coordinates;
    const topOnly = meanRowError(opu, e, (await opu.project(e)).data);
    expect(withRungs).toBeLessThan(0.08);
    expect(topOnly).toBeGreaterThan(2 * withRungs);
  });
});

describe('project(e, { averages })', () => {
  it('trades frames for error: 4 averages take 4× the frames and about halve the error', async () => {
    await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 12 } }), {
      inputs: 200,
      outputs: 400,
    });
    const e = rows('dense ternary', 200, 1201);
    const once = await opu.project(e);
    const four = await opu.project(e, { averages: 4 });
    const [errorOnce, errorFour] = [meanRowError(opu, e, once.data), meanRowError(opu, e, four.data)];
    expect(errorFour).toBeLessThan(0.65 * errorOnce);
    expect(errorFour).toBeGreaterThan(0.4 * errorOnce); // 1/√4, with the calibration's own noise on top
    expect(four.meta.frames).toBeGreaterThanOrEqual(4 * ROWS * 2 * 4);
    expect(four.meta.frames / once.meta.frames).toBeGreaterThan(3.5);
    expect(four.meta.frames / once.meta.frames).toBeLessThan(4.5);
  });

  it('refuses averages that are not an integer in [1, 64], naming the option', async () => {
    await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 13 } }), { inputs: 16, outputs: 32 });
    for (const averages of [0, 1.5, 65, Number.NaN]) {
      await expect(opu.project(new Float32Array(16).fill(1), { averages })).rejects.toThrow(
        expect.objectContaining({ name: ArgumentError.name, field: 'options.averages' }),
      );
    }
  });
});

describe('the rungs in a saved calibration', () => {
  it('are measured by the reference step, survive the file, and serve sparse rows after reopening', async () => {
    const options = { seed: 14 };
    await using first = await Opu.open(new SimulatedOpuDevice({ options }), {
      inputs: 400,
      outputs: 300,
      calibrate: false,
    });
    const calibration = await first.runCalibration({ steps: ['reference'] });
    const rungs = calibration.steps.reference!.rungs!;
    expect(rungs.map((rung) => rung.elements)).toEqual(referenceLadder(first.layout).map((rung) => rung.elements));
    expect(rungs.length).toBeGreaterThan(0);
    const decoded = decodeCalibration(encodeCalibration(calibration));
    expect(decoded.steps.reference!.rungs).toEqual(rungs);

    await using reopened = await Opu.open(new SimulatedOpuDevice({ options }), {
      inputs: 400,
      outputs: 300,
      calibration: decoded,
    });
    const e = rows('one-hot', 400, 1401);
    const result = await reopened.project(e);
    // the piece alone and with the 6 references of its rung; no rung measured again
    expect(result.meta.frames).toBeLessThan(ROWS * 7 + 16 * (result.meta.saturationRetries + 1));
    expect(meanRowError(reopened, e, result.data)).toBeLessThan(0.08);
  });
});

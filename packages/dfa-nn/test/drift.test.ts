import { type LinearProjection, type OperatorResult, Opu, seededNormal, seededUniform } from 'opu-core';
import { projectionErrorAgainstTruth, SimulatedOpuDevice } from 'opu-sim';
import { describe, expect, it } from 'vitest';
import { Mlp, makeDataset, Trainer } from '../src/index.js';

const CLASSES = 10;
const FEATURES = 20;
/** Host compute modelled between batches: 180 batches make the 30 device-minutes of the acceptance run. */
const HOST_S_PER_BATCH = 10;
const BATCHES = 180;
const BATCH_SIZE = 32;
const ROWS = 960;

/** Ten Gaussian blobs in 20 dimensions: enough for DFA's output errors to look like a real run's. */
function blobs(seed: number) {
  const normal = seededNormal(seed);
  const uniform = seededUniform(seed + 1);
  const centres = Float32Array.from({ length: CLASSES * FEATURES }, () => 2 * normal());
  const labels = Uint8Array.from({ length: ROWS }, () => Math.floor(uniform() * CLASSES));
  const x = new Float32Array(ROWS * FEATURES);
  for (let r = 0; r < ROWS; r++) {
    for (let j = 0; j < FEATURES; j++) x[r * FEATURES + j] = centres[labels[r]! * FEATURES + j]! + normal();
  }
  return makeDataset(x, labels, FEATURES, CLASSES);
}

/**
 * The OPU as DFA's projector, with host time between calls on the device clock, and every call's error against the
 * matrix B the facade should realize at that moment (the true medium then, with the weights then in use).
 */
class TimedProjector implements LinearProjection {
  readonly errors: number[] = [];
  constructor(readonly opu: Opu) {}
  get inputs() {
    return this.opu.inputs;
  }
  get outputs() {
    return this.opu.outputs;
  }
  async project(e: Float32Array): Promise<OperatorResult> {
    (this.opu.device as SimulatedOpuDevice).clock.advanceUs(HOST_S_PER_BATCH * 1e6);
    const result = await this.opu.project(e);
    this.errors.push(projectionErrorAgainstTruth(this.opu, e, result.data)!);
    return result;
  }
}

async function dfaRun(driftTimeConstantS: number, driftCheckIntervalS?: number) {
  const device = new SimulatedOpuDevice({ options: { seed: 3, medium: { driftTimeConstantS } } });
  // 16 mirrors per element (not the default 215): the truth of every call is computed from the whole region
  await using opu = await Opu.open(device, {
    inputs: CLASSES,
    outputs: 64,
    mirrorsPerElement: 16,
    driftCheckIntervalS,
  });
  const projector = new TimedProjector(opu);
  const model = new Mlp({ sizes: [FEATURES, 32, 32, CLASSES], seed: 4 });
  const trainer = new Trainer(model, {
    algorithm: 'dfa',
    projector,
    optimizer: { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
    seed: 4,
  });
  const data = blobs(5);
  const epochs = [];
  for (let epoch = 0; epoch < (BATCHES * BATCH_SIZE) / ROWS; epoch++) {
    epochs.push(await trainer.trainEpoch(data, epoch, BATCH_SIZE));
  }
  const deviceS = device.clock.nowUs() * 1e-6;
  return { errors: projector.errors, epochs, deviceS, testError: trainer.evaluate(data).error };
}

/** RMS of each run of 10 consecutive calls' errors: one call's 32 × 64 values estimate it to about ±10%. */
function windows(errors: number[]): number[] {
  const out: number[] = [];
  for (let w = 0; w + 10 <= errors.length; w += 10) {
    out.push(Math.sqrt(errors.slice(w, w + 10).reduce((s, v) => s + v * v, 0) / 10));
  }
  return out;
}

describe('DFA on a drifting OPU for 30 device-minutes (τ = 600 s)', () => {
  it('keeps project() within 1.5× of a fresh calibration’s error with tracking, and not without', async () => {
    const fixed = await dfaRun(Number.POSITIVE_INFINITY);
    const tracked = await dfaRun(600);
    const untracked = await dfaRun(600, Number.POSITIVE_INFINITY);
    const fresh = Math.sqrt(fixed.errors.reduce((s, v) => s + v * v, 0) / fixed.errors.length);
    const trackedWorst = Math.max(...windows(tracked.errors));
    const untrackedLast = windows(untracked.errors).at(-1)!;
    const recalibrations = tracked.epochs.map((e) => e.recalibrations);
    console.log(
      `drift: fresh ${fresh.toFixed(4)}, tracked worst window ${trackedWorst.toFixed(4)}, untracked last ` +
        `${untrackedLast.toFixed(4)}; re-measurements per epoch ${recalibrations.join(' ')}; device ` +
        `${tracked.deviceS.toFixed(0)} s; train error ${tracked.testError} / ${untracked.testError}`,
    );
    expect(tracked.deviceS).toBeGreaterThanOrEqual(1800);
    expect(fresh).toBeGreaterThan(0.01); // the 8-bit camera's noise is there
    expect(trackedWorst).toBeLessThan(1.5 * fresh);
    expect(untrackedLast).toBeGreaterThan(3 * fresh);
    // Each epoch (30 batches, 300 device-seconds) re-measures the references; a fixed medium never does.
    for (const count of recalibrations) expect(count).toBeGreaterThan(0);
    expect(fixed.epochs.every((e) => e.recalibrations === 0)).toBe(true);
    expect(untracked.epochs.every((e) => e.recalibrations === 0)).toBe(true);
  }, 120_000);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ArgumentError,
  allocateDmdFrames,
  CalibrationFileError,
  type DeviceCalibration,
  DRIFT_CHECK_FRAMES,
  loadCalibration,
  Opu,
  openOpu,
  saveCalibration,
  seededUniform,
  setMirror,
  UnsupportedError,
} from 'opu-core';
import { type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputBatch, relativeError, relativeErrorAgainstTruth } from './helpers.js';

const inputs = 64;
const outputs = 256;
/** Short drift checks: the default 10 s span is for hardware. */
const QUICK = { stability: { durationS: 2, repetitions: 5 }, linearityPairs: 4 } as const;

/**
 * Relative error of the calibrated |b_k|² against the simulator's noise-free reference fields, after one best scale
 * (the responsivity's own error is common to both calibrations compared).
 */
function referenceError(opu: Opu): number {
  const device = opu.device as SimulatedOpuDevice;
  const { layout } = opu;
  const calibration = opu.calibration!;
  const frames = allocateDmdFrames(layout.referenceCount, device.inputSize);
  for (let k = 0; k < layout.referenceCount; k++) {
    const first = (layout.inputs + k * layout.referenceElements) * layout.mirrorsPerElement;
    for (let q = first; q < first + layout.referenceElements * layout.mirrorsPerElement; q++) setMirror(frames, k, q);
  }
  const field = device.groundTruth.field(frames);
  const pixels = device.outputSize;
  const truth: number[] = [];
  const measured: number[] = [];
  for (let k = 0; k < layout.referenceCount; k++) {
    for (let i = 0; i < outputs; i++) {
      truth.push(field.re[k * pixels + i]! ** 2 + field.im[k * pixels + i]! ** 2);
      measured.push(calibration.referenceIntensity[k * outputs + i]!);
    }
  }
  const scale = measured.reduce((s, v, i) => s + v * truth[i]!, 0) / truth.reduce((s, v) => s + v * v, 0);
  return relativeError(
    truth.map((v) => v * scale),
    measured,
  );
}

async function openSim(options: SimOptions = {}, calibrate = false): Promise<Opu> {
  return Opu.open(new SimulatedOpuDevice({ options }), { inputs, outputs, calibrate });
}

describe('the calibration pipeline on the simulator with the default realistic camera', () => {
  let calibration: DeviceCalibration;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opu-calibration-'));
    await using opu = await openSim({ seed: 21 });
    calibration = await opu.runCalibration({ ...QUICK, seed: 4 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs every step but the transmission matrix and records frames and device time for each', () => {
    expect(Object.keys(calibration.steps)).toEqual([
      'triggerLag',
      'dark',
      'exposure',
      'reference',
      'linearity',
      'stability',
    ]);
    for (const step of Object.values(calibration.steps)) {
      expect(step.frames).toBeGreaterThan(0);
      expect(step.deviceTimeUs).toBeGreaterThan(0);
    }
    expect(calibration.device.serialNumber).toBe('SIM-00000015');
    expect(calibration.steps.reference!.snr).toBeGreaterThanOrEqual(calibration.steps.reference!.targetSnr);
    // superposition holds to the measurement noise (a few percent at 8 bits)
    expect(calibration.steps.linearity!.superpositionError).toBeLessThan(0.1);
    expect(calibration.steps.stability!.drifting).toBe(false);
    expect(calibration.steps.stability!.recalibrationIntervalS).toBe(Number.POSITIVE_INFINITY);
  });

  it('auto-exposure leaves no saturated pixel on fresh random half-lit frames, and is not needlessly short', async () => {
    const exposure = calibration.steps.exposure!;
    await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 21 } }), {
      inputs,
      outputs,
      calibration,
    });
    expect(opu.device.settings.exposureUs).toBe(exposure.exposureUs);
    const random = seededUniform(99);
    // As many fresh frames as the exposure was found on (exposure.testFrames, 64 by default): the margin covers the
    // spread of their brightest pixel, not the brighter maximum of many more frames (the facade re-acquires those).
    const frames = allocateDmdFrames(64, opu.device.inputSize);
    const { mirrorsPerElement: s, referenceElements } = opu.layout;
    const light = (f: number, first: number, count: number) => {
      for (let q = first * s; q < (first + count) * s; q++) setMirror(frames, f, q);
    };
    for (let f = 0; f < frames.count; f++) {
      for (let j = 0; j < inputs; j++) if (random() < 0.5) light(f, j, 1);
      light(f, inputs + (f % 3) * referenceElements, referenceElements);
    }
    const shot = await opu.device.acquire(frames);
    expect(Array.from(shot.meta.saturatedPixels).reduce((a, b) => a + b, 0)).toBe(0);
    const firstSaturating = Math.min(
      ...Array.from(exposure.sweepExposureUs).filter((_, i) => exposure.sweepSaturatedPixels[i]! > 0),
    );
    expect(exposure.exposureUs).toBeGreaterThan(0.5 * firstSaturating);
    // the speckle of a half-lit frame is exponential: P(I/⟨I⟩ > 3) = e^−3 ≈ 5%
    const counts = exposure.histogramCounts;
    const total = counts.reduce((a, b) => a + b, 0);
    const above3 = counts.slice(12).reduce((a, b) => a + b, 0) / total;
    expect(above3).toBeGreaterThan(0.035);
    expect(above3).toBeLessThan(0.065);
  });

  it('project() with the saved calibration is at least as accurate as with the one made while opening', async () => {
    const file = join(dir, 'sim.opucal');
    await saveCalibration(file, calibration);
    const e = inputBatch('gaussian', 48, inputs, 5);
    const quick = await Opu.open(new SimulatedOpuDevice({ options: { seed: 21 } }), { inputs, outputs });
    const before = relativeErrorAgainstTruth(quick, e, (await quick.project(e)).data);
    const quickReference = referenceError(quick);
    await quick.close();
    await using calibrated = await openOpu('sim://?seed=21', { calibration: file });
    const device = calibrated.device as SimulatedOpuDevice;
    // Adopting shows only the drift check: each reference DRIFT_CHECK_FRAMES times, plus any saturated frame again.
    expect(device.framesAcquired).toBeGreaterThanOrEqual(3 * DRIFT_CHECK_FRAMES);
    expect(device.framesAcquired).toBeLessThanOrEqual(2 * 3 * DRIFT_CHECK_FRAMES);
    const after = relativeErrorAgainstTruth(calibrated, e, (await calibrated.project(e)).data);
    // the projection's own shot noise (~4%) dominates both; the references' error is what calibration improves
    expect(after).toBeLessThan(0.1);
    expect(after).toBeLessThanOrEqual(before * 1.01);
    expect(referenceError(calibrated)).toBeLessThan(quickReference);
  });

  it('refuses a calibration from the same device in another camera configuration, or for another facade', async () => {
    const file = join(dir, 'eight-bit.opucal');
    await saveCalibration(file, calibration);
    await expect(openOpu('sim://?seed=21&bitDepth=12', { calibration: file })).rejects.toMatchObject({
      kind: 'mismatch',
      field: 'device.camera.bitDepth, device.camera.maxAdu',
    });
    await expect(openOpu('sim://?seed=21&inputs=32', { calibration: file })).rejects.toMatchObject({
      kind: 'mismatch',
      field: 'inputs',
    });
    await expect(openOpu('sim://?seed=22', { calibration: file })).rejects.toThrow(CalibrationFileError);
    await using forced = await openOpu('sim://?seed=22', { calibration: file, force: true });
    // Another device's medium: its references' speckle does not match the saved one either.
    expect(forced.calibrationWarnings).toEqual([
      expect.stringContaining('device.serialNumber'),
      expect.stringContaining('steps.reference.referenceIntensity'),
    ]);
  });

  it('resumes: a calibration holding the first steps measures only the rest', async () => {
    const { triggerLag, dark, exposure } = calibration.steps;
    await using opu = await openSim({ seed: 21 });
    const events: string[] = [];
    const resumed = await opu.runCalibration({
      ...QUICK,
      seed: 4,
      steps: ['reference'],
      resume: { ...calibration, steps: { triggerLag, dark, exposure } },
      onEvent: (event) => {
        if (event.type === 'step' && event.status !== 'started') events.push(`${event.step}:${event.status}`);
      },
    });
    expect(events).toEqual(['triggerLag:skipped', 'dark:skipped', 'exposure:skipped', 'reference:done']);
    expect(resumed.steps.dark).toBe(dark);
    expect(resumed.steps.reference!.amplitude.length).toBe(outputs);
    expect(opu.calibration!.amplitude).toBe(resumed.steps.reference!.amplitude);
  });

  it('measures a one-frame trigger lag and the saved calibration compensates it when reopened', async () => {
    const file = join(dir, 'lagging.opucal');
    await using opu = await openSim({ seed: 24, camera: { triggerLagFrames: 1 } });
    const lagging = await opu.runCalibration({ steps: ['reference'] });
    expect(lagging.steps.triggerLag!.lagFrames).toBe(1);
    await saveCalibration(file, lagging);
    await using reopened = await openOpu('sim://?seed=24&triggerLagFrames=1', { calibration: file });
    const e = inputBatch('ternary', 8, inputs, 6);
    expect(relativeErrorAgainstTruth(reopened, e, (await reopened.project(e)).data)).toBeLessThan(0.1);
  });

  it('detects a drifting medium and suggests a re-calibration interval from its decorrelation time', async () => {
    await using opu = await openSim({ seed: 22, medium: { driftTimeConstantS: 20 } });
    const result = await opu.runCalibration({ ...QUICK, steps: ['stability'], stability: { durationS: 8 } });
    const stability = result.steps.stability!;
    expect(stability.drifting).toBe(true);
    expect(stability.correlation.at(-1)!).toBeLessThan(stability.noiseFloor - 0.05);
    // the simulator's hand-over starts quadratically, so an exponential fitted over 8 s of a 20 s medium is slower
    expect(stability.timeConstantS).toBeGreaterThan(20);
    expect(stability.timeConstantS).toBeLessThan(200);
    // c(t)/c₀ fell below 0.998 within the span: the interval is read between the measurements that cross it
    const crossed = stability.correlation.findIndex((c) => c / stability.noiseFloor < 0.998);
    expect(crossed).toBeGreaterThan(0);
    expect(stability.recalibrationIntervalS).toBeGreaterThan(stability.timesS[crossed - 1]!);
    expect(stability.recalibrationIntervalS).toBeLessThanOrEqual(stability.timesS[crossed]!);
  });

  it('rejects bad settings, naming the field', async () => {
    await using opu = await openSim({ seed: 23 });
    await expect(opu.runCalibration({ exposure: { margin: 1.5 } })).rejects.toThrow(/options\.exposure\.margin/);
    await expect(opu.runCalibration({ steps: ['transmissionMatrix'] })).rejects.toThrow(ArgumentError);
    const tooWide = { transmissionMatrix: { rows: 8, cols: 400_000 }, steps: ['transmissionMatrix'] as const };
    await expect(opu.runCalibration(tooWide)).rejects.toThrow(UnsupportedError);
  });

  it('refuses to resume a calibration of another facade or seed', async () => {
    const { triggerLag, dark } = calibration.steps;
    const partial = { ...calibration, steps: { triggerLag, dark } };
    await using wider = await Opu.open(new SimulatedOpuDevice({ options: { seed: 21 } }), {
      inputs,
      outputs: outputs + 1,
      calibrate: false,
    });
    await expect(wider.runCalibration({ resume: partial, seed: 4 })).rejects.toMatchObject({
      kind: 'mismatch',
      field: expect.stringContaining('layout.outputs'),
    });
    await using same = await openSim({ seed: 21 });
    await expect(same.runCalibration({ resume: partial, seed: 5 })).rejects.toThrow(/measured with seed 4/);
  });

  it('a saved calibration survives the file round trip', async () => {
    const file = join(dir, 'again.opucal');
    await saveCalibration(file, calibration);
    const loaded = await loadCalibration(file);
    expect(loaded).toEqual(calibration);
  });
});

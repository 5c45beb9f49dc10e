import {
  CalibrationFileError,
  ConfigurationError,
  type DeviceCalibration,
  DriftError,
  Opu,
  type OpuOptions,
  openOpu,
} from 'opu-core';
import { projectionErrorAgainstTruth, type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { beforeAll, describe, expect, it } from 'vitest';
import { inputBatch } from './helpers.js';

const inputs = 64;
const outputs = 256;
const TAU_S = 600;

/**
 * Intensity correlation of the simulator's medium with itself `lagS` later, computed independently of it: average
 * over the pixel's position u within an epoch of the squared field correlation Σ_e h(u − e)·h(u + s − e),
 * h(v) = cos(πv/2) on [−1, 1], s = lag/Δ, Δ = 1.47307·τ (docs/physics.md).
 */
function modelCorrelation(lagS: number, tauS: number): number {
  const s = lagS / (1.4730654891466024 * tauS);
  const h = (v: number) => (Math.abs(v) <= 1 ? Math.cos((Math.PI * v) / 2) : 0);
  const steps = 4000;
  let sum = 0;
  for (let k = 0; k < steps; k++) {
    const u = (k + 0.5) / steps;
    let c = 0;
    for (let e = -2; e <= Math.ceil(s) + 2; e++) c += h(u - e) * h(u + s - e);
    sum += c * c;
  }
  return sum / steps;
}

async function openSim(sim: SimOptions, options: Partial<OpuOptions> = {}): Promise<Opu> {
  return Opu.open(new SimulatedOpuDevice({ options: { seed: 8, ...sim } }), { inputs, outputs, ...options });
}

const clockOf = (opu: Opu) => (opu.device as SimulatedOpuDevice).clock;
const e = inputBatch('binary', 4, inputs, 9);

describe('drift tracking against the simulator’s true drift (default realistic camera)', () => {
  it('estimates the references’ intensity correlation after a lag as the medium model predicts', async () => {
    await using opu = await openSim({ medium: { driftTimeConstantS: TAU_S } }, { onDrift: 'ignore' });
    for (const stepS of [30, 30, 90]) {
      clockOf(opu).advanceUs(stepS * 1e6);
      // The check is due by the device clock as of the last frame shown: the second call sees the step.
      await opu.project(e);
      const { drift } = (await opu.project(e)).meta;
      const expected = modelCorrelation(drift.sinceCalibrationS, TAU_S);
      expect(drift.checks).toBe(1);
      // 768 reference intensities estimate 1 − ρ to about 10%.
      expect(Math.abs(drift.correlation - expected), `lag ${drift.sinceCalibrationS} s`).toBeLessThan(
        0.25 * (1 - expected) + 3e-4,
      );
      expect(drift.correlation).toBeLessThan(drift.threshold);
    }
  });

  it('finds a fixed medium unchanged within the noise (the uncorrected correlation is about 1% lower)', async () => {
    await using opu = await openSim({}, { onDrift: 'error' });
    clockOf(opu).advanceUs(300e6);
    await opu.project(e);
    const { meta } = await opu.project(e);
    expect(meta.drift.checks).toBe(1);
    expect(Math.abs(1 - meta.drift.correlation)).toBeLessThan(2e-4);
    expect(meta.drift.timeConstantS).toBe(Number.POSITIVE_INFINITY);
    expect(meta.recalibrations).toBe(0);
  });

  it('fits the decorrelation time from the checks’ history', async () => {
    await using opu = await openSim({ medium: { driftTimeConstantS: TAU_S } }, { onDrift: 'ignore' });
    let timeConstantS = 0;
    for (let step = 0; step < 8; step++) {
      clockOf(opu).advanceUs(60e6);
      timeConstantS = (await opu.project(e)).meta.drift.timeConstantS;
    }
    // The simulator's ρ(t) is near exp(−(t/563 s)²) at these lags and reaches e⁻¹ at τ = 600 s.
    expect(timeConstantS).toBeGreaterThan(0.8 * TAU_S);
    expect(timeConstantS).toBeLessThan(1.25 * TAU_S);
  });

  it('re-measures the references in place and keeps project() near its fresh error', async () => {
    await using opu = await openSim({ medium: { driftTimeConstantS: TAU_S } });
    const fresh = projectionErrorAgainstTruth(opu, e, (await opu.project(e)).data)!;
    const weights = opu.calibration!.weights;
    clockOf(opu).advanceUs(120e6);
    await opu.project(e);
    const result = await opu.project(e);
    expect(result.meta.recalibrations).toBe(1);
    expect(result.meta.drift).toMatchObject({ checks: 1, recalibrations: 1, correlation: 1, sinceCalibrationS: 0 });
    expect(opu.calibration!.weights).not.toEqual(weights);
    expect(projectionErrorAgainstTruth(opu, e, result.data)!).toBeLessThan(1.5 * fresh + 0.01);
  });

  it("throws a DriftError with onDrift: 'error', before measuring, until calibrate()", async () => {
    await using opu = await openSim({ medium: { driftTimeConstantS: TAU_S } }, { onDrift: 'error' });
    clockOf(opu).advanceUs(120e6);
    await opu.project(e);
    const error = await opu.project(e).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DriftError);
    expect((error as DriftError).correlation).toBeLessThan((error as DriftError).threshold);
    expect((error as DriftError).field).toBe('medium');
    await opu.calibrate();
    expect((await opu.project(e)).meta.drift.correlation).toBe(1);
  });

  it('validates the drift options', async () => {
    const device = new SimulatedOpuDevice();
    const open = (options: Partial<OpuOptions>) => Opu.open(device, { inputs, outputs, calibrate: false, ...options });
    await expect(open({ driftCheckIntervalS: 0 })).rejects.toThrow(/driftCheckIntervalS/);
    await expect(open({ driftErrorBudget: 1.5 })).rejects.toThrow(/driftErrorBudget/);
    await expect(open({ onDrift: 'panic' as never })).rejects.toThrow(/onDrift/);
  });

  it('takes the drift options from the URL', async () => {
    const url = 'sim://?seed=8&inputs=16&outputs=32&driftTimeConstantS=600';
    await using opu = await openOpu(`${url}&driftCheckIntervalS=Infinity&onDrift=error`);
    clockOf(opu).advanceUs(600e6);
    await opu.project(e.subarray(0, 16));
    expect((await opu.project(e.subarray(0, 16))).meta.drift.checks).toBe(0);
    await expect(openOpu(`${url}&driftErrorBudget=2`)).rejects.toMatchObject({
      constructor: ConfigurationError,
      field: 'url.driftErrorBudget',
    });
  });
});

describe('a reopened calibration is judged by the medium’s measured drift', () => {
  const quick = { steps: ['triggerLag', 'dark', 'exposure', 'reference'] } as const;
  let drifting: DeviceCalibration;
  let fixed: DeviceCalibration;

  beforeAll(async () => {
    await using a = await openSim({ medium: { driftTimeConstantS: TAU_S } }, { calibrate: false });
    drifting = await a.runCalibration(quick);
    await using b = await openSim({}, { calibrate: false });
    fixed = await b.runCalibration(quick);
    // two calibration pipelines, rungs included: seconds each with the TypeScript kernels (OPU_NATIVE=0)
  }, 60_000);

  /** The same simulated device (same seed, so the same medium) opened again `laterS` device-seconds on. */
  async function reopen(sim: SimOptions, calibration: DeviceCalibration, laterS: number, force = false) {
    const device = new SimulatedOpuDevice({ options: { seed: 8, ...sim } });
    device.clock.advanceUs(laterS * 1e6);
    return Opu.open(device, { inputs, outputs, calibration, force });
  }

  it('is stale after two minutes on a medium with τ = 600 s, fresh after an hour on a fixed one', async () => {
    const error = await reopen({ medium: { driftTimeConstantS: TAU_S } }, drifting, 120).catch((c: unknown) => c);
    expect(error).toBeInstanceOf(CalibrationFileError);
    expect((error as CalibrationFileError).kind).toBe('stale');
    expect((error as CalibrationFileError).field).toBe('steps.reference.referenceIntensity');
    await using still = await reopen({}, fixed, 3600);
    expect(still.calibrationWarnings).toEqual([]);
    expect((await still.project(e)).meta.recalibrations).toBe(0);
  });

  it('with force, warns and re-measures the references at the first measurement', async () => {
    await using opu = await reopen({ medium: { driftTimeConstantS: TAU_S } }, drifting, 120, true);
    expect(opu.calibrationWarnings.join()).toMatch(/steps\.reference\.referenceIntensity: .*medium moved/);
    const result = await opu.project(e);
    expect(result.meta.recalibrations).toBe(1);
    expect(projectionErrorAgainstTruth(opu, e, result.data)!).toBeLessThan(0.08);
  });
});

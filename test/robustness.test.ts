import {
  ArgumentError,
  ConfigurationError,
  DeviceStateError,
  MeasurementError,
  Opu,
  openOpu,
  UnsupportedError,
} from 'opu-core';
import 'opu-sim';
import { type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { describe, expect, it } from 'vitest';
import { inputBatch, relativeErrorAgainstTruth } from './helpers.js';

const n = 128;
const m = 256;

async function openSim(options: SimOptions): Promise<Opu> {
  return Opu.open(new SimulatedOpuDevice({ options }), { inputs: n, outputs: m });
}

describe('the facade copes with the device’s limits and faults', () => {
  it('detects a one-frame trigger lag and compensates it', async () => {
    await using opu = await openSim({ seed: 1, camera: { triggerLagFrames: 1 } });
    expect(opu.calibration!.triggerLagFrames).toBe(1);
    const e = inputBatch('ternary', 8, n, 2);
    expect(relativeErrorAgainstTruth(opu, e, (await opu.project(e)).data)).toBeLessThan(0.06);
  });

  it('splits batches into passes and pads short ones, with the same accuracy', async () => {
    await using opu = await openSim({ seed: 3, maxFramesPerAcquisition: 24, minFramesPerAcquisition: 8 });
    const e = inputBatch('gaussian', 4, n, 4);
    const result = await opu.project(e);
    expect(result.meta.acquisitions).toBeGreaterThan(result.meta.frames / 24);
    expect(relativeErrorAgainstTruth(opu, e, result.data)).toBeLessThan(0.06);
  });

  it('never returns saturated data: transform of half-lit inputs at default settings', async () => {
    await using opu = await openSim({ seed: 5 });
    const device = opu.device as SimulatedOpuDevice;
    let saturatedShown = 0;
    const acquire = device.acquire.bind(device);
    device.acquire = async (frames) => {
      const shot = await acquire(frames);
      for (const s of shot.meta.saturatedPixels) saturatedShown += s;
      return shot;
    };
    const result = await opu.transform(inputBatch('binary', 64, n, 6));
    const max = Math.max(...result.data);
    // Features are in units of one mirror's mean intensity: half of 128 lit gives a mean of 64 and a max near 64·ln(N).
    expect(max).toBeGreaterThan(64 * 4);
    expect(result.meta.saturationRetries === 0 || saturatedShown > 0).toBe(true);
  });

  it('runs concurrent measurements one after the other, exactly as if called in sequence', async () => {
    const a = inputBatch('ternary', 4, n, 24);
    const b = inputBatch('gaussian', 2, n, 25);
    const x = inputBatch('binary', 4, n, 26);
    const sequential = await (async () => {
      await using opu = await openSim({ seed: 23 });
      return [(await opu.project(a)).data, (await opu.project(b)).data, (await opu.transform(x)).data];
    })();
    await using opu = await openSim({ seed: 23 });
    const concurrent = await Promise.all([opu.project(a), opu.project(b), opu.transform(x)]);
    expect(concurrent.map((r) => r.data)).toEqual(sequential);
    expect(relativeErrorAgainstTruth(opu, a, concurrent[0].data)).toBeLessThan(0.06);
  });

  it('recalibration recovers the accuracy lost to drift of the medium', async () => {
    await using opu = await openSim({ seed: 7, medium: { driftTimeConstantS: 60 } });
    const device = opu.device as SimulatedOpuDevice;
    const e = inputBatch('ternary', 8, n, 8);
    const fresh = relativeErrorAgainstTruth(opu, e, (await opu.project(e)).data);
    device.clock.advanceUs(30e6);
    const stale = relativeErrorAgainstTruth(opu, e, (await opu.project(e)).data);
    await opu.calibrate();
    const recalibrated = relativeErrorAgainstTruth(opu, e, (await opu.project(e)).data);
    expect(stale).toBeGreaterThan(3 * fresh);
    expect(recalibrated).toBeLessThan(0.06);
  });
});

describe('bad input gets a typed error and changes nothing', () => {
  it('rejects NaN, Infinity, wrong lengths, non-Float32Array and non-ternary rows', async () => {
    await using opu = await openSim({ seed: 9 });
    const device = opu.device as SimulatedOpuDevice;
    const before = device.framesAcquired;
    const e = inputBatch('gaussian', 2, n, 10);
    e[n + 5] = Number.NaN;
    await expect(opu.project(e)).rejects.toThrow(/e\[1\]\[5\].*not finite/);
    e[n + 5] = Number.POSITIVE_INFINITY;
    await expect(opu.project(e)).rejects.toBeInstanceOf(ArgumentError);
    await expect(opu.project(new Float32Array(n + 1))).rejects.toThrow(/multiple of inputs/);
    await expect(opu.project(Array.from({ length: n }) as unknown as Float32Array)).rejects.toThrow(/Float32Array/);
    await expect(opu.project(inputBatch('gaussian', 1, n, 11), { encoding: 'ternary' })).rejects.toThrow(/e\[0\]/);
    await expect(opu.project(inputBatch('gaussian', 1, n, 11), { precisionBits: 0 })).rejects.toThrow(/precisionBits/);
    const x = new Uint8Array(n);
    x[3] = 2;
    await expect(opu.transform(x)).rejects.toThrow(/x\[0\]\[3\].*not binary/);
    expect(device.framesAcquired).toBe(before);
  });

  it('rejects use after close', async () => {
    const opu = await openSim({ seed: 12 });
    await opu.close();
    await opu.close();
    await expect(opu.project(new Float32Array(n))).rejects.toBeInstanceOf(DeviceStateError);
  });

  it('rejects sizes the hardware cannot hold', async () => {
    await expect(
      Opu.open(
        new SimulatedOpuDevice({
          options: { camera: { widthPx: 64, heightPx: 8 }, outputRoi: { left: 0, top: 0, width: 64, height: 8 } },
        }),
        { inputs: 8, outputs: 600 },
      ),
    ).rejects.toBeInstanceOf(UnsupportedError);
    await expect(Opu.open(new SimulatedOpuDevice(), { inputs: 0, outputs: 8 })).rejects.toThrow(/inputs/);
  });

  it('reports a camera that sees no light instead of returning noise', async () => {
    await expect(openSim({ seed: 1, photonsPerMirrorUs: 1e-9 })).rejects.toBeInstanceOf(MeasurementError);
  });
});

describe('openOpu(url)', () => {
  it('opens the embedded simulator from a URL', async () => {
    await using opu = await openOpu('sim://?inputs=64&outputs=96&seed=7&camera=ideal');
    expect(opu.inputs).toBe(64);
    expect(opu.outputs).toBe(96);
    expect(opu.device.info.serialNumber).toBe('SIM-00000007');
    const result = await opu.project(inputBatch('ternary', 2, 64, 1));
    expect(result.data.length).toBe(2 * 96);
  });

  it('names the fault in a bad URL', async () => {
    await expect(openOpu('nope://x')).rejects.toThrow(/no backend for scheme 'nope:\/\/'.*sim:\/\//);
    await expect(openOpu('sim://?inputs=ten')).rejects.toThrow(/url\.inputs/);
    await expect(openOpu('sim://?colour=blue')).rejects.toThrow(/url\.colour/);
    await expect(openOpu('not a url')).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe('default exposure', () => {
  it('saturates no pixel on random frames with half of the mirrors on', async () => {
    await using device = new SimulatedOpuDevice({ options: { seed: 21 } });
    await device.open();
    const { packDmdFrames, seededUniform } = await import('opu-core');
    const u = seededUniform(22);
    const count = 64;
    const bits = Array.from({ length: count * device.inputSize }, () => (u() < 0.5 ? 1 : 0));
    const shot = await device.acquire(packDmdFrames(bits, count, device.inputSize));
    expect(device.settings.exposureUs).toBe(400);
    expect(Math.max(...shot.meta.saturatedPixels)).toBe(0);
    // …while using the ADC's range: the brightest pixel is above a third of full scale.
    let brightest = 0;
    for (const v of shot.data) brightest = Math.max(brightest, v);
    expect(brightest).toBeGreaterThan(device.info.camera.maxAdu / 3);
  });
});

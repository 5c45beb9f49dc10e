import { describe, expect, it } from 'vitest';
import { type CameraFrames, type DmdFrames, litMirrors, packDmdFrames } from '../src/device/frames.js';
import { minFrameTimeUs } from '../src/device/info.js';
import { ExposureControlledAcquirer, emptyStats, gatherFrames } from '../src/measure/acquisition.js';
import { MeasurementError } from '../src/support/errors.js';
import { seededUniform } from '../src/support/random.js';
import { caught, type FakeDeviceOptions, FakeOpuDevice, linearResponse, randomBits } from './helpers/fake-device.js';

const MIRRORS = 16;
const PIXELS = 8;

/** A 10 µs exposure keeps the default linear response far from saturation: every frame gives distinct ADUs. */
async function openFast(options: FakeDeviceOptions = {}): Promise<FakeOpuDevice> {
  const device = new FakeOpuDevice({ settings: { exposureUs: 10, frameTimeUs: 60 }, ...options });
  await device.open();
  return device;
}

function bitsOf(frames: DmdFrames, f: number): Uint8Array {
  const out = new Uint8Array(frames.mirrorsPerFrame);
  const stride = (frames.mirrorsPerFrame + 7) >> 3;
  for (let j = 0; j < out.length; j++) out[j] = (frames.data[f * stride + (j >> 3)]! >> (j & 7)) & 1;
  return out;
}

/** Frames of random bits, each with exactly `lit[f]` mirrors on. */
function framesWithLit(lit: number[], seed: number): DmdFrames {
  const random = seededUniform(seed);
  const bits = new Uint8Array(lit.length * MIRRORS);
  lit.forEach((count, f) => {
    const keys = Array.from({ length: MIRRORS }, () => random());
    const order = [...keys.keys()].sort((a, b) => keys[a]! - keys[b]!);
    for (let k = 0; k < count; k++) bits[f * MIRRORS + order[k]!] = 1;
  });
  const frames = packDmdFrames(bits, lit.length, MIRRORS);
  lit.forEach((count, f) => {
    expect(litMirrors(frames, f)).toBe(count);
  });
  return frames;
}

/** Camera frame f of the concatenated parts, as plain numbers. */
function frameData(parts: CameraFrames[], f: number): number[] {
  for (const part of parts) {
    const pixels = part.widthPx * part.heightPx;
    if (f < part.count) return Array.from(part.data.subarray(f * pixels, (f + 1) * pixels));
    f -= part.count;
  }
  throw new Error(`no frame ${f}`);
}

describe('ExposureControlledAcquirer.acquireRaw', () => {
  it('splits batches above the device maximum and pads the last pass to the minimum', async () => {
    const device = await openFast();
    const acquirer = new ExposureControlledAcquirer(device, PIXELS);
    const frames = packDmdFrames(randomBits(23 * MIRRORS, 7), 23, MIRRORS);
    const stats = emptyStats();
    const parts = await acquirer.acquireRaw(frames, stats);
    // The device takes 4 to 10 frames: 10 + 10 + (3 padded to 4).
    expect(device.acquisitions.map((a) => a.count)).toEqual([10, 10, 4]);
    expect(parts.map((p) => p.count)).toEqual([10, 10, 3]);
    expect(device.acquisitions[2]!.bits.subarray(3 * MIRRORS).every((b) => b === 0)).toBe(true);
    for (let f = 0; f < 23; f++) {
      expect(frameData(parts, f), `frame ${f}`).toEqual(Array.from(device.expectedAdu(bitsOf(frames, f), 10)));
    }
    for (const [p, part] of parts.entries()) {
      for (let f = 0; f < part.count; f++) {
        expect(part.meta.litMirrors[f]).toBe(litMirrors(frames, p * 10 + f));
      }
      expect(part.meta.timestampsUs.length).toBe(part.count);
      expect(part.meta.saturatedPixels.length).toBe(part.count);
      expect(part.data.length).toBe(part.count * PIXELS);
    }
    expect(stats).toEqual({
      frames: 24,
      acquisitions: 3,
      saturationRetries: 0,
      deviceTimeUs: 24 * 60,
      exposureUsMin: 10,
      exposureUsMax: 10,
    });
  });

  it('passes a batch within the limits through in one acquisition', async () => {
    const device = await openFast();
    const acquirer = new ExposureControlledAcquirer(device, PIXELS);
    const stats = emptyStats();
    const tenFrames = packDmdFrames(randomBits(10 * MIRRORS, 8), 10, MIRRORS);
    expect((await acquirer.acquireRaw(tenFrames, stats)).map((p) => p.count)).toEqual([10]);
    const oneFrame = packDmdFrames(randomBits(MIRRORS, 9), 1, MIRRORS);
    const [part] = await acquirer.acquireRaw(oneFrame, stats);
    expect(part!.count).toBe(1);
    expect(frameData([part!], 0)).toEqual(Array.from(device.expectedAdu(bitsOf(oneFrame, 0), 10)));
    expect(device.acquisitions.map((a) => a.count)).toEqual([10, 4]);
    expect(await acquirer.acquireRaw(packDmdFrames([], 0, MIRRORS), stats)).toEqual([]);
    expect(stats.acquisitions).toBe(2);
  });

  it('drops the frames by which a lagging camera trails the DMD', async () => {
    const device = await openFast({ triggerLagFrames: 2 });
    const acquirer = new ExposureControlledAcquirer(device, PIXELS);
    const frames = packDmdFrames(randomBits(23 * MIRRORS, 11), 23, MIRRORS);

    // Without compensation, the first camera frames are dark and everything is shifted by two.
    const uncompensated = await acquirer.acquireRaw(frames, emptyStats());
    const dark = Math.round(device.darkOffsetAdu + device.darkSlopeAduPerUs * 10);
    expect(frameData(uncompensated, 0)).toEqual(new Array(PIXELS).fill(dark));
    expect(frameData(uncompensated, 2)).toEqual(Array.from(device.expectedAdu(bitsOf(frames, 0), 10)));

    device.acquisitions.length = 0;
    acquirer.triggerLagFrames = 2;
    const stats = emptyStats();
    const parts = await acquirer.acquireRaw(frames, stats);
    // 8 data frames + 2 flush frames per pass: 8 + 8 + 7.
    expect(device.acquisitions.map((a) => a.count)).toEqual([10, 10, 9]);
    expect(parts.map((p) => p.count)).toEqual([8, 8, 7]);
    for (const a of device.acquisitions) {
      expect(a.bits.subarray((a.count - 2) * MIRRORS).every((b) => b === 0)).toBe(true);
    }
    for (let f = 0; f < 23; f++) {
      expect(frameData(parts, f), `frame ${f}`).toEqual(Array.from(device.expectedAdu(bitsOf(frames, f), 10)));
    }
    expect(stats.frames).toBe(29);
    expect(stats.deviceTimeUs).toBe(29 * 60);

    // A single frame plus two flush frames is still padded to the minimum of four.
    device.acquisitions.length = 0;
    const one = packDmdFrames(randomBits(MIRRORS, 12), 1, MIRRORS);
    const [part] = await acquirer.acquireRaw(one, emptyStats());
    expect(device.acquisitions.map((a) => a.count)).toEqual([4]);
    expect(frameData([part!], 0)).toEqual(Array.from(device.expectedAdu(bitsOf(one, 0), 10)));
  });
});

describe('ExposureControlledAcquirer.setExposure', () => {
  it('clamps to the device limits and sets the shortest frame time the exposure allows', async () => {
    const device = await openFast();
    const acquirer = new ExposureControlledAcquirer(device, PIXELS);
    expect(await acquirer.setExposure(1)).toBe(10);
    expect(device.calls.configure).toBe(0);
    expect(await acquirer.setExposure(1e9)).toBe(50_000);
    expect(device.settings.exposureUs).toBe(50_000);
    expect(device.settings.frameTimeUs).toBe(50_020);
    expect(await acquirer.setExposure(123.4)).toBe(123.4);
    expect(device.settings.frameTimeUs).toBe(Math.ceil(minFrameTimeUs(device.info, 123.4, 2)));
    expect(device.calls.configure).toBe(2);
    await acquirer.setExposure(123.4);
    expect(device.calls.configure).toBe(2);
  });
});

describe('ExposureControlledAcquirer.acquireNormalized', () => {
  function calibratedAcquirer(device: FakeOpuDevice, outputs: number, responsivity: number) {
    const acquirer = new ExposureControlledAcquirer(device, outputs);
    acquirer.darkOffsetAdu.fill(device.darkOffsetAdu);
    acquirer.darkSlopeAduPerUs.fill(device.darkSlopeAduPerUs);
    acquirer.responsivity = responsivity;
    return acquirer;
  }

  it('normalizeInto writes (ADU − dark) / exposure for the first outputs pixels', async () => {
    const device = await openFast();
    const acquirer = new ExposureControlledAcquirer(device, 3);
    acquirer.darkOffsetAdu.set([10, 20, 30]);
    acquirer.darkSlopeAduPerUs.set([0.5, 0, 1]);
    const shot = await device.acquire(packDmdFrames(new Uint8Array(4 * MIRRORS), 4, MIRRORS));
    shot.data.set([110, 220, 330, 999, 999, 999, 999, 999], 2 * PIXELS);
    const out = new Float32Array(5).fill(-1);
    acquirer.normalizeInto({ ...shot, meta: { ...shot.meta, exposureUs: 20 } }, 2, out, 1);
    expect(Array.from(out)).toEqual([-1, (110 - 20) / 20, (220 - 20) / 20, (330 - 50) / 20, -1]);
  });

  it('returns dark-subtracted intensity per µs, at an exposure chosen per lit-mirror group', async () => {
    const device = await openFast();
    // Mean ADU/µs per lit mirror of the default response: mean(1 + i) + mean(j mod 5) = 4.5 + 30/16.
    const acquirer = calibratedAcquirer(device, 6, 4.5 + 30 / 16);
    const lit = [2, 12, 3, 2, 12, 11, 3, 2];
    const frames = framesWithLit(lit, 21);
    const stats = emptyStats();
    const out = await acquirer.acquireNormalized(frames, Uint32Array.from(lit), stats);
    expect(out.length).toBe(lit.length * 6);
    const exposures = device.acquisitions.map((a) => a.exposureUs);
    // Two groups, {2, 2, 2, 3, 3} and {11, 12, 12}: the brighter one is exposed for less time.
    expect(exposures.length).toBe(2);
    expect(exposures[1]!).toBeLessThan(exposures[0]! / 2);
    expect(exposures[0]).toBeCloseTo(acquirer.exposureFor(3, 5), 9);
    expect(exposures[1]).toBeCloseTo(acquirer.exposureFor(12, 3), 9);
    expect(stats.saturationRetries).toBe(0);
    expect(stats.exposureUsMin).toBe(exposures[1]);
    expect(stats.exposureUsMax).toBe(exposures[0]);
    const group = lit.map((l) => (l >= 11 ? exposures[1]! : exposures[0]!));
    for (let f = 0; f < lit.length; f++) {
      const light = device.intensity(bitsOf(frames, f));
      const adu = device.expectedAdu(bitsOf(frames, f), group[f]!);
      for (let i = 0; i < 6; i++) {
        const dark = device.darkOffsetAdu + device.darkSlopeAduPerUs * group[f]!;
        const normalized = (adu[i]! - dark) / group[f]!;
        expect(Math.abs(out[f * 6 + i]! - normalized)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(normalized)));
        // Within half an ADU of the true light, per µs.
        expect(Math.abs(out[f * 6 + i]! - light[i]!)).toBeLessThanOrEqual(0.5 / group[f]! + 1e-5 * light[i]!);
      }
    }
    expect(Math.max(...device.acquisitions.flatMap((a) => Array.from(a.saturatedPixels)))).toBe(0);
  });

  it('re-acquires only the saturated frames, at a shorter exposure, and counts the retries', async () => {
    // Mirror 0 is a hot spot on pixel 0: frames that light it saturate at the exposure the others need.
    const device = await openFast({ response: linearResponse((i, j) => (i === 0 && j === 0 ? 40 : 1)) });
    const acquirer = calibratedAcquirer(device, PIXELS, 1);
    const lit = [4, 4, 4, 4, 4, 4, 4, 4];
    const bits = new Uint8Array(lit.length * MIRRORS);
    const hot = [1, 4, 6];
    for (let f = 0; f < lit.length; f++) {
      const first = hot.includes(f) ? 0 : 1 + f;
      for (const j of [first, 9, 10 + (f % 3), 14]) bits[f * MIRRORS + j] = 1;
    }
    const frames = packDmdFrames(bits, lit.length, MIRRORS);
    const stats = emptyStats();
    const out = await acquirer.acquireNormalized(frames, Uint32Array.from(lit), stats);

    const [first, ...retries] = device.acquisitions;
    expect(first!.count).toBe(8);
    const saturatedFirst = [...first!.saturatedPixels.keys()].filter((f) => first!.saturatedPixels[f]! > 0);
    expect(saturatedFirst).toEqual(hot);
    // 43 ADU/µs on the hot pixel: ~194 µs and 0.6 × that saturate, 0.36 × that does not.
    expect(retries.length).toBe(2);
    expect(stats.saturationRetries).toBe(retries.length);
    let exposure = first!.exposureUs;
    for (const retry of retries) {
      expect(retry.exposureUs).toBeCloseTo(exposure * 0.6, 9);
      exposure = retry.exposureUs;
      // The hot frames again, padded with one blank frame to the device minimum of 4.
      expect(retry.count).toBe(4);
      for (const [k, f] of hot.entries()) {
        expect(Array.from(retry.bits.subarray(k * MIRRORS, (k + 1) * MIRRORS))).toEqual(
          Array.from(bits.subarray(f * MIRRORS, (f + 1) * MIRRORS)),
        );
      }
    }
    const last = retries.at(-1)!;
    expect(Array.from(last.saturatedPixels.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(stats.exposureUsMin).toBe(last.exposureUs);
    for (let f = 0; f < lit.length; f++) {
      const used = hot.includes(f) ? last.exposureUs : first!.exposureUs;
      const light = device.intensity(bits.subarray(f * MIRRORS, (f + 1) * MIRRORS));
      for (let i = 0; i < PIXELS; i++) {
        expect(Math.abs(out[f * PIXELS + i]! - light[i]!), `frame ${f} pixel ${i}`).toBeLessThanOrEqual(
          0.5 / used + 1e-5 * light[i]!,
        );
      }
    }
  });

  it('fails with MeasurementError when pixels saturate even at the shortest exposure', async () => {
    const device = await openFast({ response: linearResponse(() => 1e4) });
    const acquirer = calibratedAcquirer(device, PIXELS, 1);
    const frames = framesWithLit([4, 4, 4, 4], 3);
    const error = (await caught(
      acquirer.acquireNormalized(frames, Uint32Array.of(4, 4, 4, 4), emptyStats()),
    )) as MeasurementError;
    expect(error).toBeInstanceOf(MeasurementError);
    expect(error.field).toBe('exposureUs');
    expect(error.message).toMatch(/shortest exposure/);
    expect(device.acquisitions.at(-1)!.exposureUs).toBe(device.info.limits.exposureUs.min);
  });
});

describe('gatherFrames', () => {
  it('copies the listed frames in the given order', () => {
    const frames = packDmdFrames(randomBits(5 * 11, 4), 5, 11);
    const gathered = gatherFrames(frames, [3, 0, 3]);
    expect(gathered.count).toBe(3);
    expect(gathered.mirrorsPerFrame).toBe(11);
    expect([0, 1, 2].map((f) => Array.from(bitsOf(gathered, f)))).toEqual(
      [3, 0, 3].map((f) => Array.from(bitsOf(frames, f))),
    );
  });
});

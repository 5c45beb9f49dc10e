import { allocateDmdFrames, bytesPerFrame, type DmdFrames, packDmdFrames } from 'opu-core';
import { CounterRng } from 'opu-native';
import { describe, expect, it } from 'vitest';
import { planeIndices, rectangleIndices } from '../src/geometry.js';
import {
  IDEAL_CAMERA,
  photoelectronsPerMirrorUs,
  type SimOptions,
  SimulatedClock,
  SimulatedOpuDevice,
} from '../src/index.js';
import {
  correlation,
  frameMean,
  intensities,
  mean,
  randomBits,
  randomFrames,
  report,
  variance,
} from './helpers/stats.js';

async function open(options: SimOptions, clock?: SimulatedClock): Promise<SimulatedOpuDevice> {
  const device = new SimulatedOpuDevice(clock ? { options, clock } : { options });
  await device.open();
  return device;
}

/** Ideal camera, steady laser: the only thing left between the field and the pixels is a fixed scale and rounding. */
const IDEAL: SimOptions = { camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } };

/** 256 mirrors: where the number of inputs does not matter, a small region keeps the matrix (and the test) cheap. */
const SMALL_INPUT = { left: 0, top: 0, width: 16, height: 16 };

function sliceFrames(frames: DmdFrames, start: number, end: number): DmdFrames {
  const stride = bytesPerFrame(frames.mirrorsPerFrame);
  return {
    count: end - start,
    mirrorsPerFrame: frames.mirrorsPerFrame,
    data: frames.data.slice(start * stride, end * stride),
  };
}

function repeatFrame(frame: DmdFrames, count: number): DmdFrames {
  const stride = bytesPerFrame(frame.mirrorsPerFrame);
  const out = allocateDmdFrames(count, frame.mirrorsPerFrame);
  for (let f = 0; f < count; f++) out.data.set(frame.data.subarray(0, stride), f * stride);
  return out;
}

/** ADU per field-unit intensity of an ideal camera at 0 dB: signal × exposure × maxAdu / full well. */
function aduPerIntensity(device: SimulatedOpuDevice): number {
  const o = device.options;
  return (
    (photoelectronsPerMirrorUs(o) * device.settings.exposureUs * (2 ** o.camera.bitDepth - 1)) / o.camera.fullWellE
  );
}

/** Pearson correlation of the intensities of pixels `d` apart along x (dx = d) or y, pooled over frames and rows. */
function neighbourCorrelation(I: Float64Array, frames: number, w: number, h: number, dx: number, dy: number): number {
  const a: number[] = [];
  const b: number[] = [];
  for (let f = 0; f < frames; f++) {
    for (let y = 0; y + dy < h; y++) {
      for (let x = 0; x + dx < w; x++) {
        a.push(I[f * w * h + y * w + x]!);
        b.push(I[f * w * h + (y + dy) * w + x + dx]!);
      }
    }
  }
  return correlation(a, b);
}

describe('determinism and noise keying', () => {
  it('same seed gives bit-identical camera frames; another seed gives different ones', async () => {
    // Realistic camera and laser, drifting medium.
    const options: SimOptions = { seed: 5, medium: { driftTimeConstantS: 0.2 }, inputRegion: SMALL_INPUT };
    const frames = randomFrames(6, 256, 200, 1);
    const a = await (await open(options)).acquire(frames);
    const b = await (await open(options)).acquire(frames);
    const c = await (await open({ ...options, seed: 6 })).acquire(frames);
    expect(b.data).toEqual(a.data);
    expect(b.meta).toEqual(a.meta);
    let differ = 0;
    for (let i = 0; i < a.data.length; i++) if (a.data[i] !== c.data[i]) differ++;
    // Independent speckle: two exponentials of mean ≈ 16 ADU coincide after rounding only a few % of the time.
    report('fraction of pixels that differ between seeds 5 and 6', differ / a.data.length);
    expect(differ / a.data.length).toBeGreaterThan(0.9);
  });

  it('splitting frames into two acquisitions gives the same pixels as one acquisition', async () => {
    const options: SimOptions = {
      seed: 8,
      medium: { driftTimeConstantS: 0.05 },
      laser: { powerFluctuationRms: 0.02 },
      inputRegion: SMALL_INPUT,
    };
    const frames = randomFrames(10, 256, 200, 2);
    const whole = await (await open(options)).acquire(frames);
    const split = await open(options);
    const first = await split.acquire(sliceFrames(frames, 0, 4));
    const second = await split.acquire(sliceFrames(frames, 4, 10));
    const m = split.outputSize;
    expect(first.data).toEqual(whole.data.subarray(0, 4 * m));
    expect(second.data).toEqual(whole.data.subarray(4 * m));
    expect([...first.meta.timestampsUs, ...second.meta.timestampsUs]).toEqual([...whole.meta.timestampsUs]);
    expect([...first.meta.saturatedPixels, ...second.meta.saturatedPixels]).toEqual([...whole.meta.saturatedPixels]);
    // Noise is keyed by the frame index since open, not by what was shown before: other first frames, same rest.
    const other = await open(options);
    await other.acquire(allocateDmdFrames(4, 256));
    expect((await other.acquire(sliceFrames(frames, 4, 10))).data).toEqual(second.data);
    expect(other.framesAcquired).toBe(10);
  });

  // 'auto' picks the field kernel per call from the batch's size and content: for these dense frames (≈ 920 of 1024
  // mirrors lit) batches of 64, 7, 20 or 37 use the dense kernel (their mirrors fall in more than 64 groups) and a
  // single frame the grouped sums (one group: its lit mirrors). The sums are exact integers, so the split must not
  // show in a single bit.
  for (const [name, options] of [
    ['ideal 12-bit camera, fixed medium, cached matrix', { ...IDEAL, seed: 21 }],
    [
      'realistic camera and laser, drifting medium, lazy matrix',
      {
        seed: 22,
        medium: { driftTimeConstantS: 0.01 },
        laser: { powerFluctuationRms: 0.02 },
        outputRoi: { left: 3, top: 2, width: 32, height: 16 },
        matrixCacheMb: 0,
      },
    ],
  ] as const satisfies readonly (readonly [string, SimOptions])[]) {
    it(`one batch of 64 dense frames equals batches of 7 + 20 + 37, bit for bit (${name})`, async () => {
      const frames = randomFrames(64, 1024, 920, 23);
      const whole = await (await open(options)).acquire(frames);
      const split = await open(options);
      const m = split.outputSize;
      let start = 0;
      for (const count of [7, 20, 37]) {
        const part = await split.acquire(sliceFrames(frames, start, start + count));
        expect(part.data).toEqual(whole.data.subarray(start * m, (start + count) * m));
        expect([...part.meta.saturatedPixels]).toEqual([...whole.meta.saturatedPixels.subarray(start, start + count)]);
        start += count;
      }
      // And single frames, summed as one group of mirrors.
      const single = await open(options);
      for (let f = 0; f < 3; f++) {
        expect((await single.acquire(sliceFrames(frames, f, f + 1))).data).toEqual(
          whole.data.subarray(f * m, (f + 1) * m),
        );
      }
    });
  }

  it('the lazy tiled medium (matrixCacheMb: 0) gives exactly the fields of the cached one', async () => {
    // 800 mirrors (> one 256-mirror block, odd left so Philox pairs straddle blocks), 800 pixels (> one 512-pixel
    // block); drift on, so both streams are exercised.
    const base: SimOptions = {
      seed: 3,
      medium: { driftTimeConstantS: 1 },
      dmd: { outsidePattern: 'on' },
      inputRegion: { left: 3, top: 5, width: 40, height: 20 },
      outputRoi: { left: 7, top: 3, width: 40, height: 20 },
    };
    const n = 800;
    const bits = new Uint8Array(6 * n);
    bits.set(randomBits(3, n, 250, 9), 0); // random frames
    bits.fill(1, 3 * n, 4 * n); // all mirrors on
    // frame 4 all off; frame 5: only mirrors 300..310, i.e. only the second mirror block
    bits.fill(1, 5 * n + 300, 5 * n + 311);
    const frames = packDmdFrames(bits, 6, n);
    const cached = await open({ ...base, matrixCacheMb: 256 });
    const lazy = await open({ ...base, matrixCacheMb: 0 });
    for (const device of [cached, lazy]) device.clock.advanceUs(300_000);
    const a = cached.groundTruth.field(frames);
    const b = lazy.groundTruth.field(frames);
    expect(b.re).toEqual(a.re);
    expect(b.im).toEqual(a.im);

    // Independently: the field is Σ_j R_ij x_j plus the outside pattern's constant field (the all-off frame's).
    const R = lazy.groundTruth.transmissionMatrix();
    const m = lazy.outputSize;
    let worst = 0;
    for (let f = 0; f < 6; f++) {
      for (let i = 0; i < m; i++) {
        let re = a.re[4 * m + i]!;
        let im = a.im[4 * m + i]!;
        for (let j = 0; j < n; j++) {
          if (bits[f * n + j]) {
            re += R.re[i * n + j]!;
            im += R.im[i * n + j]!;
          }
        }
        worst = Math.max(worst, Math.abs(re - a.re[f * m + i]!), Math.abs(im - a.im[f * m + i]!));
      }
    }
    // float32 sums of up to 800 unit-variance terms plus a field of amplitude ≈ 1000: rounding ≲ 1e-3.
    report('max |field − (Σ R x + outside)| (float32 rounding)', worst);
    expect(worst).toBeLessThan(5e-3);
    // And the cameras see the same thing (acquire advances the clock, so this comes after the field checks).
    expect((await lazy.acquire(frames)).data).toEqual((await cached.acquire(frames)).data);
  });
});

describe('field kernels', () => {
  it('grouped sums, subset tables (method of four Russians) and per-mirror lists give the same fields, bit for bit', async () => {
    // 820 mirrors: a partial 256-mirror block and a partial group of 8; 700 pixels: a partial 512-pixel block.
    const base: SimOptions = {
      seed: 4,
      medium: { driftTimeConstantS: 1 },
      inputRegion: { left: 1, top: 2, width: 41, height: 20 },
      outputRoi: { left: 5, top: 1, width: 35, height: 20 },
    };
    const n = 820;
    const bits = new Uint8Array(5 * n);
    bits.set(randomBits(3, n, 400, 10), 0);
    bits.fill(1, 3 * n, 4 * n);
    bits.fill(1, 4 * n + 816, 5 * n); // only the last, partial group
    const frames = packDmdFrames(bits, 5, n);
    const fields = [];
    const data = [];
    for (const fieldKernel of ['lists', 'tables', 'grouped', 'dense', 'auto'] as const) {
      for (const matrixCacheMb of [0, 256]) {
        const device = await open({ ...base, fieldKernel, matrixCacheMb });
        device.clock.advanceUs(200_000);
        fields.push(device.groundTruth.field(frames));
        data.push((await device.acquire(frames)).data);
      }
    }
    // Every kernel's sums are exact integers: nothing to tell them apart, cached or lazy.
    for (const [i, other] of fields.entries()) {
      expect(other.re, `configuration ${i}`).toEqual(fields[0]!.re);
      expect(other.im, `configuration ${i}`).toEqual(fields[0]!.im);
      expect(data[i], `configuration ${i}`).toEqual(data[0]);
    }
  });
});

describe('timing: trigger lag, timestamps, clock', () => {
  it('triggerLagFrames = 1 shifts the captured frames by one, with darkness at the start', async () => {
    const n = 256;
    const batch1 = randomFrames(5, n, 200, 3);
    const batch2 = randomFrames(3, n, 200, 4);
    const direct = await open({ ...IDEAL, seed: 4, inputRegion: SMALL_INPUT });
    const lagged = await open({
      ...IDEAL,
      seed: 4,
      inputRegion: SMALL_INPUT,
      camera: { ...IDEAL_CAMERA, triggerLagFrames: 1 },
    });
    const m = direct.outputSize;
    const truth = intensities(direct.groundTruth.field(batch1));
    const d1 = await direct.acquire(batch1);
    const l1 = await lagged.acquire(batch1);
    const d2 = await direct.acquire(batch2);
    const l2 = await lagged.acquire(batch2);
    // The direct camera records round(c·|y|²) of its own frame (checked against the ground truth within rounding).
    const c = aduPerIntensity(direct);
    let worst = 0;
    for (let i = 0; i < 5 * m; i++) worst = Math.max(worst, Math.abs(d1.data[i]! - c * truth[i]!));
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-3);
    // Lagged: frame 0 is dark, frame f shows DMD frame f − 1, and the next batch starts with the last one shown.
    expect(l1.data.subarray(0, m).every((x) => x === 0)).toBe(true);
    expect(l1.data.subarray(m)).toEqual(d1.data.subarray(0, 4 * m));
    expect(l2.data.subarray(0, m)).toEqual(d1.data.subarray(4 * m));
    expect(l2.data.subarray(m)).toEqual(d2.data.subarray(0, 2 * m));
    expect(frameMean(d1.data, 0, m)).toBeGreaterThan(50); // the frames are not dark themselves
    // Metadata still describes the DMD frames that were sent.
    expect(Array.from(l1.meta.litMirrors)).toEqual([200, 200, 200, 200, 200]);
  });

  it('timestamps step by frameTimeUs and the clock advances by count × frameTimeUs', async () => {
    const clock = new SimulatedClock(5000);
    const device = await open({ seed: 1, inputRegion: SMALL_INPUT }, clock);
    expect(device.settings.frameTimeUs).toBe(500);
    await device.configure({ frameTimeUs: 1234.5 });
    const a = await device.acquire(allocateDmdFrames(7, 256));
    expect(Array.from(a.meta.timestampsUs)).toEqual(Array.from({ length: 7 }, (_, f) => 5000 + f * 1234.5));
    expect(clock.nowUs()).toBe(5000 + 7 * 1234.5);
    expect(device.clock).toBe(clock);
    clock.advanceUs(1_000_000); // idle time
    const b = await device.acquire(allocateDmdFrames(3, 256));
    const start = 5000 + 7 * 1234.5 + 1_000_000;
    expect(Array.from(b.meta.timestampsUs)).toEqual([start, start + 1234.5, start + 2 * 1234.5]);
    expect(clock.nowUs()).toBe(start + 3 * 1234.5);
    expect(b.meta.frameTimeUs).toBe(1234.5);
    expect(device.framesAcquired).toBe(10);
  });
});

describe('DMD outside pattern', () => {
  it("'on' adds a constant field whose mean intensity is the number of outside mirrors", async () => {
    const dmd = { widthMirrors: 100, heightMirrors: 60 };
    const common: SimOptions = {
      ...IDEAL,
      seed: 9,
      inputRegion: { left: 0, top: 0, width: 8, height: 8 },
      outputRoi: { left: 0, top: 0, width: 128, height: 64 },
    };
    const on = await open({ ...common, dmd: { ...dmd, outsidePattern: 'on' } });
    const off = await open({ ...common, dmd: { ...dmd, outsidePattern: 'off' } });
    const outside = 100 * 60 - on.inputSize; // 5936 mirrors
    const blank = allocateDmdFrames(2, on.inputSize);
    const field = on.groundTruth.field(blank);
    const m = on.outputSize;
    const I = intensities(field).subarray(0, m);
    const meanI = mean(I);
    const contrast = Math.sqrt(variance(I)) / meanI;
    report('outside field: mean |y|² / outside mirrors', `${(meanI / outside).toFixed(4)} (${outside} mirrors)`);
    report('outside field: contrast', contrast.toFixed(4));
    // Sum of 5936 CN(0, 1) terms per pixel: |y|² ~ outside·Exp(1); over 8192 pixels SE 1.1%, bound 5%.
    expect(Math.abs(meanI / outside - 1)).toBeLessThan(0.05);
    expect(Math.abs(contrast - 1)).toBeLessThan(0.08);
    // Constant: identical on every frame; and a blank frame with 'off' has no field at all.
    expect(field.re.subarray(m)).toEqual(field.re.subarray(0, m));
    expect(field.im.subarray(m)).toEqual(field.im.subarray(0, m));
    expect(intensities(off.groundTruth.field(blank)).every((x) => x === 0)).toBe(true);
    // It adds to the frame's own field: field_on(x) = field_off(x) + field_on(blank).
    const frames = randomFrames(2, on.inputSize, 30, 6);
    const fOn = on.groundTruth.field(frames);
    const fOff = off.groundTruth.field(frames);
    let worst = 0;
    for (let i = 0; i < 2 * m; i++) worst = Math.max(worst, Math.abs(fOn.re[i]! - fOff.re[i]! - field.re[i % m]!));
    expect(worst).toBeLessThan(1e-2); // float32 rounding at |y| ≈ 77
    // Through the camera (short exposure to stay below full well): mean ADU of a blank frame ≈ c·outside.
    await on.configure({ exposureUs: 10 });
    const adu = await on.acquire(blank);
    expect(Math.abs(frameMean(adu.data, 0, m) / (aduPerIntensity(on) * meanI) - 1)).toBeLessThan(0.01);
  });
});

describe('speckle grain', () => {
  const ROI = { left: 200, top: 100, width: 128, height: 64 };

  it('speckleGrainPx = 3 correlates neighbours as exp(−4·ln2·d²/g²); 0 leaves them independent; E|y|² = k', async () => {
    const k = 32;
    const F = 16;
    const frames = randomFrames(F, 256, k, 12);
    for (const grain of [3, 0]) {
      const device = await open({
        ...IDEAL,
        seed: 13,
        inputRegion: SMALL_INPUT,
        outputRoi: ROI,
        medium: { speckleGrainPx: grain },
      });
      const I = intensities(device.groundTruth.field(frames));
      const meanRatio = mean(I) / k;
      report(`grain ${grain}: E|y|²/k`, meanRatio.toFixed(4));
      expect(Math.abs(meanRatio - 1)).toBeLessThan(0.03);
      for (const [dx, dy] of [
        [1, 0],
        [0, 1],
        [2, 0],
        [3, 0],
      ] as const) {
        const r = neighbourCorrelation(I, F, ROI.width, ROI.height, dx, dy);
        const d = Math.hypot(dx, dy);
        // Intensity correlation of a Gaussian pupil whose correlation FWHM is the grain g: 2^(−4d²/g²) (d = g/2 → ½).
        const theory = grain > 0 ? 2 ** ((-4 * d * d) / (grain * grain)) : 0;
        report(
          `grain ${grain}: intensity correlation at (${dx},${dy}) (measured / theory)`,
          `${r.toFixed(4)} / ${theory.toFixed(4)}`,
        );
        if (grain > 0) {
          expect(Math.abs(r - theory)).toBeLessThan(0.03);
          if (d === 1) expect(r).toBeGreaterThan(0.5);
        } else {
          // ≈ 130 000 independent pairs: 5/√N ≈ 0.014.
          expect(Math.abs(r)).toBeLessThan(0.05);
          expect(Math.abs(r)).toBeLessThan(5 / Math.sqrt(F * (ROI.width - dx) * (ROI.height - dy)));
        }
      }
    }
  });

  it('keeps E|R_ij|² = 1 on every pixel, including the pixels at the sensor edge', async () => {
    const device = await open({
      ...IDEAL,
      seed: 14,
      inputRegion: { left: 0, top: 0, width: 64, height: 32 },
      outputRoi: { left: 0, top: 0, width: 32, height: 16 }, // the sensor's top-left corner
      medium: { speckleGrainPx: 3 },
    });
    const R = device.groundTruth.transmissionMatrix();
    const n = device.inputSize;
    const m = device.outputSize;
    const rowPower = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += R.re[i * n + j]! ** 2 + R.im[i * n + j]! ** 2;
      rowPower[i] = s / n;
    }
    const column0 = mean(Array.from({ length: 16 }, (_, y) => rowPower[y * 32]!));
    const row0 = mean(rowPower.subarray(0, 32));
    report('grain 3 at the sensor corner: E|R|² of pixel (0,0)', rowPower[0]!.toFixed(4));
    report('grain 3 at the sensor edge: E|R|² of column 0 / row 0', `${column0.toFixed(4)} / ${row0.toFixed(4)}`);
    report('grain 3: E|R|² over the ROI', mean(rowPower).toFixed(4));
    // Each row mean averages n = 2048 Exp(1) entries: SE 1/√n; 5 SE = 11% per pixel, 2.8% for column 0 (16 pixels).
    // Without the field beyond the sensor edge, column 0 would get ≈ 0.72 and the corner ≈ 0.52.
    for (let i = 0; i < m; i++) expect(Math.abs(rowPower[i]! - 1)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(column0 - 1)).toBeLessThan(5 / Math.sqrt(16 * n));
    expect(Math.abs(row0 - 1)).toBeLessThan(5 / Math.sqrt(32 * n));
  });
});

describe('sensor-plane pixel keys (speckle-grain halo past the sensor edge)', () => {
  it('keep on-sensor pixels at their sensor index and give off-sensor pixels unique keys', () => {
    const width = 7;
    const height = 5;
    // A rectangle overhanging every side of a 7×5 sensor by up to 21 pixels (the largest halo).
    const r = { left: -21, top: -21, width: width + 42, height: height + 42 };
    const keys = planeIndices(r, width, height);
    expect(new Set(keys).size).toBe(keys.length);
    const onSensor = rectangleIndices({ left: 0, top: 0, width, height }, width);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) expect(keys[(y + 21) * r.width + x + 21]).toBe(onSensor[y * width + x]);
    }
    const off = Array.from(keys).filter((k) => k >= width * height);
    expect(off.length).toBe(keys.length - width * height);
  });
});

/**
 * Expected intensity correlation of a frame with itself `lagS` later, computed independently of the simulator: pixel
 * phases are uniform, so average over the position u ∈ [0, 1) within an epoch of the squared field correlation
 * Σ_e h(u − e)·h(u + s − e), h(v) = cos(πv/2) on [−1, 1], with s = lag/Δ and Δ = 1.47307·τ.
 */
function modelIntensityCorrelation(lagS: number, tauS: number): number {
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

describe('drift of the medium', () => {
  async function driftCorrelation(tauS: number, startS = 0): Promise<{ r: number; meanRatio: number }> {
    const device = await open({
      ...IDEAL,
      seed: 15,
      inputRegion: SMALL_INPUT,
      outputRoi: { left: 0, top: 0, width: 128, height: 64 },
      medium: { driftTimeConstantS: tauS },
    });
    device.clock.advanceUs(startS * 1e6);
    const frames = randomFrames(8, 256, 64, 16);
    const first = await device.acquire(frames); // frame f at start + f·500 µs
    // Advance so that frame f of the next acquisition is exactly τ later than frame f of the first one.
    const tau = Number.isFinite(tauS) ? tauS * 1e6 : 10e6;
    device.clock.advanceUs(tau - 8 * device.settings.frameTimeUs);
    const later = await device.acquire(frames);
    expect(later.meta.timestampsUs[0]! - first.meta.timestampsUs[0]!).toBe(tau);
    return { r: correlation(first.data, later.data), meanRatio: mean(later.data) / mean(first.data) };
  }

  it('the model itself decorrelates to e^−1 after τ', () => {
    expect(modelIntensityCorrelation(1, 1)).toBeCloseTo(Math.exp(-1), 4);
    expect(modelIntensityCorrelation(0, 1)).toBeCloseTo(1, 6);
    expect(modelIntensityCorrelation(3, 1)).toBe(0);
  });

  for (const startTaus of [0, 5.3]) {
    it(`after τ the intensity correlation is e^−1, also when measured from ${startTaus}τ on`, async () => {
      const { r, meanRatio } = await driftCorrelation(10, startTaus * 10);
      report(`drift: correlation after τ from ${startTaus}τ (measured / e^-1)`, `${r.toFixed(4)} / 0.3679`);
      expect(Math.abs(r - Math.exp(-1))).toBeLessThan(0.05);
      // E|y|² is conserved by the cosine hand-over (65 536 values; 3%).
      expect(Math.abs(meanRatio - 1)).toBeLessThan(0.03);
    });
  }

  it('without drift the same frame gives the same intensities at any time', async () => {
    const { r } = await driftCorrelation(Number.POSITIVE_INFINITY);
    report('no drift: intensity correlation after 10 s', r);
    expect(r).toBeGreaterThan(0.999);
  });

  for (const lagTaus of [0.25, 0.5, 2]) {
    it(`after ${lagTaus}τ the correlation follows the model (ground-truth fields)`, async () => {
      const device = await open({ ...IDEAL, seed: 17, inputRegion: SMALL_INPUT, medium: { driftTimeConstantS: 2 } });
      const frames = randomFrames(16, 256, 64, 18);
      const a = intensities(device.groundTruth.field(frames));
      device.clock.advanceUs(lagTaus * 2e6);
      const b = intensities(device.groundTruth.field(frames));
      const r = correlation(a, b);
      const expected = modelIntensityCorrelation(lagTaus, 1);
      report(`drift: correlation after ${lagTaus}τ (measured / model)`, `${r.toFixed(4)} / ${expected.toFixed(4)}`);
      expect(Math.abs(r - expected)).toBeLessThan(0.05);
    });
  }
});

describe('laser power fluctuation', () => {
  it('the frame-to-frame spread of the mean intensity is powerFluctuationRms, common to all pixels', async () => {
    const rms = 0.05;
    const device = await open({
      ...IDEAL,
      seed: 19,
      laser: { powerFluctuationRms: rms },
      outputRoi: { left: 0, top: 0, width: 8, height: 8 },
    });
    const F = 4000;
    const one = randomFrames(1, 1024, 300, 20);
    const m = device.outputSize;
    const c = aduPerIntensity(device);
    const truth = intensities(device.groundTruth.field(one));
    const expectedSum = truth.reduce((s, x) => s + c * x, 0);
    const out = await device.acquire(repeatFrame(one, F));
    expect(out.meta.saturatedPixels.every((s) => s === 0)).toBe(true);
    const power = new Float64Array(F);
    let worstCommon = 0;
    for (let f = 0; f < F; f++) {
      power[f] = (frameMean(out.data, f, m) * m) / expectedSum;
      // Multiplicative and common to the frame: every bright pixel shows the same factor (± rounding).
      for (let i = 0; i < m; i++) {
        if (c * truth[i]! < 200) continue;
        worstCommon = Math.max(worstCommon, Math.abs(out.data[f * m + i]! / (c * truth[i]!) - power[f]!));
      }
    }
    const spread = Math.sqrt(variance(power));
    const lag1 = correlation(power.subarray(1), power.subarray(0, F - 1));
    report('laser: frame-to-frame spread / powerFluctuationRms', (spread / rms).toFixed(4));
    report('laser: mean power, lag-1 autocorrelation', `${mean(power).toFixed(5)}, ${lag1.toFixed(4)}`);
    report('laser: max deviation of a bright pixel from the frame factor', worstCommon.toFixed(5));
    // sd estimate from 4000 frames: relative SE 1/√8000 ≈ 1.1%; bound 5%.
    expect(Math.abs(spread / rms - 1)).toBeLessThan(0.05);
    expect(Math.abs(mean(power) - 1)).toBeLessThan((5 * rms) / Math.sqrt(F));
    expect(Math.abs(lag1)).toBeLessThan(5 / Math.sqrt(F));
    expect(worstCommon).toBeLessThan(0.01);
  });
});

describe('injected random source', () => {
  it('an injected CounterRng drives every draw: it equals the seeded device and differs from another seed', async () => {
    const run = async (init: ConstructorParameters<typeof SimulatedOpuDevice>[0]) => {
      await using device = new SimulatedOpuDevice(init);
      await device.open();
      return (await device.acquire(randomFrames(4, device.inputSize, 300, 31))).data;
    };
    const seeded = await run({ options: { seed: 7 } });
    expect(await run({ options: { seed: 0 }, rng: new CounterRng(7) })).toEqual(seeded);
    expect(await run({ options: { seed: 7 }, rng: new CounterRng(8) })).not.toEqual(seeded);
  });
});

import { CounterRng } from 'opu-native';
import { describe, expect, it } from 'vitest';
import {
  IDEAL_CAMERA,
  photoelectronsPerMirrorUs,
  resolveSimOptions,
  type SimOptions,
  SimulatedCamera,
  SimulatedOpuDevice,
} from '../src/index.js';
import { frameMean, intensities, mean, randomFrames, report, uniform, variance } from './helpers/stats.js';

type CameraOptions = NonNullable<SimOptions['camera']>;

/** A camera reading `pixels` consecutive sensor pixels, from the simulator's option defaults plus `camera`. */
function makeCamera(camera: CameraOptions, pixels: number, seed = 3, firstPixel = 0) {
  const options = resolveSimOptions({ seed, camera });
  const cam = new SimulatedCamera(new CounterRng(seed), options.camera, photoelectronsPerMirrorUs(options));
  cam.setPixels(Int32Array.from({ length: pixels }, (_, i) => firstPixel + i));
  return { cam, options };
}

function expose(
  cam: SimulatedCamera,
  intensity: Float32Array,
  frames: number,
  { exposureUs = 400, gainDb = 0, firstFrameIndex = 0 } = {},
) {
  return cam.expose(intensity, frames, {
    exposureUs,
    gainDb,
    firstFrameIndex,
    powerFactors: new Float64Array(frames).fill(1),
  });
}

/** Field-unit intensity that makes `electrons` photo-electrons in `exposureUs` (E = I·photoelectronsPerMirrorUs·t). */
const intensityFor = (electrons: number, electronsPerMirrorUs: number, exposureUs = 400) =>
  electrons / (electronsPerMirrorUs * exposureUs);

const M = 4096;
const F = 64; // 262 144 samples per configuration

describe('SimulatedCamera: mean and noise of a flat, known intensity', () => {
  it('ADU mean = photo-electrons × gain + bias; variance = gain²·(Poisson + read noise²) + 1/12', () => {
    const camera = {
      bitDepth: 12 as const,
      fullWellE: 13_500,
      readNoiseE: 13,
      darkCurrentEPerS: 250_000, // 100 e⁻ in 400 µs, to make the dark term visible
      biasAdu: 40,
      prnuRms: 0,
      shotNoise: true,
    };
    const { cam, options } = makeCamera(camera, M);
    const signalE = 2000;
    const I = new Float32Array(F * M).fill(intensityFor(signalE, photoelectronsPerMirrorUs(options)));
    const { data, saturated } = expose(cam, I, F);
    const gain = 4095 / 13_500; // ADU per e⁻ at 0 dB
    const electrons = Math.fround(I[0]!) * photoelectronsPerMirrorUs(options) * 400 + 100;
    const expectedMean = electrons * gain + 40;
    const expectedVar = gain ** 2 * (electrons + 13 ** 2) + 1 / 12;
    const N = data.length;
    const m = mean(data);
    const v = variance(data);
    // Standard errors: √(var/N) for the mean; var·√(2/N) for the (near-Gaussian) variance.
    report('camera mean ADU (measured / theory)', `${m.toFixed(3)} / ${expectedMean.toFixed(3)}`);
    report('camera var ADU² (measured / theory)', `${v.toFixed(3)} / ${expectedVar.toFixed(3)}`);
    expect(Math.abs(m - expectedMean)).toBeLessThan(5 * Math.sqrt(expectedVar / N));
    expect(Math.abs(v - expectedVar)).toBeLessThan(5 * expectedVar * Math.sqrt(2 / N));
    expect(Array.from(saturated)).toEqual(new Array(F).fill(0));
  });

  it('quantization adds 1/12 ADU²: read noise of exactly 1 ADU gives a variance of 13/12', () => {
    const gain = 4095 / 13_500;
    const camera = {
      ...IDEAL_CAMERA,
      bitDepth: 12 as const,
      fullWellE: 13_500,
      readNoiseE: 1 / gain, // 1 ADU rms before the ADC
      biasAdu: 100,
    };
    const { cam, options } = makeCamera(camera, M);
    const I = new Float32Array(F * M).fill(intensityFor(1000.3, photoelectronsPerMirrorUs(options)));
    const { data } = expose(cam, I, F);
    const v = variance(data);
    const N = data.length;
    const expected = 1 + 1 / 12;
    report('quantization: var ADU² (measured / theory 13/12)', `${v.toFixed(4)} / ${expected.toFixed(4)}`);
    // 5 standard errors ≈ 0.015: excludes both 1 (no quantization noise) and 1 + 2/12.
    expect(Math.abs(v - expected)).toBeLessThan(5 * expected * Math.sqrt(2 / N));
    expect(Math.abs(mean(data) - (1000.3 * gain + 100))).toBeLessThan(5 * Math.sqrt(expected / N));
    // Every value is an integer ADU.
    expect(data.every((x) => Number.isInteger(x))).toBe(true);
  });

  it('shot noise is Poisson: at 1 ADU per e⁻ the counts follow the Poisson(3.7) law (inversion branch)', () => {
    const lambda = 3.7;
    const camera = { ...IDEAL_CAMERA, bitDepth: 12 as const, fullWellE: 4095, shotNoise: true, biasAdu: 10 };
    const { cam, options } = makeCamera(camera, M);
    const I = new Float32Array(F * M).fill(intensityFor(lambda, photoelectronsPerMirrorUs(options)));
    const { data } = expose(cam, I, F);
    const N = data.length;
    const counts = new Float64Array(40);
    for (const x of data) counts[x - 10]!++;
    const exact = Math.fround(I[0]!) * photoelectronsPerMirrorUs(options) * 400;
    let chi2 = 0;
    let p = Math.exp(-exact);
    let rest = 1;
    for (let k = 0; k < 12; k++) {
      chi2 += (counts[k]! - N * p) ** 2 / (N * p);
      rest -= p;
      p *= exact / (k + 1);
    }
    let tail = 0;
    for (let k = 12; k < counts.length; k++) tail += counts[k]!;
    chi2 += (tail - N * rest) ** 2 / (N * rest);
    // 13 cells, 12 degrees of freedom: mean 12, sd √24 ≈ 4.9; 12 + 5 sd ≈ 36.5.
    report('Poisson(3.7) chi² over 13 cells (dof 12)', chi2.toFixed(2));
    report('Poisson(3.7) mean / var', `${(mean(data) - 10).toFixed(4)} / ${variance(data).toFixed(4)}`);
    expect(chi2).toBeLessThan(36.5);
    expect(Math.abs(mean(data) - 10 - exact)).toBeLessThan(5 * Math.sqrt(exact / N));
    // Var of a Poisson variance estimate: (μ4 − σ⁴)/N = (λ + 2λ²)/N.
    expect(Math.abs(variance(data) - exact)).toBeLessThan(5 * Math.sqrt((exact + 2 * exact ** 2) / N));
  });

  it('shot noise above 64 e⁻ (normal branch) still has variance λ', () => {
    const lambda = 500;
    const camera = { ...IDEAL_CAMERA, bitDepth: 12 as const, fullWellE: 4095, shotNoise: true };
    const { cam, options } = makeCamera(camera, M);
    const I = new Float32Array(F * M).fill(intensityFor(lambda, photoelectronsPerMirrorUs(options)));
    const { data } = expose(cam, I, F);
    const N = data.length;
    report('Poisson(500) mean / var', `${mean(data).toFixed(3)} / ${variance(data).toFixed(3)}`);
    expect(Math.abs(mean(data) - lambda)).toBeLessThan(5 * Math.sqrt(lambda / N));
    expect(Math.abs(variance(data) - lambda)).toBeLessThan(5 * lambda * Math.sqrt(2 / N));
  });
});

describe('SimulatedCamera: saturation, bit depth, gain and pixel response', () => {
  it('clips at full well and at the ADC maximum, and counts exactly those pixels (noise-free ramp)', () => {
    const m = 1000;
    const camera = { ...IDEAL_CAMERA, bitDepth: 8 as const, fullWellE: 13_500 };
    const { cam, options } = makeCamera(camera, m);
    const scale = photoelectronsPerMirrorUs(options) * 400; // e⁻ per field-unit intensity
    // Frame 0: a ramp from 0 to 2× full well; frame 1: the same ramp halved (0 to 1× full well).
    const I = new Float32Array(2 * m);
    for (let i = 0; i < m; i++) {
      I[i] = (i / m) * ((2 * 13_500) / scale);
      I[m + i] = I[i]! / 2;
    }
    const { data, saturated } = expose(cam, I, 2);
    expect(data).toBeInstanceOf(Uint8Array);
    const gain = 255 / 13_500;
    for (let f = 0; f < 2; f++) {
      let expectedSaturated = 0;
      for (let i = 0; i < m; i++) {
        const electrons = Math.fround(I[f * m + i]!) * scale;
        const unclipped = Math.round(Math.min(electrons, 13_500) * gain);
        const clipped = electrons >= 13_500 || unclipped >= 255;
        if (clipped) expectedSaturated++;
        expect(data[f * m + i]).toBe(Math.min(255, unclipped));
      }
      expect(saturated[f]).toBe(expectedSaturated);
    }
    // The ramp crosses 254.5 ADU at 254.5/255·13 500 e⁻ (49.9% of frame 0, 99.8% of frame 1).
    expect(saturated[0]).toBe(m - Math.ceil((254.5 / 255 / 2) * m));
    expect(saturated[1]).toBe(1);
  });

  it('with shot and read noise, saturatedPixels equals the number of pixels at maxAdu, at 0 and 6 dB', () => {
    const m = 4096;
    const frames = 16;
    const { cam, options } = makeCamera({ bitDepth: 8, prnuRms: 0.02 }, m); // realistic defaults otherwise
    const scale = photoelectronsPerMirrorUs(options) * 400;
    const next = uniform(5);
    // Exponential speckle whose mean is 40% of full well: P(I > full well) = e^−2.5 ≈ 8%.
    const I = Float32Array.from({ length: frames * m }, () => (-Math.log(1 - next()) * 0.4 * 13_500) / scale);
    for (const gainDb of [0, 6]) {
      const { data, saturated } = expose(cam, I, frames, { gainDb });
      let total = 0;
      for (let f = 0; f < frames; f++) {
        let atMax = 0;
        for (let i = f * m; i < (f + 1) * m; i++) if (data[i] === 255) atMax++;
        expect(saturated[f]).toBe(atMax);
        total += atMax;
      }
      // Fraction clipped ≈ P(I > clip level): e^−2.5 at 0 dB; at 6 dB the ADC clips at 10^(−6/20)·full well.
      const clipAt = 10 ** (-gainDb / 20) / 0.4;
      report(`saturated fraction at ${gainDb} dB (measured / e^-${clipAt.toFixed(2)})`, total / (frames * m));
      expect(Math.abs(total / (frames * m) - Math.exp(-clipAt))).toBeLessThan(0.01);
    }
  });

  it.each([
    [8, Uint8Array],
    [10, Uint16Array],
    [12, Uint16Array],
  ] as const)('a %i-bit camera returns %o and clips at 2^bits − 1', (bitDepth, type) => {
    const { cam, options } = makeCamera({ ...IDEAL_CAMERA, bitDepth, fullWellE: 10_000 }, 3);
    const scale = photoelectronsPerMirrorUs(options) * 400;
    const I = Float32Array.of(0, 4000 / scale, 50_000 / scale); // 0, 40% and 500% of full well
    const { data, saturated } = expose(cam, I, 1);
    expect(data).toBeInstanceOf(type);
    expect(cam.maxAdu).toBe(2 ** bitDepth - 1);
    expect(Array.from(data)).toEqual([0, Math.round(0.4 * (2 ** bitDepth - 1)), 2 ** bitDepth - 1]);
    expect(Array.from(saturated)).toEqual([1]);
  });

  it('gainDb multiplies the signal by 10^(gain/20)', () => {
    const m = 1000;
    const { cam, options } = makeCamera({ ...IDEAL_CAMERA, bitDepth: 12, fullWellE: 13_500, biasAdu: 20 }, m);
    const scale = photoelectronsPerMirrorUs(options) * 400;
    const next = uniform(8);
    const I = Float32Array.from({ length: m }, () => (50 + 300 * next()) / scale); // 50…350 e⁻
    const zero = expose(cam, I, 1).data;
    for (const gainDb of [3, 6, 12, 20]) {
      const { data } = expose(cam, I, 1, { gainDb });
      const factor = 10 ** (gainDb / 20);
      let ratio = 0;
      for (let i = 0; i < m; i++) {
        // Independently: ADU = round(e⁻ · 4095/13 500 · 10^(g/20) + bias), compared within the rounding.
        const expected = Math.fround(I[i]!) * scale * (4095 / 13_500) * factor + 20;
        expect(Math.abs(data[i]! - expected)).toBeLessThanOrEqual(0.5 + 1e-9);
        ratio += (data[i]! - 20) / (zero[i]! - 20);
      }
      report(`gain ${gainDb} dB: mean ADU ratio / 10^(g/20)`, `${(ratio / m).toFixed(4)} / ${factor.toFixed(4)}`);
      expect(Math.abs(ratio / m / factor - 1)).toBeLessThan(0.005);
    }
  });

  it('pixel response non-uniformity has spread prnuRms, is fixed per sensor pixel and keyed by its position', () => {
    const m = 100_000;
    for (const prnuRms of [0.03, 0.1]) {
      const { cam, options } = makeCamera({ ...IDEAL_CAMERA, bitDepth: 12, fullWellE: 13_500, prnuRms }, m);
      const scale = photoelectronsPerMirrorUs(options) * 400;
      const I = new Float32Array(2 * m).fill(6000 / scale); // ≈ 1820 ADU, far from clipping
      const { data } = expose(cam, I, 2, { firstFrameIndex: 17 });
      const first = data.subarray(0, m);
      const spread = Math.sqrt(variance(first)) / mean(first);
      report(`PRNU spread (prnuRms ${prnuRms})`, spread.toFixed(5));
      // Relative standard error of an sd estimate: 1/√(2m) ≈ 0.22%; quantization adds < 0.02%.
      expect(Math.abs(spread / prnuRms - 1)).toBeLessThan(0.02);
      expect(Math.abs(mean(first) / (6000 * (4095 / 13_500)) - 1)).toBeLessThan((5 * prnuRms) / Math.sqrt(m));
      // Noise-free: the second frame repeats the first exactly (a fixed pattern, not noise).
      expect(data.subarray(m)).toEqual(first);
    }
    // The same sensor pixels read in another ROI order/extent keep their response.
    const whole = makeCamera({ ...IDEAL_CAMERA, bitDepth: 12, fullWellE: 13_500, prnuRms: 0.1 }, 50, 4);
    const part = makeCamera({ ...IDEAL_CAMERA, bitDepth: 12, fullWellE: 13_500, prnuRms: 0.1 }, 10, 4, 20);
    const scale = photoelectronsPerMirrorUs(whole.options) * 400;
    const a = expose(whole.cam, new Float32Array(50).fill(6000 / scale), 1).data;
    const b = expose(part.cam, new Float32Array(10).fill(6000 / scale), 1).data;
    expect(Array.from(b)).toEqual(Array.from(a.subarray(20, 30)));
  });
});

describe('camera noise through the device, against groundTruth.field', () => {
  it('per-pixel mean and variance over repeated frames match the true intensity of each pixel', async () => {
    const device = new SimulatedOpuDevice({
      options: {
        seed: 21,
        camera: { bitDepth: 12, prnuRms: 0, biasAdu: 41 },
        laser: { powerFluctuationRms: 0 },
      },
    });
    await device.open();
    const n = device.inputSize;
    const m = device.outputSize;
    const F = 128;
    const one = randomFrames(1, n, 256, 4);
    const frames = { count: F, mirrorsPerFrame: n, data: new Uint8Array(F * one.data.length) };
    for (let f = 0; f < F; f++) frames.data.set(one.data, f * one.data.length);
    const truth = intensities(device.groundTruth.field(one));
    const out = await device.acquire(frames);
    const o = device.options;
    const gain = 4095 / o.camera.fullWellE;
    const t = device.settings.exposureUs;
    const darkE = o.camera.darkCurrentEPerS * t * 1e-6;
    let zSum = 0;
    let z2Sum = 0;
    let varRatio = 0;
    for (let i = 0; i < m; i++) {
      const electrons = truth[i]! * photoelectronsPerMirrorUs(o) * t + darkE;
      const expectedMean = electrons * gain + 41;
      const expectedVar = gain ** 2 * (electrons + o.camera.readNoiseE ** 2) + 1 / 12;
      let s = 0;
      let s2 = 0;
      for (let f = 0; f < F; f++) {
        const x = out.data[f * m + i]!;
        s += x;
        s2 += x * x;
      }
      const pm = s / F;
      const pv = (s2 - F * pm * pm) / (F - 1);
      const z = (pm - expectedMean) / Math.sqrt(expectedVar / F);
      zSum += z;
      z2Sum += z * z;
      varRatio += pv / expectedVar;
    }
    report('device camera: mean z of per-pixel means', (zSum / m).toFixed(4));
    report('device camera: mean z² of per-pixel means', (z2Sum / m).toFixed(4));
    report('device camera: mean per-pixel var / theory', (varRatio / m).toFixed(4));
    expect(out.meta.saturatedPixels.every((s) => s === 0)).toBe(true);
    // z has mean 0, sd 1 per pixel; averages over m = 2048 pixels: bounds are 5 standard errors.
    expect(Math.abs(zSum / m)).toBeLessThan(5 / Math.sqrt(m));
    expect(Math.abs(z2Sum / m - 1)).toBeLessThan(5 * Math.sqrt(2 / m));
    // Each per-pixel variance has relative sd √(2/(F−1)); the average over m pixels: 5·√(2/(F−1))/√m ≈ 1.4%.
    expect(Math.abs(varRatio / m - 1)).toBeLessThan((5 * Math.sqrt(2 / (F - 1))) / Math.sqrt(m));
    expect(frameMean(out.data, 0, m)).toBeGreaterThan(41);
  });
});

import { describe, expect, it } from 'vitest';
import { IDEAL_CAMERA, photoelectronsPerMirrorUs, SimulatedOpuDevice } from '../src/index.js';
import { correlation, linearFit, mean, randomFrames, report, variance } from './helpers/stats.js';

const INPUT = { left: 0, top: 0, width: 32, height: 32 }; // n = 1024 mirrors
const ROI = { left: 0, top: 0, width: 128, height: 64 }; // m = 8192 pixels
const SMALL_ROI = { left: 0, top: 0, width: 64, height: 32 }; // m = 2048 pixels: 2 M matrix entries

async function idealDevice(seed: number, outputRoi = ROI): Promise<SimulatedOpuDevice> {
  const device = new SimulatedOpuDevice({
    options: {
      seed,
      camera: { ...IDEAL_CAMERA },
      laser: { powerFluctuationRms: 0 },
      inputRegion: INPUT,
      outputRoi,
    },
  });
  await device.open();
  return device;
}

describe('speckle statistics through the ideal camera (§2)', () => {
  it('fully developed speckle: contrast 1 and P(I > 3⟨I⟩) = e^−3 on 262 144 pixel values', async () => {
    const device = await idealDevice(11);
    const n = device.inputSize;
    const k = 128;
    const frames = 32;
    const out = await device.acquire(randomFrames(frames, n, k, 1));
    const values = Float64Array.from(out.data);
    expect(values.length).toBe(frames * device.outputSize);
    expect(values.length).toBeGreaterThanOrEqual(200_000);
    expect(out.meta.saturatedPixels.every((s) => s === 0)).toBe(true);
    const m = mean(values);
    const contrast = Math.sqrt(variance(values)) / m;
    let above = 0;
    for (const v of values) if (v > 3 * m) above++;
    const tail = above / values.length;
    report('speckle contrast std/mean (k=128, N=262144)', contrast.toFixed(4));
    report('speckle P(I>3<I>) / e^-3', (tail / Math.exp(-3)).toFixed(4));
    expect(contrast).toBeGreaterThan(0.97);
    expect(contrast).toBeLessThan(1.03);
    expect(Math.abs(tail / Math.exp(-3) - 1)).toBeLessThan(0.1);
  });

  it('mean intensity is linear in the lit-mirror count with the calibrated slope', async () => {
    const device = await idealDevice(12);
    const { camera } = device.options;
    const signalEPerMirrorUs = photoelectronsPerMirrorUs(device.options);
    const exposureUs = device.settings.exposureUs;
    const maxAdu = 2 ** camera.bitDepth - 1;
    const expectedSlope = (signalEPerMirrorUs * exposureUs * maxAdu) / camera.fullWellE; // ADU per lit mirror
    const ks = [16, 32, 64, 128, 256, 384, 512];
    const means: number[] = [];
    for (const [i, k] of ks.entries()) {
      const out = await device.acquire(randomFrames(8, device.inputSize, k, 100 + i));
      expect(Array.from(out.meta.litMirrors)).toEqual(new Array(8).fill(k));
      expect(out.meta.saturatedPixels.every((s) => s === 0)).toBe(true);
      means.push(mean(out.data));
    }
    const fit = linearFit(ks, means);
    report('linearity R²', fit.r2.toFixed(6));
    report('slope / expected', `${fit.slope.toFixed(5)} / ${expectedSlope.toFixed(5)} ADU per mirror`);
    report('intercept', `${fit.intercept.toFixed(3)} ADU`);
    expect(fit.r2).toBeGreaterThan(0.999);
    expect(Math.abs(fit.slope / expectedSlope - 1)).toBeLessThan(0.03);
    // An ideal camera has no bias and no dark current: the line goes through the origin (±1% of the largest mean).
    expect(Math.abs(fit.intercept)).toBeLessThan(0.01 * means.at(-1)!);
  });
});

describe('transmission matrix of the medium (groundTruth.transmissionMatrix)', () => {
  it('has i.i.d. circular Gaussian entries: E|R|² = 1, E[R] = 0, Re ⟂ Im, Rayleigh amplitudes', async () => {
    const device = await idealDevice(13, SMALL_ROI);
    const R = device.groundTruth.transmissionMatrix();
    const n = device.inputSize;
    const N = R.re.length;
    expect(N).toBe(n * device.outputSize);
    let sRe = 0;
    let sIm = 0;
    let sRe2 = 0;
    let sIm2 = 0;
    let sReIm = 0;
    let sAbs2 = 0;
    let tail = 0;
    for (let i = 0; i < N; i++) {
      const a = R.re[i]!;
      const b = R.im[i]!;
      sRe += a;
      sIm += b;
      sRe2 += a * a;
      sIm2 += b * b;
      sReIm += a * b;
      sAbs2 += a * a + b * b;
      if (a * a + b * b > 3) tail++;
    }
    // Bounds: 5 standard errors under the CN(0, 1) model. Re, Im ~ N(0, 1/2); |R|² ~ Exp(1), sd 1;
    // Re·Im has sd 1/2; Re² has sd 1/√2; P(|R|² > 3) = e^−3.
    const se = 1 / Math.sqrt(N);
    const stats = {
      'E|R|²': sAbs2 / N,
      'E[Re R]': sRe / N,
      'E[Im R]': sIm / N,
      'E[(Re R)²]': sRe2 / N,
      'E[(Im R)²]': sIm2 / N,
      'corr(Re, Im)': sReIm / Math.sqrt(sRe2 * sIm2),
      'P(|R|²>3)/e^-3': tail / N / Math.exp(-3),
    };
    for (const [label, value] of Object.entries(stats)) report(`${label} (N=${N}, 1/√N=${se.toFixed(5)})`, value);
    expect(Math.abs(sAbs2 / N - 1)).toBeLessThan(5 * se);
    expect(Math.abs(sRe / N)).toBeLessThan(5 * Math.SQRT1_2 * se);
    expect(Math.abs(sIm / N)).toBeLessThan(5 * Math.SQRT1_2 * se);
    expect(Math.abs(sRe2 / N - 0.5)).toBeLessThan(5 * Math.SQRT1_2 * se);
    expect(Math.abs(sIm2 / N - 0.5)).toBeLessThan(5 * Math.SQRT1_2 * se);
    expect(Math.abs(sReIm / N)).toBeLessThan(5 * 0.5 * se);
    expect(Math.abs(sReIm / Math.sqrt(sRe2 * sIm2))).toBeLessThan(5 * se);
    const p = Math.exp(-3);
    expect(Math.abs(tail / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
  });

  it('has uncorrelated entries across mirrors (incl. the pairs that share a Philox block) and across pixels', async () => {
    const device = await idealDevice(14, SMALL_ROI);
    const R = device.groundTruth.transmissionMatrix();
    const n = device.inputSize;
    const m = device.outputSize;
    // E[R_a·conj(R_b)] for neighbouring mirrors (2j, 2j+1), for (2j+1, 2j+2), and for neighbouring pixels.
    const pairs = { 'mirrors 2j,2j+1': [0, 1, 0], 'mirrors 2j+1,2j+2': [1, 1, 0], 'pixels i,i+1': [0, 0, 1] };
    for (const [label, [startJ, dj, di]] of Object.entries(pairs) as [string, number[]][]) {
      let sr = 0;
      let si = 0;
      let count = 0;
      for (let i = 0; i + di! < m; i++) {
        for (let j = startJ!; j + dj! < n; j += 2) {
          const a = i * n + j;
          const b = (i + di!) * n + j + dj!;
          sr += R.re[a]! * R.re[b]! + R.im[a]! * R.im[b]!;
          si += R.im[a]! * R.re[b]! - R.re[a]! * R.im[b]!;
          count++;
        }
      }
      // Re and Im of R_a·conj(R_b) each have sd 1/√2 for independent CN(0, 1) entries: bound 5/√(2·count).
      const bound = 5 / Math.sqrt(2 * count);
      report(
        `E[R_a conj R_b] ${label}`,
        `${(sr / count).toFixed(5)} ${(si / count).toFixed(5)}i (bound ${bound.toFixed(4)})`,
      );
      expect(Math.abs(sr / count)).toBeLessThan(bound);
      expect(Math.abs(si / count)).toBeLessThan(bound);
    }
    // The intensity of one column's entries (|R_ij|² over pixels) is also uncorrelated between neighbouring mirrors.
    const a = new Float64Array(m * (n / 2));
    const b = new Float64Array(m * (n / 2));
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j += 2) {
        a[i * (n / 2) + j / 2] = R.re[i * n + j]! ** 2 + R.im[i * n + j]! ** 2;
        b[i * (n / 2) + j / 2] = R.re[i * n + j + 1]! ** 2 + R.im[i * n + j + 1]! ** 2;
      }
    }
    expect(Math.abs(correlation(a, b))).toBeLessThan(5 / Math.sqrt(a.length));
  });
});

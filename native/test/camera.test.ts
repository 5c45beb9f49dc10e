import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  type CameraModel,
  expNegative,
  KernelArgumentError,
  Kernels,
  loadNative,
  standardNormalPairFloat32,
  typescriptKernels,
  uniform01,
} from '../src/index.js';
import { lnUniformFloat32, turnCosSinFloat32 } from '../src/optics/random.js';
import { seededUniform } from './helpers.js';

const native = loadNative();
const nativeKernels = native.implementation ? new Kernels('native', native.implementation) : undefined;

function scene(frames: number, m: number, seed: number) {
  const next = seededUniform(seed);
  // Exponential speckle with means from 0.01 to 5000 photo-electrons: inversion and normal Poisson, and saturation.
  const intensity = Float32Array.from({ length: frames * m }, (_, i) => -Math.log(next()) * 10 ** ((i % 7) - 2));
  const pixels = Int32Array.from({ length: m }, (_, i) => 1000 + 3 * i);
  const pixelResponse = Float64Array.from({ length: m }, () => 1 + 0.02 * (next() - 0.5));
  const powerFactors = Float64Array.from({ length: frames }, () => 1 + 0.01 * (next() - 0.5));
  return { intensity, pixels, pixelResponse, powerFactors };
}

const model = (bits: number, overrides: Partial<CameraModel> = {}): CameraModel => ({
  seed: 42,
  electronsPerIntensity: 1,
  darkElectrons: 0.05,
  fullWellE: 13_500,
  readNoiseE: 13,
  aduPerElectron: (2 ** bits - 1) / 13_500,
  biasAdu: Math.max(2, Math.round(0.01 * (2 ** bits - 1))),
  maxAdu: 2 ** bits - 1,
  shotNoise: true,
  ...overrides,
});

describe('camera kernel', () => {
  for (const bits of [8, 12]) {
    it(`gives the same ${bits}-bit frames and saturation counts in C++ and TypeScript`, () => {
      if (!nativeKernels) return expect(process.env.OPU_NATIVE).toBe('0');
      const frames = 40;
      const m = 333;
      const s = scene(frames, m, bits);
      // Every path: as given (normal and inverted Poisson, in one frame), shot noise off, bright and clipped
      // without read noise, dim (most pixels by inversion, their means spread over [0, 64)), and unit gain.
      const paths = [
        {},
        { shotNoise: false },
        { readNoiseE: 0, electronsPerIntensity: 3000 },
        { electronsPerIntensity: 0.3 },
        { aduPerElectron: 1, readNoiseE: 0 }, // one ADU per electron: every count of the inversion shows
      ];
      for (const overrides of paths) {
        const results = [typescriptKernels, nativeKernels].map((k) => {
          const out = bits === 8 ? new Uint8Array(frames * m) : new Uint16Array(frames * m);
          const saturated = new Uint32Array(frames);
          k.cameraExpose({
            model: model(bits, overrides),
            ...s,
            frames,
            firstFrameIndex: 4_294_967_290,
            out,
            saturated,
          });
          return { out, saturated };
        });
        expect(results[1]!.out).toEqual(results[0]!.out);
        expect(results[1]!.saturated).toEqual(results[0]!.saturated);
      }
    });
  }

  // The hand-written AVX-512 loops (Philox, the inversions) and their portable twins: OPU_NATIVE_SIMD=portable in a
  // child process (the choice is made once per process) must give the TypeScript kernel's frames too.
  it('gives the same frames on the portable paths (OPU_NATIVE_SIMD=portable)', () => {
    if (!native.implementation || !native.path) return expect(process.env.OPU_NATIVE).toBe('0');
    const frames = 30;
    const m = 301;
    const request = { model: model(12, { electronsPerIntensity: 0.5 }), ...scene(frames, m, 5), frames };
    const child = `
      const addon = require(process.argv[1]);
      const r = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const out = new Uint16Array(r.frames * r.pixels.length), saturated = new Uint32Array(r.frames);
      addon.cameraExpose(r.model, Float32Array.from(r.intensity), r.frames, Int32Array.from(r.pixels),
        Float64Array.from(r.pixelResponse), 0, Float64Array.from(r.powerFactors), out, saturated);
      console.log(JSON.stringify({ path: addon.simdPath(), out: Array.from(out), saturated: Array.from(saturated) }));
    `;
    const json = JSON.stringify(request, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v));
    const result = JSON.parse(
      execFileSync(process.execPath, ['-e', child, native.path], {
        input: json,
        env: { ...process.env, OPU_NATIVE_SIMD: 'portable' },
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      }),
    );
    const out = new Uint16Array(frames * m);
    const saturated = new Uint32Array(frames);
    typescriptKernels.cameraExpose({ ...request, firstFrameIndex: 0, out, saturated });
    expect(result.path).toBe('portable');
    expect(result.out).toEqual(Array.from(out));
    expect(result.saturated).toEqual(Array.from(saturated));
  });

  it('rejects bad requests with typed errors', () => {
    const s = scene(2, 10, 1);
    const base = {
      model: model(8),
      ...s,
      frames: 2,
      firstFrameIndex: 0,
      out: new Uint8Array(20),
      saturated: new Uint32Array(2),
    };
    const bad: [object, RegExp][] = [
      [{ out: new Uint8Array(19) }, /^out: has 19/],
      [{ out: new Float32Array(20) }, /^out: is not a Uint8Array or Uint16Array/],
      [{ model: model(12) }, /^out: cannot hold 4095/],
      [{ model: { ...model(8), fullWellE: Number.NaN } }, /^model\.fullWellE: /],
      [{ powerFactors: new Float64Array(1) }, /^powerFactors: /],
      [{ pixelResponse: new Float32Array(10) }, /^pixelResponse: is not a Float64Array/],
      [{ firstFrameIndex: -1 }, /^firstFrameIndex: /],
    ];
    for (const [patch, message] of bad) {
      const call = () =>
        typescriptKernels.cameraExpose({ ...base, ...patch } as Parameters<Kernels['cameraExpose']>[0]);
      expect(call).toThrow(KernelArgumentError);
      expect(call).toThrow(message);
    }
  });
});

/**
 * Moments of the camera's counts, read without gain, bias or clipping (ADU = electrons + read noise, rounded), over
 * `frames` frames of `m` pixels that all have the mean photo-electron count `lambda`.
 */
function countMoments(kernels: Kernels, lambda: number, overrides: Partial<CameraModel>, frames = 2000, m = 50) {
  const out = new Uint16Array(frames * m);
  kernels.cameraExpose({
    model: model(16, {
      seed: 7,
      electronsPerIntensity: lambda,
      darkElectrons: 0,
      fullWellE: 1e9,
      aduPerElectron: 1,
      biasAdu: 0,
      ...overrides,
    }),
    intensity: new Float32Array(frames * m).fill(1),
    frames,
    pixels: Int32Array.from({ length: m }, (_, i) => 17 * i),
    pixelResponse: new Float64Array(m).fill(1),
    firstFrameIndex: 123,
    powerFactors: new Float64Array(frames).fill(1),
    out,
    saturated: new Uint32Array(frames),
  });
  let sum = 0;
  let zeros = 0;
  for (const v of out) {
    sum += v;
    zeros += v === 0 ? 1 : 0;
  }
  const mean = sum / out.length;
  let squares = 0;
  for (const v of out) squares += (v - mean) ** 2;
  return { n: out.length, mean, variance: squares / (out.length - 1), zeroFraction: zeros / out.length };
}

describe.each([
  ['typescript', typescriptKernels],
  ['native', nativeKernels],
])('camera noise statistics (%s kernels)', (_, kernels) => {
  // Means on both sides of POISSON_NORMAL_ABOVE (exact inversion below 64 e⁻, the normal approximation above).
  it.each([0.5, 4, 30, 63.5, 64, 300, 5000])('shot noise at %s e⁻ has the Poisson mean and variance', (lambda) => {
    if (!kernels) return expect(process.env.OPU_NATIVE).toBe('0');
    const { n, mean, variance, zeroFraction } = countMoments(kernels, lambda, { readNoiseE: 0 });
    // Poisson: mean = variance = λ; the sample variance's variance is (μ₄ − σ⁴)/n = (λ + 2λ²)/n. Five standard errors.
    expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
    // Above 64 e⁻ the count is round(λ + √λ·z): its variance is λ + 1/12 (the rounding).
    const expectedVariance = lambda + (lambda >= 64 ? 1 / 12 : 0);
    expect(Math.abs(variance - expectedVariance)).toBeLessThan(5 * Math.sqrt((lambda + 2 * lambda ** 2) / n));
    if (lambda < 5) {
      const p0 = Math.exp(-lambda);
      expect(Math.abs(zeroFraction - p0)).toBeLessThan(5 * Math.sqrt((p0 * (1 - p0)) / n));
    }
  });

  it('read noise has its variance, alone and added to shot noise (the two normals of a pair are independent)', () => {
    if (!kernels) return expect(process.env.OPU_NATIVE).toBe('0');
    const readNoiseE = 13;
    // Without shot noise: round(1000 + 13·z), variance 169 + 1/12; the sample variance's standard error is σ²·√(2/n).
    const read = countMoments(kernels, 1000, { readNoiseE, shotNoise: false });
    const readVariance = readNoiseE ** 2 + 1 / 12;
    expect(Math.abs(read.mean - 1000)).toBeLessThan(5 * Math.sqrt(readVariance / read.n));
    expect(Math.abs(read.variance - readVariance)).toBeLessThan(5 * readVariance * Math.sqrt(2 / read.n));
    // With shot noise, from the same Box–Muller pair: variances add only if the two normals are uncorrelated.
    for (const lambda of [20, 400]) {
      const both = countMoments(kernels, lambda, { readNoiseE, biasAdu: 200 }); // a bias: no count clipped at 0
      const total = lambda + readNoiseE ** 2 + (lambda >= 64 ? 2 / 12 : 1 / 12);
      expect(Math.abs(both.variance - total)).toBeLessThan(5 * total * Math.sqrt(2 / both.n));
    }
  });
});

describe('float32 normals (the camera noise: docs/physics.md gives these bounds in electrons)', () => {
  it('are the float64 Box–Muller pair of the same words to float32 precision, the full 32-bit tail included', () => {
    const next = seededUniform(11);
    const cosSin = new Float32Array(2);
    const pair = new Float32Array(2);
    let worstLn = 0;
    let worstCosSin = 0;
    let worstNormal = 0; // where r > 0.01
    let worstRadius = 0; // anywhere: near r = 0 (u₀ within a few 2⁻²⁴ of 1), u₀'s float32 spacing dominates
    for (let i = 0; i < 200_000; i++) {
      // The extreme words (the 6.8σ tail, u₀ next to 1) and the quadrant boundaries, then random ones.
      const edges = [i, 0xffffffff - i, 0x40000000 + i - 50, 0x80000000 + i - 50, 0xc0000000 + i - 50];
      const a = i < 100 ? edges[i % 5]! >>> 0 : Math.floor(next() * 2 ** 32);
      const b = i < 100 ? edges[(i + 2) % 5]! >>> 0 : Math.floor(next() * 2 ** 32);
      const ln = Math.log(uniform01(a));
      worstLn = Math.max(worstLn, Math.abs(lnUniformFloat32(a) - ln));
      const theta = 2 * Math.PI * uniform01(b);
      turnCosSinFloat32(b, cosSin);
      worstCosSin = Math.max(
        worstCosSin,
        Math.abs(cosSin[0]! - Math.cos(theta)),
        Math.abs(cosSin[1]! - Math.sin(theta)),
      );
      standardNormalPairFloat32(a, b, pair);
      const r = Math.sqrt(-2 * ln);
      worstRadius = Math.max(worstRadius, Math.abs(Math.hypot(pair[0]!, pair[1]!) - r));
      if (r > 0.01) {
        const error = Math.max(Math.abs(pair[0]! - r * Math.cos(theta)), Math.abs(pair[1]! - r * Math.sin(theta)));
        worstNormal = Math.max(worstNormal, error);
      }
    }
    expect(lnUniformFloat32(0)).toBeCloseTo(Math.log(2 ** -33), 5); // the tail: r = 6.8
    expect(worstLn).toBeLessThan(2.5e-6); // |ln u| ≤ 22.9: a float32 ulp is 1.9e-6 there
    expect(worstCosSin).toBeLessThan(3e-7);
    expect(worstNormal).toBeLessThan(3e-6);
    expect(worstRadius).toBeLessThan(3e-4);
  });
});

describe('expNegative', () => {
  it('equals Math.exp(−x) to within 1.5e-14 on [0, 88) (x − k·ln2 rounds: the error grows with k ≤ 127)', () => {
    const next = seededUniform(3);
    let worst = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = i < 10 ? i * 0.5 : next() * 88;
      worst = Math.max(worst, Math.abs(expNegative(x) - Math.exp(-x)) / Math.exp(-x));
    }
    expect(worst).toBeLessThan(1.5e-14);
  });
});

import { describe, expect, it } from 'vitest';
import {
  type CameraModel,
  expNegative,
  KernelArgumentError,
  Kernels,
  loadNative,
  typescriptKernels,
} from '../src/index.js';
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
      for (const overrides of [{}, { shotNoise: false }, { readNoiseE: 0, electronsPerIntensity: 3000 }]) {
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

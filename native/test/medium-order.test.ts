/**
 * The field sums are one function of each frame, bit for bit: whichever kernel runs ('lists', 'tables', or the one
 * 'auto' picks for the batch), with the cached matrix or lazy tiles, synchronously or not, C++ or TypeScript. Before
 * this held, a frame's intensities changed in the last bits with the batch it was simulated in, and the camera's
 * rounding turned that into different ADU values now and then.
 */

import { describe, expect, it } from 'vitest';
import { Kernels, loadNative, type MediumFieldsRequest, typescriptKernels } from '../src/index.js';
import { tablesPay } from '../src/optics/medium.js';
import { seededUniform } from './helpers.js';

const native = loadNative();
const nativeKernels = native.implementation ? new Kernels('native', native.implementation) : undefined;
const implementations: [string, Kernels][] = [['typescript', typescriptKernels]];
if (nativeKernels) implementations.push(['native', nativeKernels]);

function indices(count: number, seed: number): Int32Array {
  const next = seededUniform(seed);
  const set = new Set<number>();
  while (set.size < count) set.add(Math.floor(next() * 2_000_000));
  return Int32Array.from(set);
}

/** Frames whose mirrors are lit with probability `fill` (a different fill per frame when given a range). */
function packedFrames(frames: number, mirrors: number, fill: [number, number], seed: number): Uint8Array {
  const next = seededUniform(seed);
  const groups = (mirrors + 7) >> 3;
  const out = new Uint8Array(frames * groups);
  for (let f = 0; f < frames; f++) {
    const p = fill[0] + (fill[1] - fill[0]) * next();
    for (let q = 0; q < mirrors; q++) if (next() < p) out[f * groups + (q >> 3)]! |= 1 << (q & 7);
  }
  return out;
}

interface Shape {
  m: number;
  n: number;
  frames: number;
  fill: [number, number];
  /** 'auto' picks the tables for the whole batch and the lists for a few of its frames. */
  autoSplits?: boolean;
}

// Pixels: partial 16-float vectors, 64-pixel register blocks, 256- and 512-pixel blocks. Mirrors: partial groups of
// 8 and of 4, partial 128- and 256-mirror chunks.
const SHAPES: Shape[] = [
  { m: 300, n: 523, frames: 40, fill: [0.02, 0.02] },
  { m: 300, n: 523, frames: 40, fill: [0.5, 0.5] },
  { m: 577, n: 262, frames: 64, fill: [0.9, 0.99], autoSplits: true },
  { m: 33, n: 1030, frames: 9, fill: [0, 1] },
  { m: 1, n: 3, frames: 5, fill: [0.5, 1] },
];

function setup({ m, n, frames, fill }: Shape, seed: number) {
  const pixels = indices(m, seed);
  const mirrors = indices(n, seed + 1);
  const packed = packedFrames(frames, n, fill, seed + 2);
  const cached = { re: new Float32Array(n * m), im: new Float32Array(n * m) };
  typescriptKernels.fillMediumTile(seed, 3, pixels, 0, m, mirrors, 0, n, cached.re, cached.im);
  return { seed, epoch: 3, pixels, mirrors, packed, frames, cached };
}

type Request = Omit<MediumFieldsRequest, 'outRe' | 'outIm'>;

function run(k: Kernels, request: Request): { re: Float32Array; im: Float32Array; intensity: Float32Array } {
  const size = request.frames * request.pixels.length;
  const re = new Float32Array(size).fill(Number.NaN);
  const im = new Float32Array(size).fill(Number.NaN);
  const intensity = new Float32Array(size).fill(Number.NaN);
  k.mediumFields({ ...request, outRe: re, outIm: im });
  k.mediumFields({ ...request, outRe: intensity });
  return { re, im, intensity };
}

const KERNELS = ['lists', 'tables', 'auto'] as const;

describe.each(implementations)('medium fields are one function of each frame (%s)', (_name, k) => {
  for (const [i, shape] of SHAPES.entries()) {
    const label = `${shape.m} pixels, ${shape.n} mirrors, ${shape.frames} frames, fill ${shape.fill.join('–')}`;

    it(`lists == tables == auto, cached or lazy, bit for bit (${label})`, () => {
      const { cached, ...request } = setup(shape, 10 + i);
      const reference = run(k, { ...request, kernel: 'lists', cached });
      expect(reference.re.some((x) => x !== 0) || shape.fill[1] === 0).toBe(true);
      for (const kernel of KERNELS) {
        for (const c of [cached, undefined]) {
          const other = run(k, { ...request, kernel, cached: c });
          expect(other.re, `${kernel} ${c ? 'cached' : 'lazy'}`).toEqual(reference.re);
          expect(other.im, `${kernel} ${c ? 'cached' : 'lazy'}`).toEqual(reference.im);
          expect(other.intensity, `${kernel} ${c ? 'cached' : 'lazy'}`).toEqual(reference.intensity);
        }
      }
      // Fused intensities are float32 |field|²: fround(fround(re²) + fround(im²)).
      const squared = reference.re.map((re, j) => Math.fround(re * re) + Math.fround(reference.im[j]! ** 2));
      expect(reference.intensity).toEqual(squared);
    });

    it(`a frame's sums do not depend on its batch (${label})`, () => {
      const { cached, ...request } = setup(shape, 20 + i);
      const { m, n, frames } = shape;
      const groups = (n + 7) >> 3;
      // The first frames alone, the last one alone, and an uneven split.
      const cuts = [
        [0, 1],
        [1, 2],
        [2, 3],
        [frames - 1, frames],
        [0, Math.ceil(frames / 3)],
        [Math.ceil(frames / 3), frames],
      ];
      const pays = cuts.map(([a, b]) => tablesPay(request.packed.subarray(a! * groups, b! * groups), b! - a!, groups));
      expect(tablesPay(request.packed, frames, groups) && pays.includes(false)).toBe(shape.autoSplits === true);
      for (const c of [cached, undefined]) {
        const whole = run(k, { ...request, kernel: 'auto', cached: c });
        for (const [a, b] of cuts) {
          const part = run(k, {
            ...request,
            packed: request.packed.subarray(a! * groups, b! * groups),
            frames: b! - a!,
            kernel: 'auto',
            cached: c,
          });
          expect(part.re).toEqual(whole.re.subarray(a! * m, b! * m));
          expect(part.im).toEqual(whole.im.subarray(a! * m, b! * m));
          expect(part.intensity).toEqual(whole.intensity.subarray(a! * m, b! * m));
        }
      }
    });
  }

  it('mediumFieldsAsync gives the same bits as mediumFields, with every kernel', async () => {
    const { cached, ...request } = setup(SHAPES[2]!, 30);
    const reference = run(k, { ...request, kernel: 'lists' });
    for (const kernel of KERNELS) {
      for (const c of [cached, undefined]) {
        const size = request.frames * request.pixels.length;
        const re = new Float32Array(size);
        const im = new Float32Array(size);
        const intensity = new Float32Array(size);
        await Promise.all([
          k.mediumFieldsAsync({ ...request, kernel, cached: c, outRe: re, outIm: im }),
          k.mediumFieldsAsync({ ...request, kernel, cached: c, outRe: intensity }),
        ]);
        expect(re).toEqual(reference.re);
        expect(im).toEqual(reference.im);
        expect(intensity).toEqual(reference.intensity);
      }
    }
  });

  it('ignores bits past the last mirror in every kernel', () => {
    const { cached, ...request } = setup({ m: 70, n: 21, frames: 6, fill: [0.3, 0.9] }, 40);
    const dirty = request.packed.slice();
    for (let f = 0; f < 6; f++) dirty[f * 3 + 2]! |= 0b1110_0000; // mirrors 21–23 do not exist
    const reference = run(k, { ...request, kernel: 'lists', cached });
    for (const kernel of KERNELS) {
      for (const c of [cached, undefined]) {
        const other = run(k, { ...request, packed: dirty, kernel, cached: c });
        expect(other.re).toEqual(reference.re);
        expect(other.im).toEqual(reference.im);
      }
    }
  });
});

describe('C++ and TypeScript medium fields', () => {
  for (const [i, shape] of SHAPES.entries()) {
    it(`are bit-identical, every kernel, cached or lazy, fields and intensities (${shape.m}×${shape.n}, fill ${shape.fill.join('–')})`, () => {
      if (!nativeKernels) return expect(process.env.OPU_NATIVE).toBe('0');
      const { cached, ...request } = setup(shape, 50 + i);
      for (const kernel of KERNELS) {
        for (const c of [cached, undefined]) {
          const ts = run(typescriptKernels, { ...request, kernel, cached: c });
          const cpp = run(nativeKernels, { ...request, kernel, cached: c });
          expect(cpp.re, `${kernel} ${c ? 'cached' : 'lazy'}`).toEqual(ts.re);
          expect(cpp.im, `${kernel} ${c ? 'cached' : 'lazy'}`).toEqual(ts.im);
          expect(cpp.intensity, `${kernel} ${c ? 'cached' : 'lazy'}`).toEqual(ts.intensity);
        }
      }
    });
  }
});

/**
 * The medium's matrix is quantized (entries q/4096, q of 16 bits), so a frame's field is an exact integer sum: every
 * kernel ('lists', 'tables', 'grouped', 'dense', or the one 'auto' picks for the batch), with the cached matrix or lazy tiles,
 * synchronously or not, in C++ or TypeScript, gives the same bits, and a frame's numbers do not depend on the batch it
 * is simulated in. These tests check that against an independent computation (float64 sums of the quantized
 * columns, exact at these sizes) and each kernel against the others.
 */

import { describe, expect, it } from 'vitest';
import {
  complexNormal,
  Kernels,
  loadNative,
  MEDIUM_SCALE,
  type MediumFieldsRequest,
  philox4x32,
  Stream,
  typescriptKernels,
} from '../src/index.js';
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

/**
 * Frames whose mirrors are lit with probability `fill` (a different fill per frame when given a range), or, with
 * `blocks`, frames that light whole blocks of mirrors together (a facade's macro-pixels, scattered over the mirrors),
 * each block with probability `fill`, plus a few mirrors that are always on (a reference pattern).
 */
function packedFrames(frames: number, mirrors: number, fill: [number, number], seed: number, blocks = 0): Uint8Array {
  const next = seededUniform(seed);
  const bytes = (mirrors + 7) >> 3;
  const out = new Uint8Array(frames * bytes);
  const blockOf = Int32Array.from({ length: mirrors }, () => (blocks ? Math.floor(next() * (blocks + 1)) - 1 : 0));
  for (let f = 0; f < frames; f++) {
    const p = fill[0] + (fill[1] - fill[0]) * next();
    const on = Array.from({ length: blocks }, () => next() < p);
    for (let q = 0; q < mirrors; q++) {
      const lit = blocks ? blockOf[q] === -1 || on[blockOf[q]!] : next() < p;
      if (lit) out[f * bytes + (q >> 3)]! |= 1 << (q & 7);
    }
  }
  return out;
}

interface Shape {
  m: number;
  n: number;
  frames: number;
  fill: [number, number];
  /** Frames made of this many blocks of mirrors lit together (the grouped kernel's case). */
  blocks?: number;
}

// Pixels: partial 16-integer vectors, 32-pixel register blocks, 256- and 512-pixel blocks. Mirrors: partial groups of
// 8 and 4, partial 64-mirror chunks and 256-mirror tiles. Structured frames: 3 and 12 blocks (grouped), 70 blocks
// (more groups than the grouped kernel takes).
const SHAPES: Shape[] = [
  { m: 300, n: 523, frames: 40, fill: [0.02, 0.02] },
  { m: 300, n: 523, frames: 40, fill: [0.5, 0.5] },
  { m: 577, n: 262, frames: 64, fill: [0.9, 0.99] },
  { m: 33, n: 1030, frames: 9, fill: [0, 1] },
  { m: 1, n: 3, frames: 5, fill: [0.5, 1] },
  { m: 130, n: 1216, frames: 70, fill: [0.5, 0.5], blocks: 12 },
  { m: 45, n: 200, frames: 17, fill: [0.1, 0.9], blocks: 3 },
  { m: 64, n: 700, frames: 50, fill: [0.5, 0.5], blocks: 70 },
];

function setup({ m, n, frames, fill, blocks }: Shape, seed: number) {
  const pixels = indices(m, seed);
  const mirrors = indices(n, seed + 1);
  const packed = packedFrames(frames, n, fill, seed + 2, blocks);
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

/** The exact sums S = Σ q over each frame's lit mirrors, from the cached matrix, in float64 (exact: |S| ≪ 2^53). */
function exactSums(request: ReturnType<typeof setup>) {
  const m = request.pixels.length;
  const n = request.mirrors.length;
  const bytes = (n + 7) >> 3;
  const re = new Float64Array(request.frames * m);
  const im = new Float64Array(request.frames * m);
  for (let f = 0; f < request.frames; f++) {
    for (let q = 0; q < n; q++) {
      if (!((request.packed[f * bytes + (q >> 3)]! >> (q & 7)) & 1)) continue;
      for (let p = 0; p < m; p++) {
        re[f * m + p]! += request.cached.re[q * m + p]! * MEDIUM_SCALE;
        im[f * m + p]! += request.cached.im[q * m + p]! * MEDIUM_SCALE;
      }
    }
  }
  return { re, im };
}

const KERNELS = ['lists', 'tables', 'grouped', 'dense', 'auto'] as const;

describe.each(implementations)('medium fields are exact integer sums (%s)', (_name, k) => {
  for (const [i, shape] of SHAPES.entries()) {
    const label = `${shape.m} pixels, ${shape.n} mirrors, ${shape.frames} frames, fill ${shape.fill.join('–')}${shape.blocks ? `, ${shape.blocks} blocks` : ''}`;

    it(`equal Σ q/4096 over the lit mirrors, every kernel, cached or lazy, bit for bit (${label})`, () => {
      const request = setup(shape, 10 + i);
      const exact = exactSums(request);
      const scale2 = MEDIUM_SCALE * MEDIUM_SCALE;
      const expected = {
        re: Float32Array.from(exact.re, (s) => s / MEDIUM_SCALE),
        im: Float32Array.from(exact.im, (s) => s / MEDIUM_SCALE),
        intensity: Float32Array.from(exact.re, (s, j) => (s * s + exact.im[j]! ** 2) / scale2),
      };
      expect(expected.re.some((x) => x !== 0) || shape.fill[1] === 0).toBe(true);
      for (const kernel of KERNELS) {
        for (const cached of [request.cached, undefined]) {
          const got = run(k, { ...request, kernel, cached });
          const where = `${kernel} ${cached ? 'cached' : 'lazy'}`;
          expect(got.re, where).toEqual(expected.re);
          expect(got.im, where).toEqual(expected.im);
          expect(got.intensity, where).toEqual(expected.intensity);
        }
      }
    });

    it(`a frame's sums do not depend on its batch (${label})`, () => {
      const { cached, ...request } = setup(shape, 20 + i);
      const { m, n, frames } = shape;
      const bytes = (n + 7) >> 3;
      // The first frames alone, the last one alone, and an uneven split.
      const cuts = [
        [0, 1],
        [1, 2],
        [2, 3],
        [frames - 1, frames],
        [0, Math.ceil(frames / 3)],
        [Math.ceil(frames / 3), frames],
      ];
      for (const c of [cached, undefined]) {
        const whole = run(k, { ...request, kernel: 'auto', cached: c });
        for (const [a, b] of cuts) {
          const part = run(k, {
            ...request,
            packed: request.packed.subarray(a! * bytes, b! * bytes),
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

  it('grouped: batch after batch of one grouping, then another grouping, then the first again', () => {
    // The C++ keeps each grouping's sums across calls; a batch that the kept grouping does not fit must not use them.
    const shape = SHAPES[5]!;
    const request = setup(shape, 60);
    const batches = [
      packedFrames(30, shape.n, [0.5, 0.5], 61, 12),
      packedFrames(30, shape.n, [0.5, 0.5], 62, 12),
      packedFrames(30, shape.n, [0.2, 0.2], 63, 9),
      packedFrames(30, shape.n, [0.5, 0.5], 61, 12).map((b, j) => (j < 152 ? b ^ 1 : b)), // one mirror leaves its group
      packedFrames(30, shape.n, [0.5, 0.5], 64, 12),
    ];
    for (const [j, packed] of batches.entries()) {
      for (const cached of [request.cached, undefined]) {
        const batch = { ...request, packed, frames: 30 };
        const exact = exactSums({ ...batch, cached: request.cached });
        const got = run(k, { ...batch, kernel: 'grouped', cached });
        expect(got.re, `batch ${j}`).toEqual(Float32Array.from(exact.re, (s) => s / MEDIUM_SCALE));
        expect(got.im, `batch ${j}`).toEqual(Float32Array.from(exact.im, (s) => s / MEDIUM_SCALE));
      }
    }
  });

  it('mediumFieldsAsync gives the same bits as mediumFields, with every kernel', async () => {
    const { cached, ...request } = setup(SHAPES[5]!, 30);
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
    it(`are bit-identical, every kernel, cached or lazy, fields and intensities (${shape.m}×${shape.n}, fill ${shape.fill.join('–')}${shape.blocks ? `, ${shape.blocks} blocks` : ''})`, () => {
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

describe('the quantized matrix', () => {
  const m = 200;
  const n = 500;
  const pixels = indices(m, 3);
  const mirrors = indices(n, 4);
  const re = new Float32Array(m * n);
  const im = new Float32Array(m * n);
  typescriptKernels.fillMediumTile(9, 0, pixels, 0, m, mirrors, 0, n, re, im);

  it('is round(4096·z)/4096 of the CN(0, 1) entries z, within ±32767/4096', () => {
    const z = new Float64Array(2);
    const words = new Uint32Array(4);
    let worst = 0;
    for (let q = 0; q < n; q++) {
      for (let p = 0; p < m; p++) {
        philox4x32(pixels[p]!, mirrors[q]! >>> 1, 0, 0, 9, Stream.medium, words);
        const half = (mirrors[q]! & 1) * 2;
        complexNormal(words[half]!, words[half + 1]!, z);
        const j = q * m + p;
        for (const [value, exact] of [
          [re[j]!, z[0]!],
          [im[j]!, z[1]!],
        ] as const) {
          expect(Number.isInteger(value * MEDIUM_SCALE) && Math.abs(value * MEDIUM_SCALE) <= 32767).toBe(true);
          worst = Math.max(worst, Math.abs(value - exact));
        }
      }
    }
    // Rounding to the nearest multiple of 1/4096: at most half a step.
    expect(worst).toBeLessThanOrEqual(0.5 / MEDIUM_SCALE);
    expect(worst).toBeGreaterThan(0.45 / MEDIUM_SCALE);
  });

  it('has circular complex Gaussian statistics with E|R|² = 1', () => {
    let power = 0;
    let cross = 0;
    let meanRe = 0;
    for (let i = 0; i < re.length; i++) {
      power += re[i]! ** 2 + im[i]! ** 2;
      cross += re[i]! * im[i]!;
      meanRe += re[i]!;
    }
    // 100 000 entries: E|R|² = 1 ± 0.0032 (1σ), E[Re·Im] = 0 ± 0.0016, E[Re] = 0 ± 0.0022; quantization adds
    // 2·(1/4096)²/12 ≈ 1e-8 to the power.
    expect(Math.abs(power / re.length - 1)).toBeLessThan(0.016);
    expect(Math.abs(cross / re.length)).toBeLessThan(0.008);
    expect(Math.abs(meanRe / re.length)).toBeLessThan(0.011);
  });
});

import { describe, expect, it } from 'vitest';
import { KernelArgumentError, Kernels, loadNative, typescriptKernels } from '../src/index.js';
import { seededUniform } from './helpers.js';

const native = loadNative();
const nativeKernels = native.implementation ? new Kernels('native', native.implementation) : undefined;

/** Distinct absolute indices, shuffled and with gaps, like an ROI or region inside a larger sensor or DMD. */
function indices(count: number, seed: number): Int32Array {
  const next = seededUniform(seed);
  const set = new Set<number>();
  while (set.size < count) set.add(Math.floor(next() * 2_000_000));
  return Int32Array.from(set);
}

function packedFrames(frames: number, mirrors: number, fill: number, seed: number): Uint8Array {
  const next = seededUniform(seed);
  const groups = (mirrors + 7) >> 3;
  const out = new Uint8Array(frames * groups);
  for (let f = 0; f < frames; f++) {
    for (let q = 0; q < mirrors; q++) if (next() < fill) out[f * groups + (q >> 3)]! |= 1 << (q & 7);
  }
  return out;
}

describe('medium tiles', () => {
  it('are bit-identical in C++ and TypeScript, for any seed, epoch, pixels and mirrors', () => {
    if (!nativeKernels) return expect(process.env.OPU_NATIVE).toBe('0');
    for (const [seed, epoch, np, nq] of [
      [0, 0, 1, 1],
      [7, 0, 37, 19],
      [0xffffffff, 3, 130, 257],
      [12345, 1_000_000, 64, 64],
    ]) {
      const pixels = indices(np! + 5, seed! + 1);
      const mirrors = indices(nq! + 3, seed! + 2);
      const size = np! * nq!;
      const tiles = [typescriptKernels, nativeKernels].map((k) => {
        const re = new Float32Array(size);
        const im = new Float32Array(size);
        k.fillMediumTile(seed!, epoch!, pixels, 2, 2 + np!, mirrors, 1, 1 + nq!, re, im);
        return { re, im };
      });
      expect(tiles[1]!.re).toEqual(tiles[0]!.re);
      expect(tiles[1]!.im).toEqual(tiles[0]!.im);
    }
  });

  it('have circular complex Gaussian entries with E|R|² = 1', () => {
    const pixels = indices(400, 3);
    const mirrors = indices(500, 4);
    const re = new Float32Array(400 * 500);
    const im = new Float32Array(400 * 500);
    typescriptKernels.fillMediumTile(9, 0, pixels, 0, 400, mirrors, 0, 500, re, im);
    let power = 0;
    let cross = 0;
    for (let i = 0; i < re.length; i++) {
      power += re[i]! ** 2 + im[i]! ** 2;
      cross += re[i]! * im[i]!;
    }
    // 200 000 entries: E|R|² = 1 ± 0.0022 (1σ), E[Re·Im] = 0 ± 0.0011.
    expect(Math.abs(power / re.length - 1)).toBeLessThan(0.011);
    expect(Math.abs(cross / re.length)).toBeLessThan(0.0055);
  });
});

const implementations: [string, Kernels][] = [['typescript', typescriptKernels]];
if (nativeKernels) implementations.push(['native', nativeKernels]);

describe.each(implementations)('medium fields (%s)', (_name, k) => {
  const m = 300;
  const n = 523; // a partial tile and a partial group of 8
  const pixels = indices(m, 5);
  const mirrors = indices(n, 6);
  const frames = 40;
  const full = { re: new Float32Array(n * m), im: new Float32Array(n * m) };
  typescriptKernels.fillMediumTile(11, 2, pixels, 0, m, mirrors, 0, n, full.re, full.im);

  for (const fill of [0.02, 0.5]) {
    it(`equal Σ_q R[p, q]·x[q] for every kernel, cached or not, as fields or intensities (fill ${fill})`, () => {
      const packed = packedFrames(frames, n, fill, 7);
      const groups = (n + 7) >> 3;
      const expectedRe = new Float64Array(frames * m);
      const expectedIm = new Float64Array(frames * m);
      for (let f = 0; f < frames; f++) {
        for (let q = 0; q < n; q++) {
          if (!((packed[f * groups + (q >> 3)]! >> (q & 7)) & 1)) continue;
          for (let p = 0; p < m; p++) {
            expectedRe[f * m + p]! += full.re[q * m + p]!;
            expectedIm[f * m + p]! += full.im[q * m + p]!;
          }
        }
      }
      for (const kernel of ['lists', 'tables', 'grouped', 'dense', 'auto'] as const) {
        for (const cached of [undefined, full]) {
          const outRe = new Float32Array(frames * m).fill(Number.NaN);
          const outIm = new Float32Array(frames * m).fill(Number.NaN);
          const request = { seed: 11, epoch: 2, pixels, mirrors, packed, frames, cached, kernel };
          k.mediumFields({ ...request, outRe, outIm });
          const intensity = new Float32Array(frames * m);
          k.mediumFields({ ...request, outRe: intensity });
          let worst = 0;
          let worstIntensity = 0;
          for (let i = 0; i < frames * m; i++) {
            worst = Math.max(worst, Math.abs(outRe[i]! - expectedRe[i]!), Math.abs(outIm[i]! - expectedIm[i]!));
            const truth = expectedRe[i]! ** 2 + expectedIm[i]! ** 2;
            worstIntensity = Math.max(worstIntensity, Math.abs(intensity[i]! - truth) / (1 + truth));
          }
          // Exact sums of the quantized entries, then one float32 rounding: ≲ 1e-5 at |field| ≲ 100.
          expect(worst, `${kernel} ${cached ? 'cached' : 'lazy'}`).toBeLessThan(2e-5);
          expect(worstIntensity, `${kernel} ${cached ? 'cached' : 'lazy'}`).toBeLessThan(1e-6);
        }
      }
    });
  }

  it('rejects bad requests with typed errors', () => {
    const packed = packedFrames(2, n, 0.5, 8);
    const base = { seed: 1, epoch: 0, pixels, mirrors, packed, frames: 2, outRe: new Float32Array(2 * m) };
    const bad: [object, RegExp][] = [
      [{ packed: packed.subarray(0, 10) }, /^packed: has 10 bytes/],
      [{ outRe: new Float32Array(5) }, /^outRe: has 5 elements/],
      [{ outIm: new Float32Array(3) }, /^outIm: /],
      [{ pixels: Array.from(pixels) }, /^pixels: is not a Int32Array/],
      [{ cached: { re: new Float32Array(7), im: new Float32Array(7) } }, /^cached: /],
      [{ kernel: 'fast' }, /^kernel: .*auto, lists, tables, grouped or dense/],
      [{ frames: -1 }, /^frames: /],
      [{ outRe: full.re.subarray(0, 2 * m), cached: full }, /^outRe: overlaps/],
    ];
    for (const [patch, message] of bad) {
      const call = () => k.mediumFields({ ...base, ...patch } as Parameters<typeof k.mediumFields>[0]);
      expect(call).toThrow(KernelArgumentError);
      expect(call).toThrow(message);
    }
    expect(() =>
      k.fillMediumTile(1, 0, pixels, 0, m + 1, mirrors, 0, 1, new Float32Array(400), new Float32Array(400)),
    ).toThrow(/^p1: /);
  });
});

/**
 * Kernels of the simulated medium, TypeScript implementation: generating tiles of the quantized transmission matrix
 * from the counter-based RNG, and summing its columns over the lit mirrors of binary frames. The C++ kernels in
 * addon/src/optics/medium.cc implement the same signatures, bit-identical: tiles and sums alike.
 */
import type { KernelFunction } from '../kernels/signatures.js';
import { complexNormal, philox4x32, Stream } from './random.js';

/**
 * Every entry of the medium's matrix is q/MEDIUM_SCALE with q = round(4096·z) an integer of 16 bits (clipped at
 * ±32767, 11σ of z's real or imaginary part: never reached). The quantized matrix is the medium's true matrix; its
 * relative difference to the float one is ~1e-4 (docs/physics.md), far below the camera's noise.
 */
export const MEDIUM_SCALE = 4096;

/** Mirrors per tile of the lazily generated matrix. */
const MIRROR_BLOCK = 256;
const PIXEL_BLOCK = 512;

/**
 * How the C++ sums the columns ('auto' picks per batch); all give the same bits, and TypeScript always uses lists.
 * 'lists': a column per lit mirror. 'tables': subset sums of every 4 mirrors (four Russians). 'grouped': the
 * mirrors that are on or off together over the whole batch are summed once per group. 'dense': int16 dot products
 * with AVX-512 VNNI where the CPU has it and the matrix is cached (else tables).
 */
export const FieldKernel = { auto: 0, lists: 1, tables: 2, grouped: 3, dense: 4 } as const;

const words = new Uint32Array(4);
const z = new Float64Array(2);

/** q/4096 for an entry z's real or imaginary part. */
function quantized(value: number): number {
  return Math.min(32767, Math.max(-32767, Math.floor(value * MEDIUM_SCALE + 0.5))) / MEDIUM_SCALE;
}

/**
 * Entries (pixels[p0..p1), mirrors[q0..q1)) of the medium's matrix N_epoch, column-major: entry (p, q) at
 * `(q − q0)·(p1 − p0) + (p − p0)`. Entry (pixel, mirror) is CN(0, 1) from the Philox block at counter
 * (pixel, ⌊mirror/2⌋, epoch), key (seed, medium stream): words 0–1 for even mirrors, 2–3 for odd ones; its real and
 * imaginary parts are then quantized to q/4096 (exact in float32).
 */
export const fillMediumTileTs: KernelFunction<'fillMediumTile'> = (
  seed,
  epoch,
  pixels,
  p0,
  p1,
  mirrors,
  q0,
  q1,
  re,
  im,
) => {
  const np = p1 - p0;
  for (let q = q0; q < q1; q++) {
    const mirror = mirrors[q]!;
    const half = (mirror & 1) * 2;
    const col = (q - q0) * np - p0;
    for (let p = p0; p < p1; p++) {
      philox4x32(pixels[p]!, mirror >>> 1, epoch, 0, seed, Stream.medium, words);
      complexNormal(words[half]!, words[half + 1]!, z);
      re[col + p] = quantized(z[0]!);
      im[col + p] = quantized(z[1]!);
    }
  }
};

/**
 * Σ_q N_epoch[p, q]·x_f[q] for every frame f and pixel p: frames × pixels into outRe/outIm, or |·|² into outRe
 * when outIm is empty. `packed` holds each frame's mirrors as bits (frames × ⌈mirrors/8⌉ bytes, bit i of byte g =
 * mirror 8g + i; bits past the last mirror are ignored). Columns come from `cachedRe/Im` (column-major, mirrors ×
 * pixels), which must hold what fillMediumTile gives for the same seed, epoch, pixels and mirrors (the C++ keeps
 * sums of columns across calls by those), or, when those are empty, from tiles generated on the fly.
 *
 * The sums are exact: with entries q/4096, a frame's field is S/4096 with S = Σ q an integer, summed in 32 bits
 * (wrapping, as Int32Array does; |q| ≤ 32767 cannot overflow below 65 537 lit mirrors). Integer sums do not depend
 * on their order, so every kernel (lists, tables, grouped), in C++ and TypeScript, with the cached matrix or lazy
 * tiles, gives the same bits, and a frame's result does not depend on the batch it is simulated in. The outputs:
 * - fields: fround(S)/4096 (re and im);
 * - intensities: fround((S_re·S_re + S_im·S_im)/4096²), the products and the sum in float64.
 */
export const mediumFieldsTs: KernelFunction<'mediumFields'> = (
  seed,
  epoch,
  pixels,
  mirrors,
  packed,
  frames,
  cachedRe,
  cachedIm,
  _kernel,
  outRe,
  outIm,
) => {
  const m = pixels.length;
  const n = mirrors.length;
  const bytes = (n + 7) >> 3;
  const lastMask = n % 8 ? (1 << (n % 8)) - 1 : 0xff;
  const cached = cachedRe.length > 0;
  const fused = outIm.length === 0;
  const tileRe = new Float32Array(cached ? 0 : PIXEL_BLOCK * MIRROR_BLOCK);
  const tileIm = new Float32Array(tileRe.length);
  // Integer columns of one tile: column q − q0 at (q − q0)·np.
  const colRe = new Int32Array(PIXEL_BLOCK * MIRROR_BLOCK);
  const colIm = new Int32Array(colRe.length);
  for (let p0 = 0; p0 < m; p0 += PIXEL_BLOCK) {
    const p1 = Math.min(m, p0 + PIXEL_BLOCK);
    const np = p1 - p0;
    const sumRe = new Int32Array(frames * np);
    const sumIm = new Int32Array(frames * np);
    for (let q0 = 0; q0 < n; q0 += MIRROR_BLOCK) {
      const q1 = Math.min(n, q0 + MIRROR_BLOCK);
      if (!anyLit(packed, frames, bytes, lastMask, q0 >> 3, (q1 + 7) >> 3)) continue;
      if (!cached) fillMediumTileTs(seed, epoch, pixels, p0, p1, mirrors, q0, q1, tileRe, tileIm);
      for (let q = q0; q < q1; q++) {
        const to = (q - q0) * np;
        const from = cached ? q * m + p0 : to;
        const re = cached ? cachedRe : tileRe;
        const im = cached ? cachedIm : tileIm;
        for (let i = 0; i < np; i++) {
          colRe[to + i] = re[from + i]! * MEDIUM_SCALE;
          colIm[to + i] = im[from + i]! * MEDIUM_SCALE;
        }
      }
      for (let f = 0; f < frames; f++) {
        const at = f * np;
        for (let g = q0 >> 3; g < (q1 + 7) >> 3; g++) {
          for (let bits = packed[f * bytes + g]! & (g === bytes - 1 ? lastMask : 0xff); bits; bits &= bits - 1) {
            const col = (8 * g + 31 - Math.clz32(bits & -bits) - q0) * np;
            for (let i = 0; i < np; i++) {
              sumRe[at + i] += colRe[col + i]!;
              sumIm[at + i] += colIm[col + i]!;
            }
          }
        }
      }
    }
    for (let f = 0; f < frames; f++) {
      for (let i = 0; i < np; i++) {
        const re = sumRe[f * np + i]!;
        const im = sumIm[f * np + i]!;
        if (fused) outRe[f * m + p0 + i] = (re * re + im * im) / (MEDIUM_SCALE * MEDIUM_SCALE);
        else {
          outRe[f * m + p0 + i] = Math.fround(re) / MEDIUM_SCALE;
          outIm[f * m + p0 + i] = Math.fround(im) / MEDIUM_SCALE;
        }
      }
    }
  }
};

function anyLit(packed: Uint8Array, frames: number, bytes: number, lastMask: number, g0: number, g1: number): boolean {
  for (let f = 0; f < frames; f++) {
    for (let g = g0; g < g1; g++) if (packed[f * bytes + g]! & (g === bytes - 1 ? lastMask : 0xff)) return true;
  }
  return false;
}

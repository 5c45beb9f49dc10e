/**
 * Kernels of the simulated medium, TypeScript implementation: generating tiles of the transmission matrix from the
 * counter-based RNG, and summing its columns over the lit mirrors of binary frames. The C++ kernels in
 * addon/src/optics/medium.cc implement the same signatures, bit-identical: tiles and sums alike.
 */
import type { KernelFunction } from '../kernels/signatures.js';
import { complexNormal, philox4x32, Stream } from './random.js';

/** Mirrors per tile: a multiple of 8, so that tiles start on a byte of the packed frames. */
export const MIRROR_BLOCK = 256;
const PIXEL_BLOCK = 512;
/**
 * The table kernel (method of four Russians) pays 255 column additions per group of 8 mirrors to build the sums of
 * every subset, then one addition per frame and non-empty group; the list kernel pays one per lit mirror. Tables
 * are used when their work is below this fraction of the lists' work.
 */
const TABLE_WORK_RATIO = 0.8;

export const FieldKernel = { auto: 0, lists: 1, tables: 2 } as const;

const words = new Uint32Array(4);
const z = new Float64Array(2);

/**
 * Entries (pixels[p0..p1), mirrors[q0..q1)) of the medium's matrix N_epoch, column-major: entry (p, q) at
 * `(q − q0)·(p1 − p0) + (p − p0)`. Entry (pixel, mirror) is CN(0, 1) from the Philox block at counter
 * (pixel, ⌊mirror/2⌋, epoch), key (seed, medium stream): words 0–1 for even mirrors, 2–3 for odd ones.
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
      re[col + p] = z[0]!;
      im[col + p] = z[1]!;
    }
  }
};

/**
 * Σ_q N_epoch[p, q]·x_f[q] for every frame f and pixel p: frames × pixels into outRe/outIm, or |·|² into outRe
 * when outIm is empty. `packed` holds each frame's mirrors as bits (frames × ⌈mirrors/8⌉ bytes, bit i of byte g =
 * mirror 8g + i; bits past the last mirror are ignored). Columns come from `cachedRe/Im` (column-major, mirrors ×
 * pixels) or, when those are empty, from tiles generated on the fly.
 *
 * Every kernel, in C++ and TypeScript, adds the same float32 terms in the same order, so the result is one function
 * of the frame, bit for bit, whichever kernel 'auto' picks for the batch (see `canonical order` below):
 * - for each group g of 8 mirrors, in ascending order, with a non-zero byte b: acc += part(b), with acc from +0;
 * - part(b) = lo + hi when both nibbles of b are non-zero, else the non-zero one, where lo (hi) is the sum of the
 *   columns of the lit mirrors of the low (high) nibble in ascending mirror order: ((c_i + c_j) + c_k) + …;
 * - intensities are fround(fround(re·re) + fround(im·im)).
 * The lists kernel computes part(b) from the columns; the tables kernel looks it up in a table of all 256 subset
 * sums built with exactly those additions. Zeros' signs may differ in between, but acc starts at +0 and can never
 * become −0, so they never show. Each pixel is independent (the C++ vectorizes across pixels only).
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
  kernel,
  outRe,
  outIm,
) => {
  const m = pixels.length;
  const n = mirrors.length;
  const groups = (n + 7) >> 3;
  const cached = cachedRe.length > 0;
  const fused = outIm.length === 0;
  const useTables = kernel === FieldKernel.tables || (kernel === FieldKernel.auto && tablesPay(packed, frames, groups));
  const accRe = fused ? new Float32Array(frames * PIXEL_BLOCK) : outRe;
  const accIm = fused ? new Float32Array(frames * PIXEL_BLOCK) : outIm;
  const tileRe = cached ? cachedRe : new Float32Array(PIXEL_BLOCK * MIRROR_BLOCK);
  const tileIm = cached ? cachedIm : new Float32Array(PIXEL_BLOCK * MIRROR_BLOCK);
  // Tables: the 256 subset sums of a group's 8 columns. Lists: the nibbles' partial sums of one byte.
  const tableRe = new Float32Array((useTables ? 256 : 2) * PIXEL_BLOCK);
  const tableIm = new Float32Array(tableRe.length);
  if (!fused) {
    outRe.fill(0, 0, frames * m);
    outIm.fill(0, 0, frames * m);
  }
  for (let p0 = 0; p0 < m; p0 += PIXEL_BLOCK) {
    const p1 = Math.min(m, p0 + PIXEL_BLOCK);
    const np = p1 - p0;
    // Where frame f's sum for pixel p0 + i lives.
    const stride = fused ? np : m;
    const origin = fused ? 0 : p0;
    if (fused) {
      accRe.fill(0, 0, frames * np);
      accIm.fill(0, 0, frames * np);
    }
    for (let q0 = 0; q0 < n; q0 += MIRROR_BLOCK) {
      const q1 = Math.min(n, q0 + MIRROR_BLOCK);
      if (!anyLit(packed, frames, groups, q0 >> 3, (q1 + 7) >> 3)) continue;
      let offset: number;
      let colStride: number;
      if (cached) {
        offset = p0;
        colStride = m;
      } else {
        fillMediumTileTs(seed, epoch, pixels, p0, p1, mirrors, q0, q1, tileRe, tileIm);
        offset = -q0 * np;
        colStride = np;
      }
      for (let g = q0 >> 3; g < (q1 + 7) >> 3; g++) {
        const mask = (1 << Math.min(8, n - 8 * g)) - 1;
        const col0 = offset + 8 * g * colStride;
        if (useTables) buildTable(tileRe, tileIm, col0, colStride, mask, np, tableRe, tableIm);
        for (let f = 0; f < frames; f++) {
          const bits = packed[f * groups + g]! & mask;
          if (bits === 0) continue;
          const out = f * stride + origin;
          let srcRe: Float32Array = tableRe;
          let srcIm: Float32Array = tableIm;
          let src = bits * np;
          if (!useTables) {
            // part(bits) from the columns, in the order buildTable uses.
            const lo = bits & 15;
            const hi = bits >> 4;
            if (lo !== 0 && hi !== 0) {
              const a = nibbleSum(tileRe, tileIm, col0, colStride, lo, np, tableRe, tableIm, 0);
              const b = nibbleSum(tileRe, tileIm, col0 + 4 * colStride, colStride, hi, np, tableRe, tableIm, np);
              for (let i = 0; i < np; i++) {
                accRe[out + i]! += Math.fround(a.re[a.at + i]! + b.re[b.at + i]!);
                accIm[out + i]! += Math.fround(a.im[a.at + i]! + b.im[b.at + i]!);
              }
              continue;
            }
            const part =
              lo !== 0
                ? nibbleSum(tileRe, tileIm, col0, colStride, lo, np, tableRe, tableIm, 0)
                : nibbleSum(tileRe, tileIm, col0 + 4 * colStride, colStride, hi, np, tableRe, tableIm, 0);
            srcRe = part.re;
            srcIm = part.im;
            src = part.at;
          }
          for (let i = 0; i < np; i++) {
            accRe[out + i]! += srcRe[src + i]!;
            accIm[out + i]! += srcIm[src + i]!;
          }
        }
      }
    }
    if (fused) {
      for (let f = 0; f < frames; f++) {
        for (let i = 0; i < np; i++) {
          const re = accRe[f * np + i]!;
          const im = accIm[f * np + i]!;
          outRe[f * m + p0 + i] = Math.fround(Math.fround(re * re) + Math.fround(im * im));
        }
      }
    }
  }
};

/**
 * The 256 subset sums of the 8 columns at col0 + k·colStride (k < 8, bits outside `mask` absent), np pixels each,
 * into table[s·np ..]: a nibble's subsets as T[s] = T[s minus its highest bit] + that bit's column (ascending
 * order, from +0), and a byte with both nibbles as T[lo] + T[hi].
 */
function buildTable(
  colRe: Float32Array,
  colIm: Float32Array,
  col0: number,
  colStride: number,
  mask: number,
  np: number,
  tableRe: Float32Array,
  tableIm: Float32Array,
): void {
  tableRe.fill(0, 0, np);
  tableIm.fill(0, 0, np);
  for (let s = 1; s < 256; s++) {
    const dst = s * np;
    if ((s & mask) !== s) continue; // never looked up: bits past the last mirror are masked off
    const lo = s & 15;
    const hi = s & 0xf0;
    let a: number;
    let b: number;
    let bRe: Float32Array;
    let bIm: Float32Array;
    if (lo !== 0 && hi !== 0) {
      a = lo * np;
      b = hi * np;
      bRe = tableRe;
      bIm = tableIm;
    } else {
      const high = 31 - Math.clz32(s);
      a = (s ^ (1 << high)) * np;
      b = col0 + high * colStride;
      bRe = colRe;
      bIm = colIm;
    }
    for (let i = 0; i < np; i++) {
      tableRe[dst + i] = tableRe[a + i]! + bRe[b + i]!;
      tableIm[dst + i] = tableIm[a + i]! + bIm[b + i]!;
    }
  }
}

interface Part {
  re: Float32Array;
  im: Float32Array;
  at: number;
}

/**
 * The ascending sum of the columns at col0 + k·colStride selected by the bits of `nibble` (non-zero), as buildTable
 * computes it: the column itself for a single bit, otherwise summed into scratch[at ..].
 */
function nibbleSum(
  colRe: Float32Array,
  colIm: Float32Array,
  col0: number,
  colStride: number,
  nibble: number,
  np: number,
  scratchRe: Float32Array,
  scratchIm: Float32Array,
  at: number,
): Part {
  const first = col0 + (31 - Math.clz32(nibble & -nibble)) * colStride;
  let rest = nibble & (nibble - 1);
  if (rest === 0) return { re: colRe, im: colIm, at: first };
  const second = col0 + (31 - Math.clz32(rest & -rest)) * colStride;
  for (let i = 0; i < np; i++) {
    scratchRe[at + i] = colRe[first + i]! + colRe[second + i]!;
    scratchIm[at + i] = colIm[first + i]! + colIm[second + i]!;
  }
  for (rest &= rest - 1; rest !== 0; rest &= rest - 1) {
    const col = col0 + (31 - Math.clz32(rest & -rest)) * colStride;
    for (let i = 0; i < np; i++) {
      scratchRe[at + i]! += colRe[col + i]!;
      scratchIm[at + i]! += colIm[col + i]!;
    }
  }
  return { re: scratchRe, im: scratchIm, at };
}

/** Whether 'auto' uses the tables for this batch (exported for tests; the C++ decides alike). */
export function tablesPay(packed: Uint8Array, frames: number, groups: number): boolean {
  let lit = 0;
  let nonEmpty = 0;
  for (let i = 0; i < frames * groups; i++) {
    const b = packed[i]!;
    if (b !== 0) nonEmpty++;
    lit += POPCOUNT[b]!;
  }
  return nonEmpty + 255 * groups < TABLE_WORK_RATIO * lit;
}

function anyLit(packed: Uint8Array, frames: number, groups: number, g0: number, g1: number): boolean {
  for (let f = 0; f < frames; f++) {
    for (let g = g0; g < g1; g++) if (packed[f * groups + g] !== 0) return true;
  }
  return false;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0;
  for (let v = b; v; v &= v - 1) c++;
  return c;
});

/**
 * Kernels of the simulated medium, TypeScript implementation: generating tiles of the transmission matrix from the
 * counter-based RNG, and summing its columns over the lit mirrors of binary frames. The C++ kernels in
 * addon/src/medium.cc implement the same signatures; tiles are bit-identical, sums equal to float rounding.
 */
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
export function fillMediumTileTs(
  seed: number,
  epoch: number,
  pixels: Int32Array,
  p0: number,
  p1: number,
  mirrors: Int32Array,
  q0: number,
  q1: number,
  re: Float32Array,
  im: Float32Array,
): void {
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
}

/**
 * Σ_q N_epoch[p, q]·x_f[q] for every frame f and pixel p: frames × pixels into outRe/outIm, or |·|² into outRe
 * when outIm is empty. `packed` holds each frame's mirrors as bits (frames × ⌈mirrors/8⌉ bytes, bit i of byte g =
 * mirror 8g + i). Columns come from `cachedRe/Im` (column-major, mirrors × pixels) or, when those are empty, from
 * tiles generated on the fly.
 */
export function mediumFieldsTs(
  seed: number,
  epoch: number,
  pixels: Int32Array,
  mirrors: Int32Array,
  packed: Uint8Array,
  frames: number,
  cachedRe: Float32Array,
  cachedIm: Float32Array,
  kernel: number,
  outRe: Float32Array,
  outIm: Float32Array,
): void {
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
  const tableRe = useTables ? new Float32Array(256 * PIXEL_BLOCK) : undefined;
  const tableIm = useTables ? new Float32Array(256 * PIXEL_BLOCK) : undefined;
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
        const width = Math.min(8, n - 8 * g);
        if (useTables) {
          // T[s] = T[s without its lowest bit] + column of that bit: every subset of the 8 columns.
          for (let s = 1; s < 1 << width; s++) {
            const low = s & -s;
            const prev = (s ^ low) * np;
            const col = offset + (8 * g + 31 - Math.clz32(low)) * colStride;
            const dst = s * np;
            for (let i = 0; i < np; i++) {
              tableRe![dst + i] = tableRe![prev + i]! + tileRe[col + i]!;
              tableIm![dst + i] = tableIm![prev + i]! + tileIm[col + i]!;
            }
          }
        }
        for (let f = 0; f < frames; f++) {
          let bits = packed[f * groups + g]!;
          if (bits === 0) continue;
          const out = f * stride + origin;
          if (useTables) {
            const src = bits * np;
            for (let i = 0; i < np; i++) {
              accRe[out + i]! += tableRe![src + i]!;
              accIm[out + i]! += tableIm![src + i]!;
            }
            continue;
          }
          for (; bits !== 0; bits &= bits - 1) {
            const col = offset + (8 * g + 31 - Math.clz32(bits & -bits)) * colStride;
            for (let i = 0; i < np; i++) {
              accRe[out + i]! += tileRe[col + i]!;
              accIm[out + i]! += tileIm[col + i]!;
            }
          }
        }
      }
    }
    if (fused) {
      for (let f = 0; f < frames; f++) {
        for (let i = 0; i < np; i++) outRe[f * m + p0 + i] = accRe[f * np + i]! ** 2 + accIm[f * np + i]! ** 2;
      }
    }
  }
}

function tablesPay(packed: Uint8Array, frames: number, groups: number): boolean {
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

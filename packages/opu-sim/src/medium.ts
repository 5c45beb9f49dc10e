import { type CounterRng, Stream, uniform01 } from './philox.js';

/** Where the field is wanted: absolute DMD mirror and camera pixel indices, in region / ROI order. */
export interface FieldGeometry {
  mirrors: Int32Array;
  pixels: Int32Array;
  /** Mirrors outside the input region that are on (the DMD's fixed pattern); their summed field is added. */
  outsideLitMirrors: number;
}

export interface ComplexField {
  re: Float32Array;
  im: Float32Array;
}

const PIXEL_BLOCK = 512;
const MIRROR_BLOCK = 256;
/**
 * The table kernel (method of four Russians) pays 255 column additions per group of 8 mirrors to build the sums of
 * every subset, then one addition per frame and non-empty group; the list kernel pays one per lit mirror. Tables
 * are used when their work is below this fraction of the lists' work.
 */
const TABLE_WORK_RATIO = 0.8;

export type FieldKernel = 'auto' | 'lists' | 'tables';

/** Where a tile's column q starts: `offset + q·colStride` in `re`/`im`. */
interface Tile {
  re: Float32Array;
  im: Float32Array;
  offset: number;
  colStride: number;
}

interface PackedLit {
  /** One byte per 8 mirrors per frame, bit i = mirror 8g + i lit. */
  bytes: Uint8Array;
  groups: number;
  /** (non-empty groups + 255 × groups) / lit mirrors: the table kernel's work over the list kernel's. */
  tableWorkRatio: number;
}

/** Which mirror blocks have a lit mirror in any frame: the lazy medium generates no tile for the others. */
function litBlocks(lit: Int32Array[], mirrors: number): Uint8Array {
  const blocks = new Uint8Array(Math.ceil(mirrors / MIRROR_BLOCK));
  for (const list of lit) for (const q of list) blocks[Math.floor(q / MIRROR_BLOCK)] = 1;
  return blocks;
}

function packLit(lit: Int32Array[], mirrors: number): PackedLit {
  const groups = (mirrors + 7) >> 3;
  const bytes = new Uint8Array(lit.length * groups);
  let litTotal = 0;
  for (let f = 0; f < lit.length; f++) {
    for (const q of lit[f]!) bytes[f * groups + (q >> 3)]! |= 1 << (q & 7);
    litTotal += lit[f]!.length;
  }
  let nonEmpty = 0;
  for (const b of bytes) if (b !== 0) nonEmpty++;
  return { bytes, groups, tableWorkRatio: (nonEmpty + 255 * groups) / Math.max(1, litTotal) };
}

/**
 * Sums of every subset of 8 consecutive columns of a tile, for `np` pixels: a binary frame then needs one vector
 * addition per group of 8 mirrors instead of one per lit mirror.
 */
class GroupTable {
  readonly #re: Float32Array;
  readonly #im: Float32Array;

  constructor(maxPixels: number) {
    this.#re = new Float32Array(256 * maxPixels);
    this.#im = new Float32Array(256 * maxPixels);
  }

  accumulate(
    tile: Tile,
    np: number,
    q0: number,
    q1: number,
    packed: PackedLit,
    frames: number,
    re: Float32Array,
    im: Float32Array,
    m: number,
    p0: number,
  ): void {
    const tRe = this.#re;
    const tIm = this.#im;
    for (let g = q0 >> 3; g < (q1 + 7) >> 3; g++) {
      const width = Math.min(8, q1 - 8 * g);
      const subsets = 1 << width;
      for (let s = 1; s < subsets; s++) {
        const low = s & -s;
        const prev = (s ^ low) * np;
        const col = tile.offset + (8 * g + 31 - Math.clz32(low)) * tile.colStride;
        const dst = s * np;
        for (let p = 0; p < np; p++) {
          tRe[dst + p] = tRe[prev + p]! + tile.re[col + p]!;
          tIm[dst + p] = tIm[prev + p]! + tile.im[col + p]!;
        }
      }
      for (let f = 0; f < frames; f++) {
        const b = packed.bytes[f * packed.groups + g]!;
        if (b === 0) continue;
        const src = b * np;
        const out = f * m + p0;
        for (let p = 0; p < np; p++) {
          re[out + p] += tRe[src + p]!;
          im[out + p] += tIm[src + p]!;
        }
      }
    }
  }
}
/**
 * Epoch length over the decorrelation time constant: with the cosine hand-over below, a frame's intensity
 * correlation after τ is then e^−1 (solved numerically; docs/physics.md has the whole curve).
 */
const EPOCH_OVER_TAU = 1.4730654891466024;

/**
 * A multiple-scattering medium: a transmission matrix `R` with i.i.d. CN(0, 1) entries (E|R_pq|² = 1) between every
 * DMD mirror q and camera pixel p, never stored whole. Entry (p, q) is a pure function of (seed, p, q, epoch), so any
 * tile can be regenerated on demand and a change of region or ROI keeps the same physics.
 *
 * Drift never stops: the medium hands over continuously from one independent matrix N_e to the next. Pixel p at
 * time t is at u = t/Δ + φ_p (φ_p uniform and fixed per pixel, so the decorrelation rate does not depend on when it
 * is measured) and sees R_p(t) = cos(πθ/2)·N_⌊u⌋ + sin(πθ/2)·N_⌊u⌋+1 with θ = u − ⌊u⌋, which keeps E|R|² = 1.
 * Without drift, R = N_0.
 */
export class TransmissionMedium {
  readonly #rng: CounterRng;
  readonly #epochS: number;
  readonly #cacheBudgetBytes: number;
  readonly #kernel: FieldKernel;
  #cache: { key: string; matrices: Map<number, ComplexField> } | undefined;
  #phases: { pixels: Int32Array; phase: Float64Array } | undefined;

  constructor(rng: CounterRng, driftTimeConstantS: number, cacheBudgetBytes: number, kernel: FieldKernel = 'auto') {
    this.#rng = rng;
    this.#kernel = kernel;
    this.#epochS = driftTimeConstantS * EPOCH_OVER_TAU;
    this.#cacheBudgetBytes = cacheBudgetBytes;
  }

  get drifts(): boolean {
    return Number.isFinite(this.#epochS);
  }

  /**
   * Noise-free field `R(t_f)·x_f` of each frame at each pixel, frames × pixels, row-major.
   * `lit[f]` lists frame f's lit mirrors as ascending indices into `geometry.mirrors`.
   */
  fields(lit: Int32Array[], geometry: FieldGeometry, timesS: Float64Array): ComplexField {
    if (!this.drifts) return this.#accumulate(lit, geometry, 0, 1);
    const m = geometry.pixels.length;
    const phase = this.#pixelPhases(geometry.pixels);
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const t of timesS) {
      first = Math.min(first, Math.floor(t / this.#epochS));
      last = Math.max(last, Math.floor(t / this.#epochS) + 2);
    }
    const epochs = new Map<number, ComplexField>();
    for (let e = first; e <= last; e++) epochs.set(e, this.#accumulate(lit, geometry, e, last - first + 1));
    const out = { re: new Float32Array(lit.length * m), im: new Float32Array(lit.length * m) };
    for (let f = 0; f < lit.length; f++) {
      const position = timesS[f]! / this.#epochS;
      for (let i = 0; i < m; i++) {
        const u = position + phase[i]!;
        const e = Math.floor(u);
        const a = Math.cos((Math.PI / 2) * (u - e));
        const b = Math.sin((Math.PI / 2) * (u - e));
        const from = epochs.get(e)!;
        const to = epochs.get(e + 1)!;
        const k = f * m + i;
        out.re[k] = a * from.re[k]! + b * to.re[k]!;
        out.im[k] = a * from.im[k]! + b * to.im[k]!;
      }
    }
    return out;
  }

  #pixelPhases(pixels: Int32Array): Float64Array {
    if (this.#phases?.pixels !== pixels) {
      const phase = new Float64Array(pixels.length);
      for (let i = 0; i < pixels.length; i++)
        phase[i] = uniform01(this.#rng.block(Stream.driftPhase, pixels[i]!, 0)[0]!);
      this.#phases = { pixels, phase };
    }
    return this.#phases.phase;
  }

  /** N_epoch·x for every frame. `epochsInUse` sizes the cache: that many matrices must fit together. */
  #accumulate(lit: Int32Array[], geometry: FieldGeometry, epoch: number, epochsInUse: number): ComplexField {
    const { mirrors, pixels } = geometry;
    const m = pixels.length;
    const frames = lit.length;
    const re = new Float32Array(frames * m);
    const im = new Float32Array(frames * m);
    const cached = this.#cachedMatrix(geometry, epoch, epochsInUse);
    const packed = this.#kernel === 'lists' ? undefined : packLit(lit, mirrors.length);
    const useTables = packed !== undefined && (this.#kernel === 'tables' || packed.tableWorkRatio < TABLE_WORK_RATIO);
    const table = useTables ? new GroupTable(Math.min(m, PIXEL_BLOCK)) : undefined;
    const cursor = new Int32Array(frames);
    const blockLit = litBlocks(lit, mirrors.length);
    const tileRe = cached ? undefined : new Float32Array(PIXEL_BLOCK * MIRROR_BLOCK);
    const tileIm = cached ? undefined : new Float32Array(PIXEL_BLOCK * MIRROR_BLOCK);
    for (let p0 = 0; p0 < m; p0 += PIXEL_BLOCK) {
      const p1 = Math.min(m, p0 + PIXEL_BLOCK);
      const np = p1 - p0;
      cursor.fill(0);
      for (let q0 = 0; q0 < mirrors.length; q0 += MIRROR_BLOCK) {
        const q1 = Math.min(mirrors.length, q0 + MIRROR_BLOCK);
        let tile: Tile;
        if (cached) {
          tile = { re: cached.re, im: cached.im, offset: p0, colStride: m };
        } else {
          if (!blockLit[q0 / MIRROR_BLOCK]) continue;
          fillTile(this.#rng, epoch, pixels, p0, p1, mirrors, q0, q1, tileRe!, tileIm!);
          tile = { re: tileRe!, im: tileIm!, offset: -q0 * np, colStride: np };
        }
        if (table) {
          table.accumulate(tile, np, q0, q1, packed!, frames, re, im, m, p0);
          continue;
        }
        for (let f = 0; f < frames; f++) {
          const list = lit[f]!;
          let c = cursor[f]!;
          const out = f * m + p0;
          while (c < list.length && list[c]! < q1) {
            const base = tile.offset + list[c]! * tile.colStride;
            for (let p = 0; p < np; p++) {
              re[out + p] += tile.re[base + p]!;
              im[out + p] += tile.im[base + p]!;
            }
            c++;
          }
          cursor[f] = c;
        }
      }
    }
    if (geometry.outsideLitMirrors > 0) this.#addOutsideField(re, im, geometry, epoch);
    return { re, im };
  }

  /** The sum of K i.i.d. CN(0, 1) entries is CN(0, K): the fixed pattern's field is drawn whole, not summed. */
  #addOutsideField(re: Float32Array, im: Float32Array, geometry: FieldGeometry, epoch: number): void {
    const m = geometry.pixels.length;
    const amplitude = Math.sqrt(geometry.outsideLitMirrors);
    const zr = new Float32Array(m);
    const zi = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      const w = this.#rng.block(Stream.outsideField, geometry.pixels[i]!, epoch);
      const r = amplitude * Math.sqrt(-Math.log(uniform01(w[0]!)));
      const theta = 2 * Math.PI * uniform01(w[1]!);
      zr[i] = r * Math.cos(theta);
      zi[i] = r * Math.sin(theta);
    }
    for (let i = 0; i < re.length; i++) {
      re[i] += zr[i % m]!;
      im[i] += zi[i % m]!;
    }
  }

  #cachedMatrix(geometry: FieldGeometry, epoch: number, epochsInUse: number): ComplexField | undefined {
    const { mirrors, pixels } = geometry;
    if (mirrors.length * pixels.length * 8 * epochsInUse > this.#cacheBudgetBytes) return undefined;
    const key = `${mirrors.length}:${hashIndices(mirrors)}|${pixels.length}:${hashIndices(pixels)}`;
    if (this.#cache?.key !== key) this.#cache = { key, matrices: new Map() };
    const matrices = this.#cache.matrices;
    let matrix = matrices.get(epoch);
    if (!matrix) {
      // Drift moves forward: epochs older than the ones in use are not needed again.
      for (const old of matrices.keys()) if (old < epoch - epochsInUse) matrices.delete(old);
      const m = pixels.length;
      matrix = { re: new Float32Array(mirrors.length * m), im: new Float32Array(mirrors.length * m) };
      const tileRe = new Float32Array(m * MIRROR_BLOCK);
      const tileIm = new Float32Array(m * MIRROR_BLOCK);
      for (let q0 = 0; q0 < mirrors.length; q0 += MIRROR_BLOCK) {
        const q1 = Math.min(mirrors.length, q0 + MIRROR_BLOCK);
        fillTile(this.#rng, epoch, pixels, 0, m, mirrors, q0, q1, tileRe, tileIm);
        matrix.re.set(tileRe.subarray(0, (q1 - q0) * m), q0 * m);
        matrix.im.set(tileIm.subarray(0, (q1 - q0) * m), q0 * m);
      }
      matrices.set(epoch, matrix);
    }
    return matrix;
  }
}

function hashIndices(a: Int32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * Generates entries (pixels[p0..p1), mirrors[q0..q1)) of N_epoch column-major: entry (p, q) at
 * `(q − q0)·(p1 − p0) + (p − p0)`. One Philox block holds two entries: mirrors 2k and 2k+1 of the same pixel share
 * counter (pixel, k, epoch).
 */
export function fillTile(
  rng: CounterRng,
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
    const pairsNext = (mirror & 1) === 0 && q + 1 < q1 && mirrors[q + 1] === mirror + 1;
    const col = (q - q0) * np;
    for (let p = p0; p < p1; p++) {
      const w = rng.block(Stream.medium, pixels[p]!, mirror >>> 1, epoch);
      const i = col + p - p0;
      const half = (mirror & 1) * 2;
      let r = Math.sqrt(-Math.log(uniform01(w[half]!)));
      let theta = 2 * Math.PI * uniform01(w[half + 1]!);
      re[i] = r * Math.cos(theta);
      im[i] = r * Math.sin(theta);
      if (pairsNext) {
        r = Math.sqrt(-Math.log(uniform01(w[2]!)));
        theta = 2 * Math.PI * uniform01(w[3]!);
        re[i + np] = r * Math.cos(theta);
        im[i + np] = r * Math.sin(theta);
      }
    }
    if (pairsNext) q++;
  }
}

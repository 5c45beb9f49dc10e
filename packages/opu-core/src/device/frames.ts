import { ArgumentError } from '../support/errors.js';
import type { CameraBitDepth } from './info.js';

/**
 * A batch of binary DMD frames, bit-packed. Frame `f`, mirror `j` (row-major within the input region) is bit
 * `j & 7` (least significant first) of byte `f * bytesPerFrame + (j >> 3)`. Each frame starts on a byte boundary.
 */
export interface DmdFrames {
  count: number;
  mirrorsPerFrame: number;
  data: Uint8Array;
}

export function bytesPerFrame(mirrorsPerFrame: number): number {
  return (mirrorsPerFrame + 7) >> 3;
}

export function allocateDmdFrames(count: number, mirrorsPerFrame: number): DmdFrames {
  return { count, mirrorsPerFrame, data: new Uint8Array(count * bytesPerFrame(mirrorsPerFrame)) };
}

/** Turns mirror `j` of frame `f` on. */
export function setMirror(frames: DmdFrames, f: number, j: number): void {
  frames.data[f * bytesPerFrame(frames.mirrorsPerFrame) + (j >> 3)]! |= 1 << (j & 7);
}

/** Turns mirrors [start, end) of frame `f` on or off: whole bytes at once, bit by bit only at the two ends. */
export function setMirrorRange(frames: DmdFrames, f: number, start: number, end: number, on = true): void {
  if (end <= start) return;
  const data = frames.data;
  const base = f * bytesPerFrame(frames.mirrorsPerFrame);
  const first = start >> 3;
  const last = (end - 1) >> 3;
  // The mask of bits [start & 7, 8) in the first byte and [0, ((end − 1) & 7) + 1) in the last one.
  const head = (0xff << (start & 7)) & 0xff;
  const tail = 0xff >> (7 - ((end - 1) & 7));
  if (first === last) {
    const mask = head & tail;
    data[base + first] = on ? data[base + first]! | mask : data[base + first]! & ~mask;
    return;
  }
  data[base + first] = on ? data[base + first]! | head : data[base + first]! & ~head;
  data.fill(on ? 0xff : 0, base + first + 1, base + last);
  data[base + last] = on ? data[base + last]! | tail : data[base + last]! & ~tail;
}

/** Turns mirror `j` of frame `f` off. */
export function clearMirror(frames: DmdFrames, f: number, j: number): void {
  frames.data[f * bytesPerFrame(frames.mirrorsPerFrame) + (j >> 3)]! &= ~(1 << (j & 7));
}

export interface PackOptions {
  /** Mirrors per frame when the region is larger than the data: the rest stay off. Default: `valuesPerFrame`. */
  mirrorsPerFrame?: number;
  /** Mirrors each value drives (a macro-pixel of consecutive mirrors). Default 1. */
  mirrorsPerValue?: number;
  /** Name of the argument in error messages. */
  field?: string;
}

/**
 * Packs `count × valuesPerFrame` values that must be exactly 0 or 1 (row-major) onto the first mirrors of DMD
 * frames. Anything else is rejected: a mirror is either on or off, and silently thresholding hides encoder bugs.
 */
export function packDmdFrames(
  bits: ArrayLike<number>,
  count: number,
  valuesPerFrame: number,
  options: PackOptions = {},
): DmdFrames {
  const field = options.field ?? 'x';
  const block = options.mirrorsPerValue ?? 1;
  const mirrorsPerFrame = options.mirrorsPerFrame ?? valuesPerFrame * block;
  if (bits.length !== count * valuesPerFrame) {
    throw new ArgumentError(`has ${bits.length} values, expected ${count} × ${valuesPerFrame}`, {
      field,
      fix: 'pass a row-major batch whose length is batch × inputs',
    });
  }
  const frames = allocateDmdFrames(count, mirrorsPerFrame);
  for (let f = 0; f < count; f++) {
    for (let j = 0; j < valuesPerFrame; j++) {
      const v = bits[f * valuesPerFrame + j]!;
      if (v === 1) for (let q = j * block; q < (j + 1) * block; q++) setMirror(frames, f, q);
      else if (v !== 0) throw notBinary(v, `${field}[${f}][${j}]`);
    }
  }
  return frames;
}

/** Rejects any value but 0 and 1 in `count × valuesPerFrame` row-major values, naming the first one. */
export function requireBinary(bits: ArrayLike<number>, valuesPerFrame: number, field: string): void {
  for (let i = 0; i < bits.length; i++) {
    const v = bits[i]!;
    if (v !== 0 && v !== 1) throw notBinary(v, `${field}[${Math.floor(i / valuesPerFrame)}][${i % valuesPerFrame}]`);
  }
}

function notBinary(value: number, field: string): ArgumentError {
  return new ArgumentError(`value ${value} is not binary`, {
    field,
    fix: 'DMD frames take 0 or 1 only: encode real values first (encoders in opu-core) or use project()',
  });
}

export function unpackDmdFrames(frames: DmdFrames): Uint8Array {
  const { count, mirrorsPerFrame, data } = frames;
  const stride = bytesPerFrame(mirrorsPerFrame);
  const out = new Uint8Array(count * mirrorsPerFrame);
  for (let f = 0; f < count; f++) {
    for (let j = 0; j < mirrorsPerFrame; j++)
      out[f * mirrorsPerFrame + j] = (data[f * stride + (j >> 3)]! >> (j & 7)) & 1;
  }
  return out;
}

const POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >> 1]!;
  return t;
})();

/** Number of mirrors on in frame `f`. Padding bits past `mirrorsPerFrame` are required to be zero. */
export function litMirrors(frames: DmdFrames, f: number): number {
  const stride = bytesPerFrame(frames.mirrorsPerFrame);
  let n = 0;
  for (let b = f * stride, end = b + stride; b < end; b++) n += POPCOUNT[frames.data[b]!]!;
  return n;
}

/** Lit mirrors of every frame of the batch. */
export function litMirrorCounts(frames: DmdFrames): Uint32Array {
  const counts = new Uint32Array(frames.count);
  for (let f = 0; f < frames.count; f++) counts[f] = litMirrors(frames, f);
  return counts;
}

export type CameraPixels = Uint8Array | Uint16Array;

export interface AcquisitionMetadata {
  exposureUs: number;
  frameTimeUs: number;
  gainDb: number;
  /** Start of each frame's exposure on the device clock, µs since the device was opened. */
  timestampsUs: Float64Array;
  /** Mirrors on in each DMD frame (inside the input region). */
  litMirrors: Uint32Array;
  /** Pixels at the ADC maximum or full well in each camera frame: any value > 0 means clipped data. */
  saturatedPixels: Uint32Array;
  /** How the batch crossed the link to the device, for backends that have one (a serial line). */
  transfer?: TransferMetadata;
}

/** What moving one batch over a device link cost. The frames are whole and intact whatever these say. */
export interface TransferMetadata {
  /** Messages sent again: uploads without an acknowledgement, camera chunks re-requested, a repeated ACQUIRE. */
  retries: number;
  /** Damaged or garbled frames the receiver dropped (CRC, COBS, length). */
  droppedFrames: number;
  /** Intact frames ignored, never used: frames of another session, or replays of earlier frames of this one. */
  staleFrames: number;
  /** Times the device was found holding other settings than the host set: they were set again and the batch repeated. */
  settingsRestored: number;
  bytesSent: number;
  bytesReceived: number;
  wallTimeMs: number;
  /** Of which: sending the DMD frames, until the device acknowledged the last byte. */
  uploadMs: number;
  /** Of which: from the request to show them until the last camera byte arrived (includes the device's time). */
  streamMs: number;
}

/** Camera frames, row-major within the output ROI, one per DMD frame, in order. */
export interface CameraFrames {
  count: number;
  widthPx: number;
  heightPx: number;
  bitDepth: CameraBitDepth;
  /** `Uint8Array` for 8-bit cameras, `Uint16Array` for 10- and 12-bit. */
  data: CameraPixels;
  meta: AcquisitionMetadata;
}

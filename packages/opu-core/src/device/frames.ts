import { ArgumentError } from '../errors.js';
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

/**
 * Packs `count × mirrorsPerFrame` values that must be exactly 0 or 1 (row-major) into DMD frames.
 * Anything else is rejected: a DMD mirror is either on or off, and silently thresholding hides encoder bugs.
 */
export function packDmdFrames(bits: ArrayLike<number>, count: number, mirrorsPerFrame: number, field = 'x'): DmdFrames {
  if (bits.length !== count * mirrorsPerFrame) {
    throw new ArgumentError(`has ${bits.length} values, expected ${count} × ${mirrorsPerFrame}`, {
      field,
      fix: 'pass a row-major batch whose length is batch × inputs',
    });
  }
  const frames = allocateDmdFrames(count, mirrorsPerFrame);
  const stride = bytesPerFrame(mirrorsPerFrame);
  for (let f = 0; f < count; f++) {
    const base = f * mirrorsPerFrame;
    const out = f * stride;
    for (let j = 0; j < mirrorsPerFrame; j++) {
      const v = bits[base + j]!;
      if (v === 1) frames.data[out + (j >> 3)]! |= 1 << (j & 7);
      else if (v !== 0) {
        throw new ArgumentError(`value ${v} is not binary`, {
          field: `${field}[${f}][${j}]`,
          fix: 'DMD frames take 0 or 1 only: encode real values first (e.g. with SeparatedBitPlaneEncoder)',
        });
      }
    }
  }
  return frames;
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

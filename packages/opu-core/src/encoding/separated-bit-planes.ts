import { ArgumentError } from '../support/errors.js';
import { batchRows, choiceOption, integerOption } from './checks.js';
import type { Encoder } from './encoder.js';

/**
 * Separated bit-plane code for real vectors on a binary modulator. Each row is scaled by `s`, its positive and
 * negative parts are quantized separately to `p` bits, and each bit becomes one binary frame. Because the code is a
 * fixed linear combination of its planes, any linear map applied to the planes can be recombined into that map
 * applied to the quantized row: `decode(linear(encode(x))) == linear(quantized x)`.
 */

export type BitPlaneScale = 'row' | 'batch';

export interface BitPlanes {
  /** `(rows × 2p) × features`, 0/1. Row `r`'s positive planes are `r·2p + b`, its negative planes `r·2p + p + b`. */
  planes: Uint8Array;
  rows: number;
  features: number;
  precisionBits: number;
  /** The `s` each row was quantized against, one per row (the same value for every row with scale 'batch'). */
  scales: Float32Array;
}

export interface SeparatedBitPlaneOptions {
  /** Bits per sign part, 1..16; default 6 (lightonml's default). */
  precisionBits?: number;
  /** Quantize against each row's max |x|, or the whole batch's (default, as lightonml does). */
  scale?: BitPlaneScale;
}

const DEFAULT_PRECISION_BITS = 6;
const MAX_PRECISION_BITS = 16;

/** Weight of plane `b` (b = 0 is the MSB) in units of the scale: `2^(p−1−b) / (2^p − 1)`. */
export function planeWeights(precisionBits: number): Float64Array {
  integerOption(precisionBits, 1, MAX_PRECISION_BITS, 'precisionBits');
  const top = 2 ** precisionBits - 1;
  return Float64Array.from({ length: precisionBits }, (_, b) => 2 ** (precisionBits - 1 - b) / top);
}

export class SeparatedBitPlaneEncoder implements Encoder<BitPlanes> {
  readonly precisionBits: number;
  readonly scale: BitPlaneScale;

  constructor(options: SeparatedBitPlaneOptions = {}) {
    this.precisionBits = integerOption(
      options.precisionBits ?? DEFAULT_PRECISION_BITS,
      1,
      MAX_PRECISION_BITS,
      'options.precisionBits',
    );
    this.scale = choiceOption(options.scale ?? 'batch', ['row', 'batch'], 'options.scale');
  }

  /**
   * Encodes the batch into `into` when given (at least rows × 2p × features bytes): a caller that encodes a large
   * batch slice by slice reuses one buffer and never holds every plane at once. With scale 'row', a slice of rows
   * encodes exactly as it does within its batch.
   */
  encode(x: Float32Array, features: number, into?: Uint8Array): BitPlanes {
    const rows = batchRows(x, features);
    const p = this.precisionBits;
    const top = 2 ** p - 1;
    const scales = rowScales(x, features, rows, this.scale);
    const planes = planeBuffer(rows * 2 * p * features, into);
    for (let r = 0; r < rows; r++) {
      const s = scales[r]!;
      // A zero scale means an all-zero row: its planes stay zero (and 0/0 must not reach Math.round).
      if (s === 0) continue;
      for (let f = 0; f < features; f++) {
        const v = x[r * features + f]!;
        const q = Math.round((Math.abs(v) / s) * top);
        const first = (r * 2 * p + (v < 0 ? p : 0)) * features + f;
        for (let b = 0; b < p; b++) planes[first + b * features] = (q >> (p - 1 - b)) & 1;
      }
    }
    return { planes, rows, features, precisionBits: p, scales };
  }
}

/** `length` zeroed bytes: the start of `into`, or a new buffer. */
function planeBuffer(length: number, into: Uint8Array | undefined): Uint8Array {
  if (into === undefined) return new Uint8Array(length);
  if (into.length < length) {
    throw new ArgumentError(`holds ${into.length} bytes, the planes need ${length}`, {
      field: 'into',
      fix: 'pass a buffer of at least rows × 2 × precisionBits × features bytes',
    });
  }
  return into.subarray(0, length).fill(0);
}

/** Each row's max |x|, or the batch's max repeated for every row. */
function rowScales(x: Float32Array, features: number, rows: number, scale: BitPlaneScale): Float32Array {
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let i = r * features, end = i + features; i < end; i++) max = Math.max(max, Math.abs(x[i]!));
    scales[r] = max;
  }
  if (scale === 'batch') scales.fill(scales.reduce((a, b) => Math.max(a, b), 0));
  return scales;
}

export class SeparatedBitPlaneDecoder {
  /**
   * Recombines `y`, the planes passed through a linear map with `outputs` outputs (`(rows × 2p) × outputs`,
   * row-major), into `rows × outputs`: `out_r = s_r · Σ_b w_b · (y[r·2p + b] − y[r·2p + p + b])`.
   */
  decode(y: Float32Array, planes: Pick<BitPlanes, 'rows' | 'precisionBits' | 'scales'>, outputs: number): Float32Array {
    const { rows, scales } = planes;
    const p = planes.precisionBits;
    const weights = planeWeights(p);
    if (scales.length !== rows) {
      throw new ArgumentError(`has ${scales.length} entries for ${rows} rows`, {
        field: 'planes.scales',
        fix: 'pass the BitPlanes returned by encode, with one scale per row',
      });
    }
    const planeRows = batchRows(y, outputs, 'y', 'outputs');
    if (planeRows !== rows * 2 * p) {
      throw new ArgumentError(`has ${planeRows} rows, expected ${rows} × 2 × ${p} planes`, {
        field: 'y',
        fix: 'pass the linear map of every plane from encode, in order',
      });
    }
    const out = new Float32Array(rows * outputs);
    const sum = new Float64Array(outputs);
    for (let r = 0; r < rows; r++) {
      sum.fill(0);
      for (let b = 0; b < p; b++) {
        const weight = scales[r]! * weights[b]!;
        const positive = (r * 2 * p + b) * outputs;
        const negative = positive + p * outputs;
        for (let o = 0; o < outputs; o++) sum[o]! += weight * (y[positive + o]! - y[negative + o]!);
      }
      out.set(sum, r * outputs);
    }
    return out;
  }
}

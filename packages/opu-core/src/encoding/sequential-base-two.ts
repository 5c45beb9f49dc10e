import { batchRows, fitRows, integerOption, requireFitted } from './checks.js';
import type { FittedEncoder } from './encoder.js';

export interface SequentialBaseTwoOptions {
  /** Bits of the quantized value, 1..8. Each feature takes `2^bits − 1` output columns. */
  bits: number;
}

export interface ValueRange {
  min: number;
  max: number;
}

/**
 * Quantizes each value to `q` in `[0, 2^bits − 1]` over the batch's global range and writes bit `k` of `q` `2^k`
 * times, so that the plain sum of a feature's group is `q`: an optical sum (or any linear map applied per group)
 * then sees the value with its binary weights already in place. Layout is feature-major: feature `f` occupies
 * columns `[f · (2^bits − 1), (f + 1) · (2^bits − 1))`, bit 0 first.
 */
export class SequentialBaseTwoEncoder implements FittedEncoder {
  readonly bits: number;
  #range: ValueRange | undefined;

  constructor(options: SequentialBaseTwoOptions) {
    this.bits = integerOption(options.bits, 1, 8, 'options.bits');
  }

  /** Output columns per feature. */
  get groupSize(): number {
    return 2 ** this.bits - 1;
  }

  /** The global min and max learned by `fit`. */
  get range(): ValueRange | undefined {
    return this.#range;
  }

  fit(x: Float32Array, features: number): this {
    fitRows(x, features);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < x.length; i++) {
      if (x[i]! < min) min = x[i]!;
      if (x[i]! > max) max = x[i]!;
    }
    this.#range = { min, max };
    return this;
  }

  encode(x: Float32Array, features: number): Uint8Array {
    batchRows(x, features);
    const { min, max } = requireFitted(this.#range, 'SequentialBaseTwoEncoder.range');
    const top = this.groupSize;
    // A constant fit batch has no scale: every value maps to level 0, which decodes back to that constant.
    const perUnit = max > min ? top / (max - min) : 0;
    const out = new Uint8Array(x.length * top);
    for (let i = 0; i < x.length; i++) {
      // Values outside the fitted range clip to the end levels, as lightonml does, rather than wrap around.
      const q = Math.min(top, Math.max(0, Math.round((x[i]! - min) * perUnit)));
      const group = i * top;
      for (let k = 0; k < this.bits; k++) {
        if (((q >> k) & 1) === 0) continue;
        const start = group + 2 ** k - 1;
        out.fill(1, start, start + 2 ** k);
      }
    }
    return out;
  }

  /** Sums each feature's group back to its level and maps it onto the fitted range; `rows × features` out. */
  decode(bits: Uint8Array | Float32Array, features: number): Float32Array {
    const top = this.groupSize;
    integerOption(features, 1, Number.MAX_SAFE_INTEGER, 'features');
    batchRows(bits, features * top, 'bits');
    const { min, max } = requireFitted(this.#range, 'SequentialBaseTwoEncoder.range');
    const step = (max - min) / top;
    const out = new Float32Array(bits.length / top);
    for (let i = 0; i < out.length; i++) {
      let q = 0;
      for (let c = i * top, end = c + top; c < end; c++) q += bits[c]!;
      out[i] = min + q * step;
    }
    return out;
  }
}

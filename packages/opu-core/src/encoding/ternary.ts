import { ArgumentError } from '../support/errors.js';
import { batchRows, choiceOption, finiteOption } from './checks.js';
import type { Encoder } from './encoder.js';

export type TernaryReference = 'row-max' | 'absolute';

export interface TernaryOptions {
  /** Magnitudes at or below it become 0; default 0.1. A fraction of the row's max |x| with 'row-max'. */
  threshold?: number;
  /** 'row-max' (default) scales the threshold by each row's max |x|; 'absolute' uses it as is. */
  relativeTo?: TernaryReference;
}

/**
 * Ternarizes errors for DFA on binary optics: −1, 0 or +1 per value, `sign(x)` where `|x|` exceeds the cutoff.
 * The ±1 parts then go to the device as two binary frames; low-precision errors still train.
 */
export class TernaryEncoder implements Encoder<Int8Array> {
  readonly threshold: number;
  readonly relativeTo: TernaryReference;

  constructor(options: TernaryOptions = {}) {
    this.relativeTo = choiceOption(options.relativeTo ?? 'row-max', ['row-max', 'absolute'], 'options.relativeTo');
    const threshold = finiteOption(options.threshold ?? 0.1, 0, Infinity, 'options.threshold');
    if (this.relativeTo === 'row-max' && threshold >= 1) {
      // No value exceeds its row's max: every output would be 0, almost surely an absolute threshold in the wrong mode.
      throw new ArgumentError(`is ${threshold}, which zeroes every row relative to its max`, {
        field: 'options.threshold',
        fix: "pass a fraction in [0, 1), or set relativeTo: 'absolute'",
      });
    }
    this.threshold = threshold;
  }

  encode(x: Float32Array, features: number): Int8Array {
    const rows = batchRows(x, features);
    const out = new Int8Array(x.length);
    for (let r = 0; r < rows; r++) {
      const start = r * features;
      const end = start + features;
      let cutoff = this.threshold;
      if (this.relativeTo === 'row-max') {
        let max = 0;
        for (let i = start; i < end; i++) max = Math.max(max, Math.abs(x[i]!));
        cutoff *= max;
      }
      for (let i = start; i < end; i++) {
        const v = x[i]!;
        if (Math.abs(v) > cutoff) out[i] = v > 0 ? 1 : -1;
      }
    }
    return out;
  }
}

import { batchRows, finiteOption, fitRows, requireFitted, requireFittedFeatures } from './checks.js';
import type { FittedEncoder } from './encoder.js';
import { featureQuantiles } from './quantiles.js';

export interface BinaryThresholdOptions {
  /** One threshold for every feature. Without it, `fit` learns each feature's median. */
  threshold?: number;
}

/** One bit per value: 1 where the value is above its feature's threshold. */
export class BinaryThresholdEncoder implements FittedEncoder {
  readonly threshold: number | undefined;
  #medians: Float64Array | undefined;

  constructor(options: BinaryThresholdOptions = {}) {
    this.threshold =
      options.threshold === undefined
        ? undefined
        : finiteOption(options.threshold, -Infinity, Infinity, 'options.threshold');
  }

  /** The learned per-feature medians, or undefined when a fixed threshold is used or before `fit`. */
  get medians(): Float64Array | undefined {
    return this.#medians;
  }

  fit(x: Float32Array, features: number): this {
    const rows = fitRows(x, features);
    if (this.threshold === undefined) this.#medians = featureQuantiles(x, features, rows, [0.5]);
    return this;
  }

  encode(x: Float32Array, features: number): Uint8Array {
    batchRows(x, features);
    const out = new Uint8Array(x.length);
    const fixed = this.threshold;
    if (fixed !== undefined) {
      for (let i = 0; i < x.length; i++) out[i] = x[i]! > fixed ? 1 : 0;
      return out;
    }
    const medians = requireFitted(this.#medians, 'BinaryThresholdEncoder.medians');
    requireFittedFeatures(features, medians.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i]! > medians[i % features]! ? 1 : 0;
    return out;
  }
}

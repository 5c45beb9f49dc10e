import { batchRows, choiceOption, fitRows, integerOption, requireFitted, requireFittedFeatures } from './checks.js';
import type { FittedEncoder } from './encoder.js';
import { featureQuantiles } from './quantiles.js';

export type ThermometerSpacing = 'linspace' | 'quantile';

export interface ThermometerOptions {
  /** Number of levels a value can fall into; each feature gets `levels − 1` thresholds. At least 2. */
  levels: number;
  /** Thresholds evenly spaced between each feature's min and max (default), or at its quantiles. */
  spacing?: ThermometerSpacing;
}

/**
 * Multi-threshold (thermometer) code: a value sets one bit per threshold it exceeds. Output is threshold-major,
 * `rows × (levels − 1) × features`, so column `t * features + f` is `x[f] > thresholds[t * features + f]`.
 */
export class ThermometerEncoder implements FittedEncoder {
  readonly levels: number;
  readonly spacing: ThermometerSpacing;
  #thresholds: Float64Array | undefined;

  constructor(options: ThermometerOptions) {
    this.levels = integerOption(options.levels, 2, Number.MAX_SAFE_INTEGER, 'options.levels');
    this.spacing = choiceOption(options.spacing ?? 'linspace', ['linspace', 'quantile'], 'options.spacing');
  }

  /** Learned thresholds, threshold-major: `(levels − 1) × features`. */
  get thresholds(): Float64Array | undefined {
    return this.#thresholds;
  }

  fit(x: Float32Array, features: number): this {
    const rows = fitRows(x, features);
    const fractions = Array.from({ length: this.levels - 1 }, (_, t) => (t + 1) / this.levels);
    this.#thresholds =
      this.spacing === 'quantile'
        ? featureQuantiles(x, features, rows, fractions)
        : linspaceThresholds(x, features, rows, fractions);
    return this;
  }

  encode(x: Float32Array, features: number): Uint8Array {
    const rows = batchRows(x, features);
    const thresholds = requireFitted(this.#thresholds, 'ThermometerEncoder.thresholds');
    requireFittedFeatures(features, thresholds.length / (this.levels - 1));
    const width = thresholds.length;
    const out = new Uint8Array(rows * width);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < width; c++) out[r * width + c] = x[r * features + (c % features)]! > thresholds[c]! ? 1 : 0;
    }
    return out;
  }
}

/** Thresholds at `min + fraction · (max − min)` per feature: the interior points of numpy's linspace. */
function linspaceThresholds(x: Float32Array, features: number, rows: number, fractions: number[]): Float64Array {
  const out = new Float64Array(fractions.length * features);
  for (let f = 0; f < features; f++) {
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < rows; r++) {
      const v = x[r * features + f]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    for (let t = 0; t < fractions.length; t++) out[t * features + f] = min + fractions[t]! * (max - min);
  }
  return out;
}

import { ArgumentError } from 'opu-core';
import { kernels } from 'opu-native';
import { countArg, matrixArg } from './matrix-args.js';

/**
 * The centred Gram matrix X̃ᵀX̃ and X̃ᵀỸ of a feature matrix X that arrives in row blocks and is never stored whole
 * (60 000 × 20 000 float32 features are 4.8 GB; their Gram is 1.6 GB). X̃ = X − 1x̄ᵀ, Ỹ = Y − 1ȳᵀ.
 *
 * Rows are shifted by the first block's column means before the float32 products: optical features have means as
 * large as their spread, and a Gram of the raw rows would lose to cancellation the digits that centring afterwards
 * needs. With S = X − 1sᵀ and d = x̄ − s, SᵀS = X̃ᵀX̃ + n·ddᵀ exactly, and d is small, so the correction is too.
 */
export interface CentredGram {
  /** features × features, row-major, symmetric. */
  gram: Float32Array;
  /** X̃ᵀỸ, features × targets. */
  xty: Float32Array;
  /** x̄, per feature. */
  means: Float64Array;
  /** ȳ, per target. */
  yMeans: Float64Array;
  rows: number;
  features: number;
  targets: number;
}

/** Columns of the Gram computed by one GEMM: only its upper block triangle is, and mirrored at the end. */
const BLOCK_COLUMNS = 2048;

export class FeatureGramAccumulator {
  readonly features: number;
  readonly targets: number;
  readonly #yMeans: Float64Array;
  readonly #gram: Float32Array;
  readonly #xty: Float32Array;
  readonly #sums: Float64Array;
  readonly #ySums: Float64Array;
  #shift: Float64Array | undefined;
  #rows = 0;

  /** `yMeans`: the targets' column means over all the rows that will be added (known before the features are). */
  constructor(features: number, targets: number, yMeans: Float64Array) {
    this.features = countArg(features, 'features');
    this.targets = countArg(targets, 'targets');
    if (yMeans.length !== targets) {
      throw new ArgumentError(`has ${yMeans.length} values for ${targets} targets`, {
        field: 'yMeans',
        fix: 'pass one mean per target',
      });
    }
    this.#yMeans = yMeans;
    this.#gram = new Float32Array(features * features);
    this.#xty = new Float32Array(features * targets);
    this.#sums = new Float64Array(features);
    this.#ySums = new Float64Array(targets);
  }

  /**
   * Adds `rows` rows: the first `features` columns of `block` (rows × stride, row-major) and their targets `y`
   * (rows × targets).
   */
  add(block: Float32Array, rows: number, stride: number, y: Float32Array): void {
    const m = this.features;
    const t = this.targets;
    countArg(rows, 'rows');
    countArg(stride, 'stride', m);
    matrixArg(block, rows, stride, 'block');
    matrixArg(y, rows, t, 'y');
    if (!this.#shift) {
      const shift = new Float64Array(m);
      for (let r = 0; r < rows; r++) for (let j = 0; j < m; j++) shift[j]! += block[r * stride + j]!;
      this.#shift = shift.map((s) => s / rows);
    }
    const shift = this.#shift;
    const shifted = new Float32Array(rows * m);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        const v = block[r * stride + j]! - shift[j]!;
        shifted[r * m + j] = v;
        this.#sums[j]! += v;
      }
    }
    const yCentred = new Float32Array(rows * t);
    for (let i = 0; i < yCentred.length; i++) {
      yCentred[i] = y[i]! - this.#yMeans[i % t]!;
      this.#ySums[i % t]! += yCentred[i]!;
    }
    for (let j0 = 0; j0 < m; j0 += BLOCK_COLUMNS) {
      const wj = Math.min(BLOCK_COLUMNS, m - j0);
      for (let i0 = 0; i0 <= j0; i0 += BLOCK_COLUMNS) {
        const wi = Math.min(BLOCK_COLUMNS, m - i0);
        kernels.sgemm(wi, wj, rows, shifted.subarray(i0), shifted.subarray(j0), this.#gram.subarray(i0 * m + j0), {
          transA: true,
          lda: m,
          ldb: m,
          ldc: m,
          beta: 1,
        });
      }
    }
    kernels.sgemm(m, t, rows, shifted, yCentred, this.#xty, { transA: true, beta: 1 });
    this.#rows += rows;
  }

  /** The centred products over every row added; the accumulator's arrays are handed over, so add no more rows. */
  finish(): CentredGram {
    const m = this.features;
    const t = this.targets;
    const n = countArg(this.#rows, 'rows added');
    const d = this.#sums.map((s) => s / n);
    const gram = this.#gram;
    // Below the diagonal only the diagonal blocks were computed (their two halves may round apart): mirror all.
    for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) gram[i * m + j] = gram[j * m + i]!;
    for (let i = 0; i < m; i++) {
      const ndi = n * d[i]!;
      for (let j = 0; j < m; j++) gram[i * m + j] = gram[i * m + j]! - ndi * d[j]!;
    }
    const xty = this.#xty;
    for (let i = 0; i < m; i++) {
      for (let c = 0; c < t; c++) xty[i * t + c] = xty[i * t + c]! - d[i]! * this.#ySums[c]!;
    }
    const means = d.map((v, j) => v + this.#shift![j]!);
    return { gram, xty, means, yMeans: this.#yMeans, rows: n, features: m, targets: t };
  }
}

/**
 * Turns `g` in place into the centred Gram of the standardized features (X̃·D, D = 1/std per feature, as
 * fitStandardization would learn from the rows), and returns that standardization. Constant features keep scale 1.
 */
export function standardizeGram(g: CentredGram): { means: Float32Array; scales: Float32Array } {
  const m = g.features;
  const scales = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const variance = g.gram[j * m + j]! / g.rows;
    scales[j] = variance > 0 ? 1 / Math.sqrt(variance) : 1;
  }
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) g.gram[i * m + j] = g.gram[i * m + j]! * scales[i]! * scales[j]!;
    for (let c = 0; c < g.targets; c++) g.xty[i * g.targets + c] = g.xty[i * g.targets + c]! * scales[i]!;
  }
  const means = Float32Array.from(g.means);
  g.means.fill(0);
  return { means, scales };
}

import { ArgumentError, BinaryThresholdEncoder, type CostTally, type IntensityFeatures } from 'opu-core';
import { kernels } from 'opu-native';
import { countArg, matrixArg } from './matrix-args.js';

/**
 * Optical random features (Saade et al. 2016): binary inputs x shown on the DMD, features f(x) = |R x|² read by the
 * camera. In `Opu.transform`'s units (one lit element's mean intensity, so σ² = 1 per element, as for the digital twin
 * `GaussianOperator`) their kernel is
 * E[f(x)·f(x')] = ‖x‖²‖x'‖² + ⟨x,x'⟩²: a degree-2 polynomial kernel on the binary inputs, approximated by a linear
 * model on m features with an error shrinking as 1/√m.
 */

export interface RandomFeatureOptions {
  /** Pixels above this are lit mirrors (default 0.25, for MNIST scaled to [0, 1]). Ignored with `encode`. */
  threshold?: number;
  /** Turns rows × inputs real values into 0/1 (e.g. an opu-core encoder's transform); replaces the threshold. */
  encode?: (x: Float32Array, inputs: number) => Uint8Array;
  /**
   * Divide each row's features by its number of lit elements: the kernel becomes 1 + cos²(x, x'), which ignores how
   * thick a digit's strokes are, and the ridge system is better conditioned (about half the CG iterations on MNIST).
   */
  perLitElement?: boolean;
  /** Rows per `transform()` call: bounds the memory of one call and paces the progress reports (default 1000). */
  batchRows?: number;
  onProgress?: (progress: { rowsDone: number; rowsPlanned: number }) => void;
  /** Every `transform()` call's cost (frames, device and wall time, retries) is added to this tally. */
  cost?: CostTally;
}

/** Per-feature affine map to zero mean and unit variance, learned on training features. */
export interface FeatureStandardization {
  means: Float32Array;
  scales: Float32Array;
}

/** Default binarization threshold: keeps the strokes of MNIST digits (about 19% of pixels) and drops the blur. */
export const DEFAULT_THRESHOLD = 0.25;

/** The rows as DMD frames: 0/1 per input, by `options.encode` or a fixed threshold. */
export function binarize(
  x: Float32Array,
  rows: number,
  inputs: number,
  options: RandomFeatureOptions = {},
): Uint8Array {
  matrixArg(x, rows, inputs, 'x');
  const bits = options.encode
    ? options.encode(x, inputs)
    : new BinaryThresholdEncoder({ threshold: options.threshold ?? DEFAULT_THRESHOLD }).encode(x, inputs);
  if (bits.length !== rows * inputs) {
    throw new ArgumentError(`returned ${bits.length} values for ${rows} × ${inputs}`, {
      field: 'options.encode',
      fix: 'use an encoder that returns one bit per input (e.g. BinaryThresholdEncoder)',
    });
  }
  return bits;
}

/**
 * rows × operator.outputs random features |R x|² of real rows (binarized first, see `binarize`), measured
 * `batchRows` at a time by any `IntensityFeatures`: an `Opu`, or its digital twin `GaussianOperator`. Pass bits
 * already binarized as a Uint8Array to skip the encoding.
 */
export async function opticalRandomFeatures(
  operator: IntensityFeatures,
  x: Float32Array | Uint8Array,
  rows: number,
  options: RandomFeatureOptions = {},
): Promise<Float32Array> {
  const out = new Float32Array(countArg(rows, 'rows', 0) * operator.outputs);
  for await (const block of opticalRandomFeatureBlocks(operator, x, rows, options)) {
    out.set(block.features, block.firstRow * operator.outputs);
  }
  return out;
}

/**
 * The same features `batchRows` rows at a time, each block (rows × operator.outputs) handed over as it is measured
 * and never kept: for consumers that reduce them (a Gram matrix, predictions) without storing rows × outputs floats.
 */
export async function* opticalRandomFeatureBlocks(
  operator: IntensityFeatures,
  x: Float32Array | Uint8Array,
  rows: number,
  options: RandomFeatureOptions = {},
): AsyncGenerator<{ firstRow: number; rows: number; features: Float32Array }> {
  countArg(rows, 'rows', 0);
  const { inputs, outputs } = operator;
  const batchRows = countArg(options.batchRows ?? 1000, 'options.batchRows');
  const bits = x instanceof Uint8Array ? bitsArg(x, rows, inputs) : binarize(x, rows, inputs, options);
  for (let r0 = 0; r0 < rows; r0 += batchRows) {
    const r1 = Math.min(rows, r0 + batchRows);
    const result = await operator.transform(bits.subarray(r0 * inputs, r1 * inputs));
    options.cost?.add(result.meta);
    const features = result.data;
    if (options.perLitElement) divideByLitCount(bits.subarray(r0 * inputs, r1 * inputs), features, inputs, outputs);
    options.onProgress?.({ rowsDone: r1, rowsPlanned: rows });
    yield { firstRow: r0, rows: r1 - r0, features };
  }
}

/** Divides each row of `out` (rows × m) by its lit count in `bits` (rows × inputs). */
function divideByLitCount(bits: Uint8Array, out: Float32Array, inputs: number, m: number) {
  for (let r = 0; r < bits.length / inputs; r++) {
    let lit = 0;
    for (let q = 0; q < inputs; q++) lit += bits[r * inputs + q]!;
    // A blank row has all-zero features (up to noise); dividing by 1 leaves them so.
    const scale = 1 / Math.max(1, lit);
    for (let j = 0; j < m; j++) out[r * m + j]! *= scale;
  }
}

function bitsArg(bits: Uint8Array, rows: number, inputs: number): Uint8Array {
  if (bits.length !== rows * inputs) {
    throw new ArgumentError(`has ${bits.length} values, ${rows} rows × ${inputs} inputs need ${rows * inputs}`, {
      field: 'x',
      fix: "pass one row of the operator's inputs bits per sample",
    });
  }
  return bits;
}

/**
 * Learns per-feature means and standard deviations. Optical features are identically distributed, so this mostly
 * fixes one global scale (features of mean ≈ the lit count, hundreds for MNIST) that would otherwise make the ridge
 * λ depend on the binarization; constant features keep scale 1.
 */
export function fitStandardization(features: Float32Array, rows: number, cols: number): FeatureStandardization {
  countArg(rows, 'rows');
  countArg(cols, 'cols');
  matrixArg(features, rows, cols, 'features');
  const sums = new Float64Array(cols);
  const squares = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const v = features[r * cols + j]!;
      sums[j]! += v;
      squares[j]! += v * v;
    }
  }
  const means = new Float32Array(cols);
  const scales = new Float32Array(cols);
  for (let j = 0; j < cols; j++) {
    const mean = sums[j]! / rows;
    const variance = Math.max(0, squares[j]! / rows - mean * mean);
    means[j] = mean;
    scales[j] = variance > 0 ? 1 / Math.sqrt(variance) : 1;
  }
  return { means, scales };
}

/** (f − mean)·scale per feature, in place; returns `features`. */
export function standardize(s: FeatureStandardization, features: Float32Array, rows: number): Float32Array {
  const cols = s.means.length;
  matrixArg(features, rows, cols, 'features');
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      features[i] = (features[i]! - s.means[j]!) * s.scales[j]!;
    }
  }
  return features;
}

/** k̂(a, b) = (1/m) Σᵢ fᵢ(a)·fᵢ(b) for every row a of `left` and b of `right` (both × m): rowsLeft × rowsRight. */
export function empiricalKernel(
  left: Float32Array,
  rowsLeft: number,
  right: Float32Array,
  rowsRight: number,
  m: number,
): Float32Array {
  countArg(m, 'm');
  matrixArg(left, rowsLeft, m, 'left');
  matrixArg(right, rowsRight, m, 'right');
  const out = new Float32Array(rowsLeft * rowsRight);
  kernels.sgemm(rowsLeft, rowsRight, m, left, right, out, { transB: true, alpha: 1 / m });
  return out;
}

/**
 * The optical kernel's closed form for a complex Gaussian R with unit variance per element:
 * k(x, x') = ‖x‖²‖x'‖² + ⟨x,x'⟩², rowsLeft × rowsRight, in Float64.
 */
export function opticalKernel(
  left: Uint8Array | Float32Array,
  rowsLeft: number,
  right: Uint8Array | Float32Array,
  rowsRight: number,
  inputs: number,
): Float64Array {
  const a = Float32Array.from(left);
  const b = Float32Array.from(right);
  matrixArg(a, rowsLeft, inputs, 'left');
  matrixArg(b, rowsRight, inputs, 'right');
  // Counts of lit inputs are integers far below 2²⁴: the float32 GEMM computes ⟨x, x'⟩ exactly.
  const dots = new Float32Array(rowsLeft * rowsRight);
  kernels.sgemm(rowsLeft, rowsRight, inputs, a, b, dots, { transB: true });
  const normsA = squaredNorms(a, rowsLeft, inputs);
  const normsB = squaredNorms(b, rowsRight, inputs);
  const out = new Float64Array(rowsLeft * rowsRight);
  for (let i = 0; i < rowsLeft; i++) {
    for (let j = 0; j < rowsRight; j++) {
      const dot = dots[i * rowsRight + j]!;
      out[i * rowsRight + j] = normsA[i]! * normsB[j]! + dot * dot;
    }
  }
  return out;
}

/**
 * Standard deviation of k̂(x, x') over m independent features. With u = aᵀx, v = aᵀx' jointly circular complex
 * Gaussian and ρ = ⟨x,x'⟩²/(‖x‖²‖x'‖²), E[|u|^2p |v|^2q] = p!q!·‖x‖^2p‖x'‖^2q·₂F₁(−p, −q; 1; ρ), so
 * E[f f'] = ‖x‖²‖x'‖²(1 + ρ), E[f² f'²] = 4‖x‖⁴‖x'‖⁴(1 + 4ρ + ρ²) and
 * std k̂ = ‖x‖²‖x'‖²·√(3 + 14ρ + 3ρ²) / √m.
 */
export function opticalKernelSamplingStd(squaredNormX: number, squaredNormY: number, dot: number, m: number): number {
  const scale = squaredNormX * squaredNormY;
  const rho = scale > 0 ? (dot * dot) / scale : 0;
  return (scale * Math.sqrt(3 + 14 * rho + 3 * rho * rho)) / Math.sqrt(m);
}

/** ‖row‖² for each row of a rows × cols matrix, in Float64. */
export function squaredNorms(x: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[r * cols + j]! * x[r * cols + j]!;
    out[r] = s;
  }
  return out;
}

import { ArgumentError } from 'opu-core';
import { kernels } from 'opu-native';
import { countArg, matrixArg, nonNegativeArg } from './matrix-args.js';
import { opticalKernel, squaredNorms } from './random-features.js';

/**
 * Exact kernel ridge regression, the baseline random features approximate: solve (K + λI)α = Ỹ on the training kernel
 * matrix, predict ȳ + K(x, train)·α. The cost is rows³/3 for the factorization, so it is for subsets (a few thousand
 * rows); that is the point of random features.
 *
 * - 'optical': ‖x‖²‖x'‖² + ⟨x,x'⟩², the limit of optical random features as their number grows; pass the binarized
 *   rows the OPU would see.
 * - 'optical-per-lit': the same divided by ‖x‖²‖x'‖², i.e. 1 + cos²(x, x'): the limit of features with
 *   `perLitElement`.
 * - 'rbf': exp(−γ‖x − x'‖²), the usual kernel on raw pixels.
 */
export type KernelName = 'optical' | 'optical-per-lit' | 'rbf';

export interface KernelRidgeOptions {
  kernel: KernelName;
  /** Regularization relative to the mean of the training kernel's diagonal, so one value suits both kernels. */
  relativeLambda: number;
  /** RBF width; default 1/(inputs·variance of the training values), scikit-learn's 'scale'. */
  gamma?: number;
}

export interface KernelRidgeFit {
  kernel: KernelName;
  gamma: number;
  /** The training rows (rows × inputs), needed for every prediction. */
  train: Float32Array;
  rows: number;
  inputs: number;
  /** rows × targets dual coefficients. */
  alpha: Float32Array;
  targetMeans: Float32Array;
  targets: number;
}

export function fitKernelRidge(
  x: Float32Array,
  rows: number,
  inputs: number,
  y: Float32Array,
  targets: number,
  options: KernelRidgeOptions,
): KernelRidgeFit {
  countArg(rows, 'rows');
  countArg(inputs, 'inputs');
  countArg(targets, 'targets');
  matrixArg(x, rows, inputs, 'x');
  matrixArg(y, rows, targets, 'y');
  const relativeLambda = nonNegativeArg(options.relativeLambda, 'options.relativeLambda');
  if (!['optical', 'optical-per-lit', 'rbf'].includes(options.kernel)) {
    throw new ArgumentError(`${String(options.kernel)} is not a kernel`, {
      field: 'options.kernel',
      fix: "pass 'optical', 'optical-per-lit' or 'rbf'",
    });
  }
  const gamma = options.gamma === undefined ? scaleGamma(x, inputs) : nonNegativeArg(options.gamma, 'options.gamma');
  const fit = { kernel: options.kernel, gamma, train: x, rows, inputs, targets };
  const a = kernelMatrix(fit, x, rows);
  let trace = 0;
  for (let i = 0; i < rows; i++) trace += a[i * rows + i]!;
  const lambda = (relativeLambda * trace) / rows;
  for (let i = 0; i < rows; i++) a[i * rows + i]! += lambda;
  if (!kernels.choleskyFactor(a, rows)) {
    throw new ArgumentError('the regularized kernel matrix is not positive definite', {
      field: 'options.relativeLambda',
      fix: 'pass a larger relativeLambda (duplicate rows make K singular)',
    });
  }
  const targetMeans = new Float32Array(targets);
  for (let i = 0; i < y.length; i++) targetMeans[i % targets]! += y[i]! / rows;
  const alpha = new Float64Array(rows * targets);
  for (let i = 0; i < alpha.length; i++) alpha[i] = y[i]! - targetMeans[i % targets]!;
  kernels.choleskySolve(a, rows, alpha, targets);
  return { ...fit, alpha: Float32Array.from(alpha), targetMeans };
}

/** ȳ + K(x, train)·α, rows × targets. */
export function predictKernelRidge(fit: KernelRidgeFit, x: Float32Array, rows: number): Float32Array {
  countArg(rows, 'rows', 0);
  matrixArg(x, rows, fit.inputs, 'x');
  const k = Float32Array.from(kernelMatrix(fit, x, rows));
  const out = new Float32Array(rows * fit.targets);
  for (let r = 0; r < rows; r++) out.set(fit.targetMeans, r * fit.targets);
  if (rows > 0) kernels.sgemm(rows, fit.targets, fit.rows, k, fit.alpha, out, { beta: 1 });
  return out;
}

/** K(x, train), rows × fit.rows, in Float64. */
function kernelMatrix(
  fit: Pick<KernelRidgeFit, 'kernel' | 'gamma' | 'train' | 'rows' | 'inputs'>,
  x: Float32Array,
  rows: number,
): Float64Array {
  if (fit.kernel === 'optical') return opticalKernel(x, rows, fit.train, fit.rows, fit.inputs);
  if (fit.kernel === 'optical-per-lit') {
    const k = opticalKernel(x, rows, fit.train, fit.rows, fit.inputs);
    const litX = squaredNorms(x, rows, fit.inputs);
    const litTrain = squaredNorms(fit.train, fit.rows, fit.inputs);
    // A blank row (no lit element) keeps its raw kernel, as perLitElement leaves its features undivided.
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < fit.rows; j++) k[i * fit.rows + j]! /= Math.max(1, litX[i]!) * Math.max(1, litTrain[j]!);
    }
    return k;
  }
  const dots = new Float32Array(rows * fit.rows);
  kernels.sgemm(rows, fit.rows, fit.inputs, x, fit.train, dots, { transB: true });
  const normsX = squaredNorms(x, rows, fit.inputs);
  const normsTrain = squaredNorms(fit.train, fit.rows, fit.inputs);
  const out = new Float64Array(rows * fit.rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < fit.rows; j++) {
      const distance = Math.max(0, normsX[i]! + normsTrain[j]! - 2 * dots[i * fit.rows + j]!);
      out[i * fit.rows + j] = Math.exp(-fit.gamma * distance);
    }
  }
  return out;
}

function scaleGamma(x: Float32Array, inputs: number): number {
  let sum = 0;
  let squares = 0;
  for (const v of x) {
    sum += v;
    squares += v * v;
  }
  const variance = squares / x.length - (sum / x.length) ** 2;
  return variance > 0 ? 1 / (inputs * variance) : 1;
}

import type { Dataset } from 'dfa-nn';
import { ArgumentError, type CostTally, type IntensityFeatures } from 'opu-core';
import { FeatureGramAccumulator, standardizeGram } from './feature-gram.js';
import { fitKernelRidge, type KernelName, predictKernelRidge } from './kernel-ridge.js';
import { binarize, opticalRandomFeatureBlocks, type RandomFeatureOptions } from './random-features.js';
import {
  classificationError,
  fitRidge,
  fitRidgeOnGram,
  oneHot,
  predictRidge,
  type RidgeDiagnostics,
  type RidgeFit,
  type RidgeOptions,
} from './ridge.js';

/**
 * The comparisons of docs/random-features.md, shared by the example, the benchmark and the tests: optical random
 * features + ridge for several feature counts, linear ridge on pixels, exact kernel ridge on a subset.
 */

export interface OpticalEvaluationOptions {
  /**
   * What measures the features (an `Opu`, or the digital twin `GaussianOperator`): `inputs` = the datasets' features,
   * `outputs` ≥ the largest feature count.
   */
  operator: IntensityFeatures;
  train: Dataset;
  test: Dataset;
  /**
   * Feature counts to fit, each taking the first m camera pixels of one measurement: outputs are i.i.d., so these
   * are m-feature OPUs without measuring again.
   */
  featureCounts: number[];
  /**
   * λ per feature on standardized features (default 0.2). X·Xᵀ/m tends to the kernel matrix as m grows, so this is
   * kernel ridge with a fixed regularization whatever m; on MNIST the best value falls from 0.5 (1 000 images) to 0.1
   * (20 000 images) and the error is flat within a factor of 3 around it.
   */
  relativeLambda?: number;
  /** Binarization threshold (default DEFAULT_THRESHOLD). */
  threshold?: number;
  /** See RandomFeatureOptions.perLitElement (default true). */
  perLitElement?: boolean;
  ridge?: RidgeOptions;
  /** Progress lines (measurement, each fit), for long runs. */
  onProgress?: (message: string) => void;
  /** The cost of measuring the features (every `transform()` call) is added to this tally. */
  cost?: CostTally;
}

export interface FeatureCountResult {
  features: number;
  testError: number;
  trainError: number;
  fitMs: number;
  diagnostics: RidgeDiagnostics | undefined;
}

export interface OpticalEvaluation {
  /** Wall time of measuring the features of the training and test sets at the largest count. */
  transformMs: number;
  /** Wall time of accumulating the training features' Gram matrix at the largest count (shared by every fit). */
  gramMs: number;
  results: FeatureCountResult[];
}

/**
 * The features are never stored whole (60 000 × 20 000 of them are 4.8 GB): the training features stream into their
 * centred Gram matrix (largest² floats, which holds every smaller count's as its leading block), the fits solve on
 * it (fitRidgeOnGram), and the test features stream into predictions. The training error is that of a second
 * measurement of the training images, streamed the same way: its camera noise is not the fitted one.
 */
export async function evaluateOpticalRandomFeatures(options: OpticalEvaluationOptions): Promise<OpticalEvaluation> {
  const { operator, train, test } = options;
  const counts = [...options.featureCounts].sort((a, b) => a - b);
  const largest = counts.at(-1) ?? 0;
  if (counts.length === 0 || counts[0]! < 1 || largest > operator.outputs || !counts.every(Number.isInteger)) {
    throw new ArgumentError(`[${options.featureCounts}] are not whole numbers in [1, ${operator.outputs}]`, {
      field: 'featureCounts',
      fix: 'open the OPU (or build the operator) with outputs ≥ the largest feature count',
    });
  }
  const report = options.onProgress ?? (() => {});
  const featureOptions = {
    threshold: options.threshold,
    perLitElement: options.perLitElement ?? true,
    cost: options.cost,
    onProgress: ({ rowsDone, rowsPlanned }: { rowsDone: number; rowsPlanned: number }) =>
      report(`measured ${rowsDone}/${rowsPlanned} rows`),
  };
  const all = operator.outputs;
  const classes = train.classes;
  const y = oneHot(train.labels, classes);
  const yMeans = new Float64Array(classes);
  for (let i = 0; i < y.length; i++) yMeans[i % classes]! += y[i]! / train.rows;

  const started = performance.now();
  let gramMs = 0;
  const accumulator = new FeatureGramAccumulator(largest, classes, yMeans);
  for await (const block of opticalRandomFeatureBlocks(operator, train.x, train.rows, featureOptions)) {
    const gramStarted = performance.now();
    const targets = y.subarray(block.firstRow * classes, (block.firstRow + block.rows) * classes);
    accumulator.add(block.features, block.rows, all, targets);
    gramMs += performance.now() - gramStarted;
  }
  const gramStarted = performance.now();
  const gram = accumulator.finish();
  const standardization = standardizeGram(gram);
  gramMs += performance.now() - gramStarted;

  const fits = counts.map((m) => {
    const fitStarted = performance.now();
    const fit = rawFeatureFit(
      fitRidgeOnGram(gram, m, (options.relativeLambda ?? 0.2) * m, options.ridge),
      standardization,
    );
    const fitMs = performance.now() - fitStarted;
    report(`${m} features: fitted (${fit.diagnostics?.solver}, ${fit.diagnostics?.iterations} iterations)`);
    return { fit, fitMs };
  });
  const testErrors = await streamedErrors(operator, test, fits, featureOptions);
  const transformMs = performance.now() - started - gramMs - fits.reduce((s, f) => s + f.fitMs, 0);
  const trainErrors = await streamedErrors(operator, train, fits, featureOptions);
  const results = counts.map((m, k) => {
    const { fit, fitMs } = fits[k]!;
    report(`${m} features: test error ${(100 * testErrors[k]!).toFixed(2)}%`);
    return { features: m, testError: testErrors[k]!, trainError: trainErrors[k]!, fitMs, diagnostics: fit.diagnostics };
  });
  return { transformMs, gramMs, results };
}

/** The fit on standardized features as one on the raw features: W = D·W_s, b = b_s − Wᵀμ. */
function rawFeatureFit(fit: RidgeFit, s: { means: Float32Array; scales: Float32Array }): RidgeFit {
  const { features, targets } = fit;
  const weights = new Float32Array(features * targets);
  const bias = Float64Array.from(fit.bias);
  for (let j = 0; j < features; j++) {
    for (let c = 0; c < targets; c++) {
      const w = fit.weights[j * targets + c]! * s.scales[j]!;
      weights[j * targets + c] = w;
      bias[c]! -= w * s.means[j]!;
    }
  }
  return { ...fit, weights, bias: Float32Array.from(bias) };
}

/** Classification error of each fit (on the first fit.features features) over `data`, its features streamed. */
async function streamedErrors(
  operator: IntensityFeatures,
  data: Dataset,
  fits: { fit: RidgeFit }[],
  featureOptions: RandomFeatureOptions,
): Promise<number[]> {
  const wrong = fits.map(() => 0);
  for await (const block of opticalRandomFeatureBlocks(operator, data.x, data.rows, featureOptions)) {
    const labels = data.labels.subarray(block.firstRow, block.firstRow + block.rows);
    fits.forEach(({ fit }, k) => {
      const x = firstColumns(block.features, block.rows, operator.outputs, fit.features);
      wrong[k]! += classificationError(predictRidge(fit, x, block.rows), labels, data.classes) * block.rows;
    });
  }
  return wrong.map((w) => (data.rows === 0 ? 0 : w / data.rows));
}

export interface BaselineResult {
  testError: number;
  fitMs: number;
}

/** Ridge classifier on the raw values (λ absolute; 1000 suits MNIST pixels in [0, 1] from 2 000 to 60 000 rows). */
export function evaluateLinearRidge(train: Dataset, test: Dataset, lambda = 1000): BaselineResult {
  const started = performance.now();
  const fit = fitRidge(train.x, train.rows, train.features, oneHot(train.labels, train.classes), train.classes, lambda);
  const fitMs = performance.now() - started;
  return { testError: classificationError(predictRidge(fit, test.x, test.rows), test.labels, test.classes), fitMs };
}

/**
 * Exact kernel ridge on the whole of `train` (pass a subset: the cost grows as rows³). The optical kernels see the
 * binarized rows the OPU would, 'rbf' the raw values.
 */
export function evaluateKernelRidge(
  train: Dataset,
  test: Dataset,
  kernel: KernelName,
  options: { relativeLambda?: number; threshold?: number } = {},
): BaselineResult {
  const view = (data: Dataset) =>
    kernel !== 'rbf'
      ? Float32Array.from(binarize(data.x, data.rows, data.features, { threshold: options.threshold }))
      : data.x;
  const started = performance.now();
  const fit = fitKernelRidge(
    view(train),
    train.rows,
    train.features,
    oneHot(train.labels, train.classes),
    train.classes,
    {
      kernel,
      relativeLambda: options.relativeLambda ?? 0.01,
    },
  );
  const fitMs = performance.now() - started;
  const scores = predictKernelRidge(fit, view(test), test.rows);
  return { testError: classificationError(scores, test.labels, test.classes), fitMs };
}

function firstColumns(x: Float32Array, rows: number, cols: number, keep: number): Float32Array {
  if (keep === cols) return x;
  const out = new Float32Array(rows * keep);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * cols, r * cols + keep), r * keep);
  return out;
}

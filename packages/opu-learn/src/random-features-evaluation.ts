import type { Dataset } from 'dfa-nn';
import { ArgumentError, type CostTally, type IntensityFeatures } from 'opu-core';
import { fitKernelRidge, type KernelName, predictKernelRidge } from './kernel-ridge.js';
import { binarize, fitStandardization, opticalRandomFeatures, standardize } from './random-features.js';
import {
  classificationError,
  fitRidge,
  oneHot,
  predictRidge,
  type RidgeDiagnostics,
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
  results: FeatureCountResult[];
}

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
  const started = performance.now();
  const all = operator.outputs;
  const trainFeatures = await opticalRandomFeatures(operator, train.x, train.rows, featureOptions);
  const testFeatures = await opticalRandomFeatures(operator, test.x, test.rows, featureOptions);
  const transformMs = performance.now() - started;
  const y = oneHot(train.labels, train.classes);
  const results: FeatureCountResult[] = [];
  for (const m of counts) {
    // The largest count is fitted last, on the measured arrays themselves: no copy of the biggest matrices.
    const fTrain = m === all ? trainFeatures : firstColumns(trainFeatures, train.rows, all, m);
    const fTest = m === all ? testFeatures : firstColumns(testFeatures, test.rows, all, m);
    const fitStarted = performance.now();
    const standardization = fitStandardization(fTrain, train.rows, m);
    standardize(standardization, fTrain, train.rows);
    const fit = fitRidge(fTrain, train.rows, m, y, train.classes, (options.relativeLambda ?? 0.2) * m, options.ridge);
    const fitMs = performance.now() - fitStarted;
    standardize(standardization, fTest, test.rows);
    const result = {
      features: m,
      testError: classificationError(predictRidge(fit, fTest, test.rows), test.labels, test.classes),
      trainError: classificationError(predictRidge(fit, fTrain, train.rows), train.labels, train.classes),
      fitMs,
      diagnostics: fit.diagnostics,
    };
    report(`${m} features: test error ${(100 * result.testError).toFixed(2)}%`);
    results.push(result);
  }
  return { transformMs, results };
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
  const out = new Float32Array(rows * keep);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * cols, r * cols + keep), r * keep);
  return out;
}

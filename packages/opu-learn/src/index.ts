export { type CentredGram, FeatureGramAccumulator, standardizeGram } from './feature-gram.js';
export {
  fitKernelRidge,
  type KernelName,
  type KernelRidgeFit,
  type KernelRidgeOptions,
  predictKernelRidge,
} from './kernel-ridge.js';
export { type MackeyGlassOptions, mackeyGlass } from './mackey-glass.js';
export {
  binarize,
  DEFAULT_THRESHOLD,
  empiricalKernel,
  type FeatureStandardization,
  fitStandardization,
  opticalKernel,
  opticalKernelSamplingStd,
  opticalRandomFeatureBlocks,
  opticalRandomFeatures,
  type RandomFeatureOptions,
  standardize,
} from './random-features.js';
export {
  type BaselineResult,
  evaluateKernelRidge,
  evaluateLinearRidge,
  evaluateOpticalRandomFeatures,
  type FeatureCountResult,
  type OpticalEvaluation,
  type OpticalEvaluationOptions,
} from './random-features-evaluation.js';
export {
  autoregressiveForecast,
  type Forecast,
  type ForecastSplit,
  forecastFromFeatures,
  OpticalReservoir,
  persistenceForecast,
  type ReservoirOptions,
  type RunOptions,
  reservoirForecast,
  reservoirShape,
} from './reservoir.js';
export {
  classificationError,
  DIRECT_SOLVE_LIMIT,
  fitRidge,
  fitRidgeOnGram,
  oneHot,
  predictRidge,
  type RidgeDiagnostics,
  type RidgeFit,
  type RidgeOptions,
} from './ridge.js';

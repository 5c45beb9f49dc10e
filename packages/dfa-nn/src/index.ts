export { type PlotOptions, plot, type Series } from 'opu-core';
export {
  CheckpointMismatchError,
  type ConfigurationChange,
  type EpochMetrics,
  type LoadedCheckpoint,
  type LoadOptions,
  loadCheckpoint,
  type RunSettings,
  saveCheckpoint,
  type TrainingConfiguration,
  type TrainingState,
  trainingConfiguration,
} from './checkpoint.js';
export { type Dataset, makeDataset, permutation, subset, trainValidationSplit } from './dataset.js';
export { type IdxArray, parseIdx, readIdx } from './idx.js';
export {
  fitKernelRidge,
  type KernelName,
  type KernelRidgeFit,
  type KernelRidgeOptions,
  predictKernelRidge,
} from './kernel-ridge.js';
export { computeLoss, type LossName, type LossResult } from './losses.js';
export { type MackeyGlassOptions, mackeyGlass } from './mackey-glass.js';
export { loadMnist } from './mnist.js';
export {
  type ActivationName,
  type DenseLayer,
  type ForwardPass,
  type Initializer,
  Mlp,
  type MlpOptions,
} from './model.js';
export {
  cosineSchedule,
  Optimizer,
  type OptimizerName,
  type OptimizerOptions,
  type Schedule,
  stepSchedule,
} from './optimizers.js';
export {
  DigitalProjector,
  type FeedbackProjector,
  OpuProjector,
  type OpuProjectorOptions,
  type ProjectionCost,
} from './projectors.js';
export {
  binarize,
  DEFAULT_THRESHOLD,
  empiricalKernel,
  type FeatureStandardization,
  fitStandardization,
  opticalKernel,
  opticalKernelSamplingStd,
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
  DigitalIntensityMap,
  type Forecast,
  type ForecastSplit,
  forecastFromFeatures,
  type IntensityMap,
  OpticalReservoir,
  OpuIntensityMap,
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
  oneHot,
  predictRidge,
  type RidgeDiagnostics,
  type RidgeFit,
  type RidgeOptions,
} from './ridge.js';
export { type ResumedTraining, runTraining, type TrainingOptions } from './run-training.js';
export {
  type Algorithm,
  type BatchResult,
  type FeedbackScale,
  type LayerAlignment,
  Trainer,
  type TrainerOptions,
} from './trainer.js';

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
export { computeLoss, LOSSES, type LossName, type LossResult } from './losses.js';
export { loadMnist } from './mnist.js';
export {
  ACTIVATIONS,
  type ActivationName,
  type DenseLayer,
  type ForwardPass,
  INITIALIZERS,
  type Initializer,
  Mlp,
  type MlpOptions,
} from './model.js';
export {
  cosineSchedule,
  OPTIMIZERS,
  Optimizer,
  type OptimizerName,
  type OptimizerOptions,
  type Schedule,
  stepSchedule,
} from './optimizers.js';
export { type ResumedTraining, runTraining, type TrainingOptions } from './run-training.js';
export { TernarizedProjection } from './ternarized-projection.js';
export {
  ALGORITHMS,
  type Algorithm,
  type BatchResult,
  FEEDBACK_SCALES,
  type FeedbackScale,
  type LayerAlignment,
  Trainer,
  type TrainerOptions,
} from './trainer.js';

export * from './calibration/calibration-file.js';
export * from './calibration/device-calibration.js';
export {
  type CalibrationEstimate,
  type CalibrationEvent,
  type CalibrationTarget,
  type EstimateTarget,
  estimateCalibration,
  type PipelineOptions,
  type StepEstimate,
} from './calibration/pipeline.js';
export { type PipelineSettings, pipelineSettingsSchema } from './calibration/pipeline-settings.js';
export type * from './calibration/transmission-matrix.js';
export * from './device/frames.js';
export * from './device/info.js';
export * from './device/opu-device.js';
export * from './device/settings.js';
export * from './encoding/index.js';
export type { AcquisitionStats } from './measure/acquisition.js';
export type { ProjectionEncoding } from './measure/decompose.js';
export {
  DRIFT_CHECK_FRAMES,
  type DriftPolicy,
  type DriftReport,
  type DriftStatus,
  driftSensitivity,
  driftThreshold,
} from './measure/drift-tracker.js';
export { type DmdLayout, layoutRectangle, referenceStart } from './measure/layout.js';
export { RUNG_REFERENCES, type Rung, type RungFields, referenceLadder } from './measure/reference-ladder.js';
export type { ReferenceMeasurement } from './measure/reference-measurement.js';
export {
  type AcquireTestFrames,
  MAX_TRIGGER_LAG_FRAMES,
  measureTriggerLag,
  type TriggerLagTest,
} from './measure/trigger-lag.js';
export * from './operator/index.js';
export {
  deviceFromUrl,
  type OpenOpuOptions,
  type OpuBackend,
  openOpu,
  registerBackend,
  registeredBackends,
} from './opu/backends.js';
export {
  Opu,
  type OpuOptions,
  type OpuResult,
  type Progress,
  type ProjectOptions,
  type ResultMetadata,
} from './opu/opu.js';
export * from './support/atomic-write.js';
export * from './support/errors.js';
export { seededNormal, seededUniform } from './support/random.js';
export { pearson, relativeError } from './support/stats.js';
export { parseOrThrow } from './support/validation.js';

export * from './atomic-write.js';
export * from './calibration/calibration-file.js';
export * from './calibration/device-calibration.js';
export type { CalibrationEvent, CalibrationTarget, PipelineOptions } from './calibration/pipeline.js';
export { type PipelineSettings, pipelineSettingsSchema } from './calibration/pipeline-settings.js';
export type * from './calibration/transmission-matrix.js';
export { choleskyFactor, choleskySolveRows } from './cholesky.js';
export * from './device/frames.js';
export * from './device/info.js';
export * from './device/opu-device.js';
export * from './device/settings.js';
export * from './encoding/index.js';
export * from './errors.js';
export * from './operator/index.js';
export type { AcquisitionStats } from './opu/acquisition.js';
export {
  deviceFromUrl,
  type OpenOpuOptions,
  type OpuBackend,
  openOpu,
  registerBackend,
  registeredBackends,
} from './opu/backends.js';
export type { LinearCalibration } from './opu/calibration.js';
export type { ProjectionEncoding } from './opu/decompose.js';
export { type DmdLayout, layoutRectangle, referenceStart } from './opu/layout.js';
export {
  Opu,
  type OpuOptions,
  type OpuResult,
  type Progress,
  type ProjectOptions,
  type ResultMetadata,
} from './opu/opu.js';
export { seededNormal, seededUniform } from './random.js';
export { pearson, relativeError } from './stats.js';
export { parseOrThrow } from './validation.js';

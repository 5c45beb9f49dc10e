import { registerBackend } from 'opu-core';
import { simBackend } from './backend.js';

export { simBackend, simOptionsFromParams } from './backend.js';
export { type Exposure, SimulatedCamera } from './camera.js';
export { type Clock, SimulatedClock } from './clock.js';
export {
  expectedProjectionMatrix,
  projectionErrorAgainstTruth,
  type TransmissionMatrixError,
  transmissionMatrixError,
  transmissionMatrixErrorOnItsLayout,
} from './ground-truth.js';
export { type ComplexField, type FieldGeometry, type PackedFrames, TransmissionMedium } from './medium.js';
export {
  IDEAL_CAMERA,
  photoelectronsPerMirrorUs,
  type ResolvedSimOptions,
  resolveSimOptions,
  type SimOptions,
  simOptionsSchema,
} from './options.js';
export { SimulatedOpuDevice, type SimulatedOpuDeviceInit } from './simulated-opu.js';

// Importing the package makes `openOpu('sim://…')` work: the simulator is the embedded default backend.
registerBackend(simBackend);

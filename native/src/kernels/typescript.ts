import { choleskyFactorTs, choleskySolveTs, dgemmTs, svdTs, symmetricEigenTs, thinQrTs } from '../linalg/dense.js';
import { sgemmSgdStepTs, sgemmTs } from '../linalg/sgemm.js';
import { crossTermsTs, darkSubtractTs } from '../measure/cross-terms.js';
import { cameraExposeTs } from '../optics/camera.js';
import { fillMediumTileTs, mediumFieldsTs } from '../optics/medium.js';
import { activateTs, activationGradientTs, adamStepTs, columnSumsTs, sgdStepTs } from '../training/elementwise.js';
import type { KernelImplementation } from './signatures.js';

/** The TypeScript kernels: the fallback, and the reference the native ones are tested against. */
export const typescriptImplementation: KernelImplementation = {
  sgemm: sgemmTs,
  sgemmSgdStep: sgemmSgdStepTs,
  fillMediumTile: fillMediumTileTs,
  mediumFields: mediumFieldsTs,
  cameraExpose: cameraExposeTs,
  darkSubtract: darkSubtractTs,
  crossTerms: crossTermsTs,
  sgdStep: sgdStepTs,
  adamStep: adamStepTs,
  activate: activateTs,
  activationGradient: activationGradientTs,
  columnSums: columnSumsTs,
  dgemm: dgemmTs,
  choleskyFactor: choleskyFactorTs,
  choleskySolve: choleskySolveTs,
  thinQr: thinQrTs,
  symmetricEigen: symmetricEigenTs,
  svd: svdTs,
  setThreads: () => 1,
  threads: () => 1,
  simdPath: () => 'typescript',
};

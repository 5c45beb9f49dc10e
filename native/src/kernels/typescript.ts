import { sgemmTs } from '../linalg/sgemm.js';
import { cameraExposeTs } from '../optics/camera.js';
import { fillMediumTileTs, mediumFieldsTs } from '../optics/medium.js';
import { activateTs, activationGradientTs, adamStepTs, columnSumsTs, sgdStepTs } from '../training/elementwise.js';
import type { KernelImplementation } from './signatures.js';

/** The TypeScript kernels: the fallback, and the reference the native ones are tested against. */
export const typescriptImplementation: KernelImplementation = {
  sgemm: sgemmTs,
  fillMediumTile: fillMediumTileTs,
  mediumFields: mediumFieldsTs,
  cameraExpose: cameraExposeTs,
  sgdStep: sgdStepTs,
  adamStep: adamStepTs,
  activate: activateTs,
  activationGradient: activationGradientTs,
  columnSums: columnSumsTs,
  setThreads: () => 1,
  threads: () => 1,
  simdPath: () => 'typescript',
};

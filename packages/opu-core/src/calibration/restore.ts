import { type ExposureControlledAcquirer, emptyStats } from '../measure/acquisition.js';
import type { ReferenceMeasurement } from '../measure/reference-measurement.js';
import { ArgumentError } from '../support/errors.js';
import type { DeviceCalibration } from './device-calibration.js';

/** Puts what the completed steps measured back into an acquirer: trigger lag, dark model, responsivity. */
export function restoreAcquirer(calibration: DeviceCalibration, acquirer: ExposureControlledAcquirer): void {
  const { triggerLag, dark, exposure } = calibration.steps;
  if (triggerLag) acquirer.triggerLagFrames = triggerLag.lagFrames;
  if (dark) {
    acquirer.darkOffsetAdu.set(dark.offsetAdu);
    acquirer.darkSlopeAduPerUs.set(dark.slopeAduPerUs);
  }
  if (exposure) acquirer.responsivity = exposure.responsivity;
}

/** What `project()` needs, from a calibration whose trigger-lag, dark, exposure and reference steps are done. */
export function referenceMeasurementOf(calibration: DeviceCalibration): ReferenceMeasurement {
  const { triggerLag, dark, exposure, reference } = calibration.steps;
  if (!triggerLag || !dark || !exposure || !reference) {
    throw new ArgumentError('the calibration lacks the trigger-lag, dark, exposure or reference step', {
      field: 'calibration.steps',
      fix: 'run the whole calibration (opu calibrate) or resume it',
    });
  }
  const { layout } = calibration;
  const stats = emptyStats();
  for (const step of Object.values(calibration.steps)) {
    stats.frames += step.frames;
    stats.deviceTimeUs += step.deviceTimeUs;
  }
  return {
    referenceCount: layout.referenceCount,
    referenceElements: layout.referenceElements,
    mirrorsPerElement: layout.mirrorsPerElement,
    outputs: calibration.outputs,
    responsivity: exposure.responsivity,
    referenceIntensity: reference.referenceIntensity,
    weights: reference.weights,
    amplitude: reference.amplitude,
    coordinates: reference.coordinates,
    rungs: reference.rungs ? [...reference.rungs] : [],
    triggerLagFrames: triggerLag.lagFrames,
    stats,
  };
}

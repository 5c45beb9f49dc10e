import { bytesPerFrame } from '../device/frames.js';
import { minFrameTimeUs } from '../device/info.js';
import type { OpuDevice } from '../device/opu-device.js';
import { rectangleArea } from '../device/settings.js';
import { TRIGGER_TEST_FRAMES } from '../measure/acquisition.js';
import type { DmdLayout } from '../measure/layout.js';
import { ladderFrames } from '../measure/reference-ladder.js';
import { responsivityFrames, responsivityPlan } from '../measure/responsivity.js';
import type { CalibrationStepName } from './device-calibration.js';
import type { ResolvedSettings } from './pipeline-settings.js';
import { transmissionMatrixLayout } from './steps.js';
import { retrievalMemory, retrievalPlan } from './tm-retrieval.js';

/** What a calibration is estimated on: the opened device and the facade's layout. */
export interface EstimateTarget {
  device: OpuDevice;
  layout: DmdLayout;
  outputs: number;
}

export interface StepEstimate {
  step: CalibrationStepName;
  /** Frames the step shows (saturated re-acquisitions aside). */
  frames: number;
  /**
   * Whether the step chooses its frames as it measures (the reference step averages until its SNR target): `frames`
   * is then its most, one correction at `reference.maxFrames`.
   */
  adaptive: boolean;
  /**
   * Device time at the device's present exposure (and the stability step's span). Steps that expose dim patterns
   * longer (few mirrors lit, as in a small transmission matrix) take longer.
   */
  deviceTimeUs: number;
  /** The step's working memory at its peak, in bytes. */
  memoryBytes: number;
  /** What holds that memory, by term, where one term could dominate (the transmission matrix's retrieval). */
  memoryTerms?: Record<string, number>;
}

/**
 * Sweep exposures the auto-exposure usually tries before bisecting: from half the model's guess, doubling until a
 * pixel saturates (on the simulator, three).
 */
const SWEEP_EXPOSURES = 3;
/** Frames per real-valued row of the linearity check: two signs of eight bit planes. */
const REAL_ROW_PIECES = 16;

/** Frames, device time and memory of each step of `plan`, before any is measured. */
export function estimateSteps(
  target: EstimateTarget,
  settings: ResolvedSettings,
  plan: readonly CalibrationStepName[],
): StepEstimate[] {
  const { device, layout, outputs: m } = target;
  const { info } = device;
  const K = layout.referenceCount;
  const cameraBytesPerPixel = info.camera.bitDepth > 8 ? 2 : 1;
  const frameBytes = (mirrors: number, pixels: number, rows: number) =>
    2 * bytesPerFrame(mirrors) + pixels * cameraBytesPerPixel + rows * Float32Array.BYTES_PER_ELEMENT;
  const facadeFrameBytes = frameBytes(rectangleArea(layout.region), rectangleArea(layout.roi), m);
  const frameTimeUs = (roiHeight: number) => minFrameTimeUs(info, device.settings.exposureUs, roiHeight);
  const facade = (step: CalibrationStepName, frames: number, adaptive = false): StepEstimate => ({
    step,
    frames,
    adaptive,
    deviceTimeUs: frames * frameTimeUs(layout.roi.height),
    memoryBytes: frames * facadeFrameBytes,
  });
  const { darkFrames, exposure, reference, stability } = settings;

  const estimators: Record<CalibrationStepName, (step: CalibrationStepName) => StepEstimate> = {
    triggerLag: (step) => facade(step, Math.max(TRIGGER_TEST_FRAMES, info.limits.minFramesPerAcquisition)),
    dark: (step) => facade(step, 2 * darkFrames),
    exposure: (step) =>
      facade(
        step,
        responsivityFrames(responsivityPlan(info, layout.region, m), darkFrames) +
          exposure.testFrames * (SWEEP_EXPOSURES + exposure.bisections + 1),
      ),
    reference: (step) =>
      facade(
        step,
        ((K * (K + 1)) / 2) * (reference.pilotFrames + reference.maxFrames) + ladderFrames(layout, reference.maxFrames),
        true,
      ),
    linearity: (step) => facade(step, 3 * settings.linearityPairs * (1 + REAL_ROW_PIECES) * (K + 1)),
    stability: (step) => {
      const probes = (stability.repetitions + 1) * stability.probeFrames;
      const gapUs = (stability.durationS * 1e6) / (stability.repetitions - 1);
      const idle = (stability.repetitions - 1) * Math.max(1, Math.ceil(gapUs / info.limits.frameTimeUs.max));
      const estimate = facade(step, probes + idle);
      return { ...estimate, deviceTimeUs: stability.durationS * 1e6 + probes * frameTimeUs(layout.roi.height) };
    },
    transmissionMatrix: (step) => {
      const tm = settings.transmissionMatrix!;
      const tmLayout = transmissionMatrixLayout(device, tm);
      const responsivity = responsivityFrames(responsivityPlan(info, tmLayout.region, tm.rows), darkFrames);
      const frames = 2 * darkFrames + responsivity + retrievalPlan(tm).frames;
      const memoryTerms = retrievalMemory(tm, {
        dmdBytes: bytesPerFrame(rectangleArea(tmLayout.region)),
        cameraBytes: rectangleArea(tmLayout.roi) * cameraBytesPerPixel,
      });
      // dark and responsivity run before the retrieval and hold far less: the retrieval's peak is the step's
      const memoryBytes = Object.values(memoryTerms).reduce((sum, bytes) => sum + bytes, 0);
      const deviceTimeUs = frames * frameTimeUs(tmLayout.roi.height);
      return { step, frames, adaptive: false, deviceTimeUs, memoryBytes, memoryTerms };
    },
  };
  return plan.map((step) => estimators[step](step));
}

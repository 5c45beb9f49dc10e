import type { CameraInfo, DmdInfo, OpuInfo } from '../device/info.js';
import type { OpuSettings } from '../device/settings.js';
import type { DmdLayout } from '../measure/layout.js';
import type { RungFields } from '../measure/reference-ladder.js';
import type { TransmissionMatrix } from './transmission-matrix.js';

/** The calibration steps, in the order the pipeline runs them; each needs the ones before it. */
export const CALIBRATION_STEPS = [
  'triggerLag',
  'dark',
  'exposure',
  'reference',
  'linearity',
  'stability',
  'transmissionMatrix',
] as const;
export type CalibrationStepName = (typeof CALIBRATION_STEPS)[number];

/** The steps `project()` needs, and that every later step of the facade's layout builds on. */
export const PROJECTION_STEPS: readonly CalibrationStepName[] = ['triggerLag', 'dark', 'exposure', 'reference'];

/**
 * The device a calibration belongs to: its identity, and the sensor and DMD configuration its numbers are in
 * (the same serial number with another bit depth gives other ADU).
 */
export interface CalibratedDevice extends Pick<OpuInfo, 'model' | 'serialNumber' | 'firmwareVersion'> {
  camera: Pick<CameraInfo, 'bitDepth' | 'maxAdu' | 'widthPx' | 'heightPx'>;
  dmd: Pick<DmdInfo, 'widthMirrors' | 'heightMirrors'>;
}

/** What a calibration records of the device it ran on (an `OpuInfo`, or a calibration's own record). */
export function calibratedDevice(info: CalibratedDevice): CalibratedDevice {
  const { model, serialNumber, firmwareVersion, camera, dmd } = info;
  return {
    model,
    serialNumber,
    firmwareVersion,
    camera: { bitDepth: camera.bitDepth, maxAdu: camera.maxAdu, widthPx: camera.widthPx, heightPx: camera.heightPx },
    dmd: { widthMirrors: dmd.widthMirrors, heightMirrors: dmd.heightMirrors },
  };
}

/** What every step records about its own run. */
export interface StepRun {
  completedAt: string;
  durationMs: number;
  /** DMD frames shown, padding and retries included. */
  frames: number;
  /** Time the hardware spent, from its frame times. */
  deviceTimeUs: number;
}

export interface TriggerLagResult extends StepRun {
  /** Camera frames by which the capture lags the DMD; compensated by every later acquisition. */
  lagFrames: number;
}

export interface DarkResult extends StepRun {
  /** Per-pixel dark level model over the ROI, in ROI order: offset + slope × exposure (ADU, ADU/µs). */
  offsetAdu: Float32Array;
  slopeAduPerUs: Float32Array;
  /** Spread of the dark level over pixels (fixed-pattern bias), ADU RMS. */
  offsetSpreadAdu: number;
}

export interface ExposureResult extends StepRun {
  /** Lit mirrors of the test frames the exposure is for: half of the data elements and one reference. */
  litMirrors: number;
  /** The longest exposure with no saturated pixel on any test frame, times the margin: the device setting. */
  exposureUs: number;
  /** Safety factor applied to the longest clean exposure (< 1). */
  margin: number;
  /** Mean dark-subtracted ADU per µs per lit mirror (the speckle mean's slope). */
  responsivity: number;
  /** The sweep that found it: for each exposure tried, the brightest pixel and the saturated pixels seen. */
  sweepExposureUs: Float32Array;
  sweepMaxAdu: Float32Array;
  sweepSaturatedPixels: Float32Array;
  /** One half-lit frame at the chosen exposure, dark-subtracted ADU, ROI width × height: the speckle image. */
  speckleImageAdu: Float32Array;
  speckleWidthPx: number;
  speckleHeightPx: number;
  /** Intensities of all test frames over their frame mean (I/⟨I⟩), histogrammed: bin edges and counts. */
  histogramEdges: Float32Array;
  histogramCounts: Float32Array;
}

export interface ReferenceResult extends StepRun {
  /** Frames averaged per reference pattern, chosen to reach the target SNR. */
  averagedFrames: number;
  /** Median over outputs and references of |b_k|² over the standard error of its average. */
  snr: number;
  targetSnr: number;
  /** Dark-subtracted |b_k|² per µs, referenceCount × outputs. */
  referenceIntensity: Float32Array;
  /** Combination weights w_ik, outputs × referenceCount. */
  weights: Float32Array;
  /** |u_i| in √(ADU/µs), outputs. */
  amplitude: Float32Array;
  /** Each reference's field in the plane (u along the first axis), outputs × referenceCount × 2; absent before 0.2. */
  coordinates?: Float32Array;
  /** The dimmer reference rungs for sparse pieces, brightest first (measure/reference-ladder.ts); absent before 0.2. */
  rungs?: RungFields[];
}

export interface LinearityResult extends StepRun {
  /** ‖P(a + b) − P(a) − P(b)‖ / ‖P(a + b)‖ over disjoint binary pairs: zero for an exactly linear projection. */
  superpositionError: number;
  /** Same test as the superposition error, for real-valued rows with disjoint supports (bit-plane encoding). */
  realSuperpositionError: number;
  pairs: number;
}

export interface StabilityResult extends StepRun {
  /** Device time of each repetition of the probe frames since the first, and their intensity correlation with it. */
  timesS: Float32Array;
  correlation: Float32Array;
  /** Correlation of two back-to-back repetitions: the noise floor a stable medium stays at. */
  noiseFloor: number;
  /** Fitted decorrelation time of the intensity correlation, seconds; Infinity when no decline is measurable. */
  timeConstantS: number;
  drifting: boolean;
  /** Time after which c(t)/c(0) is expected to fall below `correlationThreshold`; Infinity if stable. */
  recalibrationIntervalS: number;
  /** Relative to the noise floor: the medium counts as changed once c(t)/c(0) falls below it. */
  correlationThreshold: number;
}

export interface CalibrationSteps {
  triggerLag: TriggerLagResult;
  dark: DarkResult;
  exposure: ExposureResult;
  reference: ReferenceResult;
  linearity: LinearityResult;
  stability: StabilityResult;
  transmissionMatrix: TransmissionMatrix & StepRun;
}

/**
 * Everything a calibration measured, tied to the device and the settings it was measured with. Steps that have not
 * run (yet) are absent: a pipeline interrupted after the dark step holds `triggerLag` and `dark` and can resume.
 */
export interface DeviceCalibration {
  createdAt: string;
  device: CalibratedDevice;
  /** Device settings the facade's measurements were made with (input region, ROI, gain, exposure). */
  settings: OpuSettings;
  layout: DmdLayout;
  /** Outputs of the facade: the first `outputs` pixels of the layout's ROI, in ROI order. */
  outputs: number;
  /** Seed of the random calibration patterns. */
  seed: number;
  steps: Partial<CalibrationSteps>;
}

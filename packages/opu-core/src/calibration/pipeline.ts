import { z } from 'zod';
import { minFrameTimeUs } from '../device/info.js';
import type { OpuDevice } from '../device/opu-device.js';
import { ArgumentError, CalibrationFileError, UnsupportedError } from '../errors.js';
import { type AcquisitionStats, addStats, ExposureControlledAcquirer, emptyStats } from '../opu/acquisition.js';
import {
  type LinearCalibration,
  measureDark,
  measureReferenceFields,
  measureResponsivity,
  measureTriggerLag,
} from '../opu/calibration.js';
import { type DmdLayout, makeLayout } from '../opu/layout.js';
import { parseOrThrow } from '../validation.js';
import { findAutoExposure } from './auto-exposure.js';
import { checkCalibration } from './calibration-file.js';
import {
  CALIBRATION_STEPS,
  type CalibrationStepName,
  type CalibrationSteps,
  calibratedDevice,
  type DeviceCalibration,
  PROJECTION_STEPS,
  type StepRun,
} from './device-calibration.js';
import { measureLinearity } from './linearity.js';
import { linearCalibrationOf, restoreAcquirer } from './restore.js';
import { measureStability } from './stability.js';
import { retrieveTransmissionMatrix } from './tm-retrieval.js';

/** The facade's internals the pipeline measures through. */
export interface CalibrationTarget {
  device: OpuDevice;
  layout: DmdLayout;
  acquirer: ExposureControlledAcquirer;
  /** `project()` of real rows with the given calibration, outside the facade's queue (which the pipeline holds). */
  project(rows: Float32Array, calibration: LinearCalibration): Promise<{ data: Float32Array; meta: AcquisitionStats }>;
}

const positiveInt = z.number().int().positive();
const fraction = z.number().gt(0).lt(1);
const origin = z
  .object({ left: z.number().int().nonnegative(), top: z.number().int().nonnegative() })
  .default({ left: 0, top: 0 });

/** Every number the pipeline takes, with its default. */
export const pipelineSettingsSchema = z.object({
  seed: z.number().int().min(0).default(0),
  /** Frames averaged per dark level (two exposures), and for the responsivity's all-data-on frame. */
  darkFrames: positiveInt.default(32),
  exposure: z
    .object({
      testFrames: positiveInt.default(64),
      margin: fraction.default(0.8),
      bisections: z.number().int().min(0).default(4),
    })
    .prefault({}),
  reference: z
    .object({
      /** Median |b_k|² over the standard error of its average that the averaging must reach. */
      targetSnr: z.number().positive().default(200),
      pilotFrames: positiveInt.default(16),
      maxFrames: positiveInt.default(1024),
    })
    .prefault({}),
  linearityPairs: positiveInt.default(8),
  stability: z
    .object({
      repetitions: z.number().int().min(2).default(11),
      durationS: z.number().positive().default(10),
      probeFrames: positiveInt.default(8),
      threshold: fraction.default(0.998),
    })
    .prefault({}),
  transmissionMatrix: z
    .object({
      rows: positiveInt,
      cols: positiveInt,
      method: z.enum(['anchors', 'circulant']).default('anchors'),
      anchors: z.number().int().min(2).default(8),
      oversampling: z.number().min(1).default(2),
      anchorAveragedFrames: positiveInt.default(8),
      testInputs: positiveInt.default(32),
      /** Top-left mirror of the matrix's rectangle on the DMD (its columns, then its anchors). */
      dmdOrigin: origin,
      /** Top-left pixel of its rows on the camera. */
      cameraOrigin: origin,
    })
    .optional(),
});
export type PipelineSettings = z.input<typeof pipelineSettingsSchema>;
type ResolvedSettings = z.output<typeof pipelineSettingsSchema>;
type TransmissionMatrixSettings = NonNullable<ResolvedSettings['transmissionMatrix']>;

export type CalibrationEvent =
  | { type: 'step'; step: CalibrationStepName; status: 'started' | 'skipped' | 'done'; index: number; total: number }
  | { type: 'progress'; step: CalibrationStepName; framesDone: number; framesPlanned?: number };

export interface PipelineOptions extends PipelineSettings {
  /**
   * Steps to run, with the steps they build on (see `prerequisites`); default: all, the transmission matrix when
   * its size is given.
   */
  steps?: readonly CalibrationStepName[];
  /** A calibration to continue: its completed steps are kept, not measured again. */
  resume?: DeviceCalibration;
  onEvent?: (event: CalibrationEvent) => void;
  /** Called after every completed step with the calibration so far (e.g. to save it, so that a crash can resume). */
  onCheckpoint?: (calibration: DeviceCalibration) => Promise<void>;
}

/**
 * Runs the calibration steps in order on the facade's layout and returns what they measured. Every step reports
 * its frames and device time; a resumed calibration skips the steps it already holds.
 */
export async function runCalibrationPipeline(
  target: CalibrationTarget,
  options: PipelineOptions = {},
): Promise<DeviceCalibration> {
  const settings = parseSettings(options);
  const { device, layout, acquirer } = target;
  const calibration: DeviceCalibration = options.resume
    ? resumable(options.resume, target, settings)
    : {
        createdAt: new Date().toISOString(),
        device: calibratedDevice(device.info),
        settings: { ...device.settings },
        layout,
        outputs: acquirer.outputs,
        seed: settings.seed,
        steps: {},
      };
  if (options.resume) {
    await device.configure(calibration.settings);
    restoreAcquirer(calibration, acquirer);
  }
  const plan = plannedSteps(options.steps, settings);
  // a matrix that cannot fit fails now, not after the steps before it
  const tm = settings.transmissionMatrix;
  if (plan.includes('transmissionMatrix') && tm) transmissionMatrixLayout(device, tm);
  for (const [index, step] of plan.entries()) {
    const event = { type: 'step', step, index, total: plan.length } as const;
    if (calibration.steps[step]) {
      options.onEvent?.({ ...event, status: 'skipped' });
      continue;
    }
    options.onEvent?.({ ...event, status: 'started' });
    const stats = emptyStats();
    const started = performance.now();
    const onProgress = (framesDone: number, framesPlanned?: number) =>
      options.onEvent?.({ type: 'progress', step, framesDone, ...(framesPlanned ? { framesPlanned } : {}) });
    let framesDone = 0;
    const onAcquired = (frames: number) => {
      framesDone += frames;
      onProgress(framesDone);
    };
    const result = await STEP_RUNNERS[step]({ target, calibration, settings, stats, onAcquired, onProgress });
    const run: StepRun = {
      completedAt: new Date().toISOString(),
      durationMs: performance.now() - started,
      frames: stats.frames,
      deviceTimeUs: stats.deviceTimeUs,
    };
    (calibration.steps as Record<string, unknown>)[step] = { ...result, ...run };
    // the device keeps the auto-exposure between steps (acquisitions move it), and the calibration records it
    const { exposure } = calibration.steps;
    if (exposure) await acquirer.setExposure(exposure.exposureUs);
    calibration.settings = { ...device.settings };
    options.onEvent?.({ ...event, status: 'done' });
    await options.onCheckpoint?.(calibration);
  }
  return calibration;
}

/**
 * The calibration to continue, checked against the target: the same device and facade, and its own seed (a step
 * measured with other patterns would not match the rest). A transmission matrix of another size or method is
 * measured again.
 */
function resumable(
  resume: DeviceCalibration,
  target: CalibrationTarget,
  settings: ResolvedSettings,
): DeviceCalibration {
  const fix = 'delete the partial calibration, or calibrate without resuming';
  try {
    checkCalibration(resume, {
      info: target.device.info,
      facade: { layout: target.layout, outputs: target.acquirer.outputs },
      required: [],
      maxAgeS: Number.POSITIVE_INFINITY,
    });
  } catch (error) {
    if (error instanceof CalibrationFileError) {
      throw new CalibrationFileError(error.kind, `cannot resume: ${error.message.split('. Fix:')[0]}`, {
        field: error.field,
        fix,
      });
    }
    throw error;
  }
  if (resume.seed !== settings.seed) {
    throw new CalibrationFileError('mismatch', `cannot resume: it was measured with seed ${resume.seed}`, {
      field: 'options.seed',
      fix: `resume with seed ${resume.seed}, or ${fix}`,
    });
  }
  const steps = { ...resume.steps };
  const tm = steps.transmissionMatrix;
  const wanted = settings.transmissionMatrix;
  if (tm && wanted && (tm.rows !== wanted.rows || tm.cols !== wanted.cols || tm.method !== wanted.method)) {
    delete steps.transmissionMatrix;
  }
  return { ...resume, steps };
}

function parseSettings(options: PipelineOptions): ResolvedSettings {
  const { steps: _steps, resume: _resume, onEvent: _onEvent, onCheckpoint: _onCheckpoint, ...numbers } = options;
  return parseOrThrow(
    pipelineSettingsSchema,
    numbers,
    'options',
    'see docs/calibration.md for each setting and its range',
  );
}

function plannedSteps(
  requested: readonly CalibrationStepName[] | undefined,
  settings: ResolvedSettings,
): CalibrationStepName[] {
  const wanted = new Set<CalibrationStepName>(
    requested ?? CALIBRATION_STEPS.filter((s) => s !== 'transmissionMatrix' || settings.transmissionMatrix),
  );
  for (const step of wanted) {
    if (!CALIBRATION_STEPS.includes(step)) {
      throw new ArgumentError(`'${step}' is not a calibration step`, {
        field: 'options.steps',
        fix: `use some of ${CALIBRATION_STEPS.join(', ')}`,
      });
    }
  }
  if (wanted.has('transmissionMatrix') && !settings.transmissionMatrix) {
    throw new ArgumentError('the transmission-matrix step needs its size', {
      field: 'options.transmissionMatrix',
      fix: 'pass transmissionMatrix: { rows, cols } (opu calibrate --tm ROWSxCOLS)',
    });
  }
  for (const step of [...wanted]) for (const needed of prerequisites(step)) wanted.add(needed);
  return CALIBRATION_STEPS.filter((s) => wanted.has(s));
}

/**
 * The steps a step builds on: those of `project()` before it; all of them for the checks that project; the trigger
 * lag alone for the transmission matrix, which measures its own dark level and responsivity on its own layout.
 */
function prerequisites(step: CalibrationStepName): readonly CalibrationStepName[] {
  if (step === 'transmissionMatrix') return ['triggerLag'];
  const index = PROJECTION_STEPS.indexOf(step);
  return index >= 0 ? PROJECTION_STEPS.slice(0, index) : PROJECTION_STEPS;
}

interface StepContext {
  target: CalibrationTarget;
  calibration: DeviceCalibration;
  settings: ResolvedSettings;
  stats: AcquisitionStats;
  /** Counts frames as acquisitions report them. */
  onAcquired: (frames: number) => void;
  /** Reports a running total directly, for measurements that know their plan. */
  onProgress: (framesDone: number, framesPlanned?: number) => void;
}

type StepResult<S extends CalibrationStepName> = Omit<CalibrationSteps[S], keyof StepRun>;
type StepRunner<S extends CalibrationStepName> = (context: StepContext) => Promise<StepResult<S>>;

const STEP_RUNNERS: { [S in CalibrationStepName]: StepRunner<S> } = {
  async triggerLag({ target, stats }) {
    await measureTriggerLag(target.acquirer, stats);
    return { lagFrames: target.acquirer.triggerLagFrames };
  },

  async dark({ target, settings, stats }) {
    const { acquirer } = target;
    await measureDark(acquirer, settings.darkFrames, stats);
    const offsets = acquirer.darkOffsetAdu;
    let mean = 0;
    for (const v of offsets) mean += v / offsets.length;
    let variance = 0;
    for (const v of offsets) variance += (v - mean) ** 2 / offsets.length;
    return {
      offsetAdu: offsets.slice(),
      slopeAduPerUs: acquirer.darkSlopeAduPerUs.slice(),
      offsetSpreadAdu: Math.sqrt(variance),
    };
  },

  async exposure({ target, settings, stats, onAcquired }) {
    const { acquirer, layout } = target;
    await measureResponsivity(acquirer, layout, { averagedFrames: settings.darkFrames, seed: settings.seed }, stats);
    const found = await findAutoExposure(
      acquirer,
      layout,
      { ...settings.exposure, seed: settings.seed + 1 },
      stats,
      onAcquired,
    );
    return {
      ...found,
      margin: settings.exposure.margin,
      responsivity: acquirer.responsivity,
      sweepExposureUs: Float32Array.from(found.sweepExposureUs),
      sweepMaxAdu: Float32Array.from(found.sweepMaxAdu),
      sweepSaturatedPixels: Float32Array.from(found.sweepSaturatedPixels),
    };
  },

  async reference({ target, settings, stats, onAcquired }) {
    const { acquirer, layout } = target;
    const { targetSnr, pilotFrames, maxFrames } = settings.reference;
    let averagedFrames = pilotFrames;
    let fields = await measureReferenceFields(acquirer, layout, averagedFrames, stats, onAcquired);
    // The standard error falls as 1/√N, but more frames per group also shorten the exposure (the brightest of more
    // pixels must not saturate), which costs a little SNR per frame: a second correction usually lands on target.
    for (let attempt = 0; attempt < 3 && fields.snr < targetSnr && averagedFrames < maxFrames; attempt++) {
      averagedFrames = Math.min(maxFrames, Math.ceil(averagedFrames * (targetSnr / fields.snr) ** 2 * 1.05));
      fields = await measureReferenceFields(acquirer, layout, averagedFrames, stats, onAcquired);
    }
    return {
      averagedFrames,
      snr: fields.snr,
      targetSnr,
      referenceIntensity: fields.referenceIntensity,
      weights: fields.weights,
      amplitude: fields.amplitude,
    };
  },

  async linearity({ target, calibration, settings, stats }) {
    const linear = linearCalibrationOf(calibration);
    return measureLinearity(
      async (rows) => {
        const { data, meta } = await target.project(rows, linear);
        addStats(stats, meta);
        return data;
      },
      target.layout.inputs,
      settings.linearityPairs,
      settings.seed + 2,
    );
  },

  async stability({ target, settings, stats, onAcquired }) {
    const found = await measureStability(
      target.acquirer,
      target.layout,
      { ...settings.stability, seed: settings.seed + 3 },
      stats,
      onAcquired,
    );
    return {
      ...found,
      timesS: Float32Array.from(found.timesS),
      correlation: Float32Array.from(found.correlation),
      correlationThreshold: settings.stability.threshold,
    };
  },

  async transmissionMatrix({ target, settings, stats, onProgress }) {
    const tm = settings.transmissionMatrix!;
    const { device } = target;
    const layout = transmissionMatrixLayout(device, tm);
    const restore = { ...device.settings };
    await device.configure({
      inputRegion: layout.region,
      outputRoi: layout.roi,
      frameTimeUs: Math.max(
        restore.frameTimeUs,
        Math.ceil(minFrameTimeUs(device.info, restore.exposureUs, layout.roi.height)),
      ),
    });
    try {
      const acquirer = new ExposureControlledAcquirer(device, tm.rows);
      acquirer.triggerLagFrames = target.acquirer.triggerLagFrames;
      await measureDark(acquirer, settings.darkFrames, stats);
      await measureResponsivity(acquirer, layout, { averagedFrames: settings.darkFrames, seed: settings.seed }, stats);
      return await retrieveTransmissionMatrix(
        acquirer,
        layout,
        {
          method: tm.method,
          anchorAveragedFrames: tm.anchorAveragedFrames,
          oversampling: tm.oversampling,
          testInputs: tm.testInputs,
          seed: settings.seed + 4,
          onProgress,
        },
        stats,
      );
    } finally {
      await device.configure(restore);
    }
  },
};

/**
 * The transmission matrix's own layout: `cols` one-mirror data elements, then `anchors` disjoint anchor blocks of
 * about half as many mirrors (a half-lit signal's field strength), in a rectangle at `dmdOrigin`; and `rows` pixels
 * in a rectangle at `cameraOrigin`.
 */
function transmissionMatrixLayout(device: OpuDevice, tm: TransmissionMatrixSettings): DmdLayout {
  const { dmd, camera } = device.info;
  const { rows, cols, anchors, dmdOrigin, cameraOrigin } = tm;
  const fitted = makeLayout(
    {
      inputs: cols,
      outputs: rows,
      referenceCount: anchors,
      referenceElements: Math.ceil(cols / 2),
      mirrorsPerElement: 1,
    },
    dmd.widthMirrors - dmdOrigin.left,
    camera.widthPx - cameraOrigin.left,
  );
  const layout = {
    ...fitted,
    region: { ...fitted.region, ...dmdOrigin },
    roi: { ...fitted.roi, ...cameraOrigin },
  };
  if (layout.region.top + layout.region.height > dmd.heightMirrors) {
    throw new UnsupportedError(
      `${cols} columns and ${anchors} anchors do not fit on the DMD from row ${dmdOrigin.top}`,
      {
        field: 'options.transmissionMatrix.cols',
        fix: 'retrieve fewer columns, use fewer anchors or move dmdOrigin',
      },
    );
  }
  if (layout.roi.top + layout.roi.height > camera.heightPx) {
    throw new UnsupportedError(
      `${rows} rows do not fit on the ${camera.widthPx}×${camera.heightPx} sensor from row ${cameraOrigin.top}`,
      {
        field: 'options.transmissionMatrix.rows',
        fix: 'retrieve fewer rows or move cameraOrigin',
      },
    );
  }
  return layout;
}

import { emptyStats } from '../measure/acquisition.js';
import { ArgumentError, CalibrationFileError } from '../support/errors.js';
import { parseOrThrow } from '../support/validation.js';
import { checkCalibration } from './calibration-file.js';
import {
  CALIBRATION_STEPS,
  type CalibrationStepName,
  calibratedDevice,
  type DeviceCalibration,
  PROJECTION_STEPS,
  type StepRun,
} from './device-calibration.js';
import { type EstimateTarget, estimateSteps, type StepEstimate } from './estimate.js';
import { type PipelineSettings, pipelineSettingsSchema, type ResolvedSettings } from './pipeline-settings.js';
import { restoreAcquirer } from './restore.js';
import { type CalibrationTarget, STEP_RUNNERS, transmissionMatrixLayout } from './steps.js';
import type { RetrievalComputePhase } from './tm-retrieval.js';

export type { EstimateTarget, StepEstimate } from './estimate.js';
export type { CalibrationTarget } from './steps.js';

/**
 * What the pipeline reports: steps starting and ending, frames measured (against the frames planned, where the step
 * knows them), and the transmission matrix's computations ('design': signals summed into ΞᵀΞ, then its factor;
 * 'solve': rows of the matrix solved).
 */
export type CalibrationEvent =
  | { type: 'step'; step: CalibrationStepName; status: 'started' | 'skipped' | 'done'; index: number; total: number }
  | { type: 'progress'; step: CalibrationStepName; framesDone: number; framesPlanned?: number }
  | {
      type: 'compute';
      step: CalibrationStepName;
      phase: RetrievalComputePhase;
      unit: 'signals' | 'rows';
      done: number;
      planned: number;
    };

export interface CalibrationEstimate {
  /** The steps that will run (not those a resumed calibration holds), in order. */
  steps: StepEstimate[];
  frames: number;
  deviceTimeUs: number;
  /** The largest step's memory: steps run one after another, each freeing its working memory. */
  memoryBytes: number;
}

/**
 * What `runCalibrationPipeline(target, options)` will cost, before anything is measured: frames, device time and
 * memory per step and in all (see `StepEstimate` for how exact each is). Throws what the pipeline would throw at its
 * start: settings out of range, a transmission matrix that does not fit the device.
 */
export function estimateCalibration(target: EstimateTarget, options: PipelineOptions = {}): CalibrationEstimate {
  const settings = parseSettings(options);
  const held = options.resume?.steps ?? {};
  const plan = plannedSteps(options.steps, settings).filter((step) => !held[step]);
  const steps = estimateSteps(target, settings, plan);
  return {
    steps,
    frames: steps.reduce((sum, s) => sum + s.frames, 0),
    deviceTimeUs: steps.reduce((sum, s) => sum + s.deviceTimeUs, 0),
    memoryBytes: Math.max(0, ...steps.map((s) => s.memoryBytes)),
  };
}

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
  // frames planned per step, for progress bars; an adaptive step's are only its most
  const estimates = new Map(
    estimateSteps({ device, layout, outputs: acquirer.outputs }, settings, plan).map((e) => [e.step, e]),
  );
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
    const estimate = estimates.get(step);
    const planned = estimate && !estimate.adaptive ? estimate.frames : undefined;
    let framesDone = 0;
    const onAcquired = (frames: number) => {
      framesDone += frames;
      onProgress(framesDone, planned);
    };
    const onCompute = (phase: RetrievalComputePhase, done: number, planned: number) =>
      options.onEvent?.({ type: 'compute', step, phase, unit: phase === 'design' ? 'signals' : 'rows', done, planned });
    const result = await STEP_RUNNERS[step]({
      target,
      calibration,
      settings,
      stats,
      onAcquired,
      onProgress,
      onCompute,
    });
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

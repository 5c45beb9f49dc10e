import { access, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  CALIBRATION_STEPS,
  type CalibrationStepName,
  type DeviceCalibration,
  estimateCalibration,
  loadCalibration,
  type Opu,
  openOpu,
  type PipelineOptions,
  pipelineSettingsSchema,
  saveCalibration,
  type TransmissionMatrix,
  writeFileAtomic,
} from 'opu-core';
import { renderCalibrationReport } from 'opu-report';
import { SimulatedOpuDevice, transmissionMatrixErrorOnItsLayout } from 'opu-sim';
import { deviceUrl, UsageError } from './exit.js';
import { calibrationLimits, checkLimits, DEFAULT_MAX_DEVICE_S, describeEstimate, estimateJson } from './limits.js';
import { calibrationProgress } from './progress.js';
import { checkWritable } from './writable.js';

export const CALIBRATE_USAGE = `usage: opu calibrate <url> [--out FILE] [--tm ROWSxCOLS] [--method anchors|circulant] [--anchors S]
                     [--tm-dmd LEFT,TOP] [--tm-camera LEFT,TOP] [--steps a,b,…] [--snr N] [--drift-s SECONDS] [--seed N]
                     [--max-memory SIZE] [--max-device-s SECONDS] [--force] [--resume] [--no-report] [--json]
Calibrates the device for project() (facade size from the URL: sim://?inputs=256&outputs=512) and writes FILE
(default <serial>.opucal) with an HTML report beside it (FILE with .html). Steps: ${CALIBRATION_STEPS.join(', ')}.
--tm retrieves a ROWS×COLS transmission matrix too, its columns from DMD mirror LEFT,TOP (--tm-dmd) and its rows
from camera pixel LEFT,TOP (--tm-camera). A failed run keeps its finished steps in FILE.partial;
--resume continues from there. A FILE whose directory is missing or not writable exits 4 before anything is
measured. Before the first step it prints an estimate of the frames, device time and memory (a JSON line with
--json) and exits 2 past a limit: --max-memory SIZE (e.g. 8G; default the memory free now) and --max-device-s
SECONDS (default ${DEFAULT_MAX_DEVICE_S}); --force runs anyway.`;

/** `opu calibrate <url>`: the calibration pipeline, saved atomically, with its report. */
export async function calibrate(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      tm: { type: 'string' },
      'tm-dmd': { type: 'string' },
      'tm-camera': { type: 'string' },
      method: { type: 'string' },
      anchors: { type: 'string' },
      steps: { type: 'string' },
      snr: { type: 'string' },
      'drift-s': { type: 'string' },
      seed: { type: 'string' },
      resume: { type: 'boolean' },
      'no-report': { type: 'boolean' },
      'max-memory': { type: 'string' },
      'max-device-s': { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const url = deviceUrl(positionals);
  const pipeline = pipelineOptions(values);
  const limits = calibrationLimits(values);
  const json = values.json ?? false;
  if (values.out) checkOutputs(values.out, values['no-report']);
  await using opu = await openOpu(url, { calibrate: false });
  const out = values.out ?? `${opu.device.info.serialNumber}.opucal`;
  const partial = `${out}.partial`;
  const report = checkOutputs(out, values['no-report']);
  const resume = values.resume ? await resumable(partial) : undefined;
  const estimate = estimateCalibration(opu, { ...pipeline, resume });
  if (json) process.stdout.write(`${JSON.stringify(estimateJson(estimate, limits, values.force ?? false))}\n`);
  else process.stderr.write(`${describeEstimate(estimate)}\n`);
  if (!values.force) checkLimits(estimate, limits);
  const progress = calibrationProgress(json);
  let calibration: DeviceCalibration;
  try {
    calibration = await opu.runCalibration({
      ...pipeline,
      resume,
      onEvent: progress.onEvent,
      onCheckpoint: (sofar) => saveCalibration(partial, sofar),
    });
    await saveCalibration(out, calibration);
  } catch (error) {
    // the partial file holds every step finished before the failure, all of them when only the final save failed
    if (await exists(partial)) {
      addSentence(error, `The finished steps are kept in ${partial}; run the same command with --resume to go on`);
    }
    throw error;
  } finally {
    progress.finish();
  }
  await rm(partial, { force: true });
  const truthError = calibration.steps.transmissionMatrix
    ? await errorAgainstTruth(opu, calibration.steps.transmissionMatrix)
    : undefined;
  if (report) {
    const html = renderCalibrationReport(calibration, {
      source: url,
      maxAdu: opu.device.info.camera.maxAdu,
      ...(truthError === undefined ? {} : { truthRelativeError: truthError }),
    });
    await writeFileAtomic(report, html).catch((error: unknown) => {
      throw addSentence(error, `The calibration itself is saved in ${out}; only its report could not be written`);
    });
  }
  const summary = summarize(calibration, truthError);
  if (json) {
    process.stdout.write(`${JSON.stringify({ type: 'result', file: out, report, summary })}\n`);
  } else {
    const where = report ? `${out} (report ${report})` : out;
    process.stdout.write(`calibrated ${calibration.device.model} ${calibration.device.serialNumber} → ${where}\n`);
    for (const [step, text] of Object.entries(summary)) process.stdout.write(`  ${step.padEnd(19)} ${text}\n`);
  }
  return 0;
}

/** The report's path (none with --no-report), once the calibration's, its partial's and the report's are writable. */
function checkOutputs(out: string, noReport: boolean | undefined): string | undefined {
  const report = noReport ? undefined : out.replace(/(\.[^./]*)?$/, '.html');
  if (report === out)
    throw new UsageError(`--out ${out} is where the HTML report goes; give the calibration another name`);
  checkWritable(out, '--out');
  checkWritable(`${out}.partial`, '--out');
  if (report) checkWritable(report, '--out (its report)');
  return report;
}

/** The flag that sets each pipeline setting, for error messages. */
const FLAG_OF: Record<string, string> = {
  seed: '--seed',
  'reference.targetSnr': '--snr',
  'stability.durationS': '--drift-s',
  'transmissionMatrix.rows': '--tm (rows)',
  'transmissionMatrix.cols': '--tm (columns)',
  'transmissionMatrix.anchors': '--anchors',
};

function pipelineOptions(values: Record<string, string | boolean | undefined>): PipelineOptions {
  const origin = (flag: string, key: 'dmdOrigin' | 'cameraOrigin') => {
    const raw = values[flag];
    if (raw === undefined) return {};
    const corner = /^(\d+),(\d+)$/.exec(String(raw));
    if (!corner) throw new UsageError(`--${flag} ${String(raw)} is not LEFT,TOP (e.g. --${flag} 100,40)`);
    return { [key]: { left: Number(corner[1]), top: Number(corner[2]) } };
  };
  const number = (flag: string) => {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) {
      throw new UsageError(`--${flag} ${String(raw)} is not a number`);
    }
    return value;
  };
  const options: PipelineOptions = {};
  const seed = number('seed');
  if (seed !== undefined) options.seed = seed;
  const snr = number('snr');
  if (snr !== undefined) options.reference = { targetSnr: snr };
  const driftS = number('drift-s');
  if (driftS !== undefined) options.stability = { durationS: driftS };
  if (typeof values.steps === 'string') {
    const steps = values.steps.split(',').map((s) => s.trim());
    const unknown = steps.find((s) => !(CALIBRATION_STEPS as readonly string[]).includes(s));
    if (unknown) throw new UsageError(`unknown step '${unknown}' (steps: ${CALIBRATION_STEPS.join(', ')})`);
    options.steps = steps as CalibrationStepName[];
  }
  if (typeof values.tm === 'string') {
    const size = /^(\d+)x(\d+)$/i.exec(values.tm);
    if (!size) throw new UsageError(`--tm ${values.tm} is not ROWSxCOLS (e.g. --tm 1000x1100)`);
    const method = values.method ?? 'anchors';
    if (method !== 'anchors' && method !== 'circulant') {
      throw new UsageError(`--method ${String(method)} is not anchors or circulant`);
    }
    const anchors = number('anchors');
    options.transmissionMatrix = {
      rows: Number(size[1]),
      cols: Number(size[2]),
      method,
      ...(anchors === undefined ? {} : { anchors }),
      ...origin('tm-dmd', 'dmdOrigin'),
      ...origin('tm-camera', 'cameraOrigin'),
    };
  } else if (['method', 'anchors', 'tm-dmd', 'tm-camera'].some((flag) => values[flag] !== undefined)) {
    throw new UsageError('--method, --anchors, --tm-dmd and --tm-camera go with --tm ROWSxCOLS');
  }
  // checked before the device is opened: a wrong number is the command line's fault, not the device's
  const parsed = pipelineSettingsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = FLAG_OF[issue.path.map(String).join('.')] ?? issue.path.join('.');
    throw new UsageError(`${flag}: ${issue.message}`);
  }
  return options;
}

/** The finished steps of an interrupted run, if any; the pipeline checks that they fit this device. */
async function resumable(partial: string): Promise<DeviceCalibration | undefined> {
  return (await exists(partial)) ? loadCalibration(partial) : undefined;
}

/** Appends a sentence to an error's message (keeping its class, which sets the exit code); returns the error. */
function addSentence(error: unknown, sentence: string): unknown {
  if (error instanceof Error) error.message = `${error.message.replace(/\.?$/, '.')} ${sentence}.`;
  return error;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** On a simulator, the retrieved matrix against the true one (up to each row's phase and conjugation). */
async function errorAgainstTruth(opu: Opu, tm: TransmissionMatrix): Promise<number | undefined> {
  if (!(opu.device instanceof SimulatedOpuDevice)) return undefined;
  return (await transmissionMatrixErrorOnItsLayout(tm, opu.device)).relativeError;
}

const percent = (x: number) => `${(100 * x).toFixed(2)}%`;

function summarize(calibration: DeviceCalibration, truthError: number | undefined): Record<string, string> {
  const s = calibration.steps;
  const lines: Record<string, string> = {};
  if (s.triggerLag) lines.triggerLag = `${s.triggerLag.lagFrames} frame(s) of lag`;
  if (s.dark) {
    const mean = s.dark.offsetAdu.reduce((a, v) => a + v, 0) / s.dark.offsetAdu.length;
    lines.dark = `offset ${mean.toFixed(2)} ADU, spread ${s.dark.offsetSpreadAdu.toFixed(2)} ADU RMS`;
  }
  if (s.exposure) {
    lines.exposure =
      `${s.exposure.exposureUs.toFixed(1)} µs for ${s.exposure.litMirrors} lit mirrors ` +
      `(margin ${s.exposure.margin}), ${s.exposure.sweepExposureUs.length} exposures tried`;
  }
  if (s.reference) {
    lines.reference = `SNR ${s.reference.snr.toFixed(0)} (target ${s.reference.targetSnr}), ${s.reference.averagedFrames} frames averaged`;
  }
  if (s.linearity) {
    lines.linearity = `superposition error ${percent(s.linearity.superpositionError)} binary, ${percent(s.linearity.realSuperpositionError)} real`;
  }
  if (s.stability) {
    const span = Math.max(...s.stability.timesS).toFixed(1);
    lines.stability = s.stability.drifting
      ? `DRIFTING: τ = ${s.stability.timeConstantS.toFixed(1)} s, recalibrate every ${s.stability.recalibrationIntervalS.toFixed(2)} s`
      : `stable over ${span} s (noise floor ${s.stability.noiseFloor.toFixed(4)})`;
  }
  if (s.transmissionMatrix) {
    const tm = s.transmissionMatrix;
    const truth = truthError === undefined ? '' : `, ${percent(truthError)} from the true matrix`;
    lines.transmissionMatrix =
      `${tm.rows}×${tm.cols} (${tm.method}): intensity correlation ${tm.quality.intensityCorrelation.toFixed(4)}` +
      `${truth}, ${tm.frames} frames, ${(tm.durationMs / 1000).toFixed(1)} s`;
  }
  return lines;
}

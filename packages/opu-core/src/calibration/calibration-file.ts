/**
 * The calibration file: a `DeviceCalibration` on disk (docs/calibration-file.md).
 *
 * Layout (binary-container.ts): `OPUCAL`, u16 LE format version, u32 LE header length, a UTF-8 JSON header padded
 * to 8 bytes, the float32 arrays (little-endian, each padded to 8 bytes), and a SHA-256 over everything before it.
 *
 * The header is `{"formatVersion": 1, "calibration": {...}}`: the calibration with every Float32Array replaced by
 * `{"array": i, "length": n}`, array i being the i-th in the arrays section. JSON has no Infinity or NaN, so a
 * measured value that is not finite is written as the string "Infinity", "-Infinity" or "NaN". The header is
 * validated with the zod schema below, on reading and before writing, so a file that was written can be read.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { rectangleSchema, settingsSchema } from '../device/settings.js';
import type { DmdLayout } from '../measure/layout.js';
import { RUNG_REFERENCES } from '../measure/reference-ladder.js';
import { writeFileAtomic } from '../support/atomic-write.js';
import { ArgumentError, CalibrationFileError } from '../support/errors.js';
import { corruptError, packContainer, unpackArrays, unpackContainer } from './binary-container.js';
import {
  type CalibratedDevice,
  type CalibrationStepName,
  type CalibrationSteps,
  calibratedDevice,
  type DarkResult,
  type DeviceCalibration,
  type ExposureResult,
  type LinearityResult,
  PROJECTION_STEPS,
  type ReferenceResult,
  type StabilityResult,
  type TriggerLagResult,
} from './device-calibration.js';
import type { TransmissionMatrixQuality } from './transmission-matrix.js';

export const CALIBRATION_FORMAT_VERSION = 1;

/** What stands in the header for a Float32Array: its index in the arrays section and its length in values. */
interface ArrayRef {
  array: number;
  length: number;
}

/** A value as the header holds it: every Float32Array replaced by its `ArrayRef`. */
type Stored<T> = T extends Float32Array ? ArrayRef : T extends object ? { [K in keyof T]: Stored<T[K]> } : T;

// ---------------------------------------------------------------------------------------------------------------
// Header schema. `satisfies` ties each schema to its type, so a field added to a result type fails to compile here
// until the file format stores it.

const NON_FINITE = ['Infinity', '-Infinity', 'NaN'] as const;
/** A measured value, which may be infinite or NaN (a decorrelation time when nothing decorrelates, for one). */
const real = z.union([z.number(), z.enum(NON_FINITE).transform(Number)]);
const count = z.number().int().nonnegative();
const timestamp = z.iso.datetime({ offset: true });
const arrayRef = z.strictObject({ array: count, length: count });
const rectangle = z.strictObject(rectangleSchema.shape);

const stepRun = { completedAt: timestamp, durationMs: real, frames: count, deviceTimeUs: real };

/** Adds an issue at `path` unless an array holds the values its dimensions say. */
function expectLength(ctx: z.RefinementCtx, path: string[], actual: number, expected: number, why: string): void {
  if (actual !== expected) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'length'],
      message: `holds ${actual} values, not ${expected} (${why})`,
    });
  }
}

const layoutSchema = z.strictObject({
  inputs: count,
  referenceCount: count,
  referenceElements: count,
  mirrorsPerElement: z.number().int().positive(),
  region: rectangle,
  roi: rectangle,
}) satisfies z.ZodType<DmdLayout>;

const triggerLagSchema = z.strictObject({ ...stepRun, lagFrames: z.number().int() }) satisfies z.ZodType<
  Stored<TriggerLagResult>
>;

const darkSchema = z
  .strictObject({ ...stepRun, offsetAdu: arrayRef, slopeAduPerUs: arrayRef, offsetSpreadAdu: real })
  .superRefine((dark, ctx) => {
    expectLength(ctx, ['slopeAduPerUs'], dark.slopeAduPerUs.length, dark.offsetAdu.length, 'one per ROI pixel');
  }) satisfies z.ZodType<Stored<DarkResult>>;

const exposureSchema = z
  .strictObject({
    ...stepRun,
    litMirrors: count,
    exposureUs: real,
    margin: real,
    responsivity: real,
    sweepExposureUs: arrayRef,
    sweepMaxAdu: arrayRef,
    sweepSaturatedPixels: arrayRef,
    speckleImageAdu: arrayRef,
    speckleWidthPx: count,
    speckleHeightPx: count,
    histogramEdges: arrayRef,
    histogramCounts: arrayRef,
  })
  .superRefine((exposure, ctx) => {
    const tried = exposure.sweepExposureUs.length;
    expectLength(ctx, ['sweepMaxAdu'], exposure.sweepMaxAdu.length, tried, 'one per exposure tried');
    expectLength(ctx, ['sweepSaturatedPixels'], exposure.sweepSaturatedPixels.length, tried, 'one per exposure tried');
    const pixels = exposure.speckleWidthPx * exposure.speckleHeightPx;
    expectLength(ctx, ['speckleImageAdu'], exposure.speckleImageAdu.length, pixels, 'speckleWidthPx × speckleHeightPx');
  }) satisfies z.ZodType<Stored<ExposureResult>>;

const referenceSchema = z.strictObject({
  ...stepRun,
  averagedFrames: count,
  snr: real,
  targetSnr: real,
  referenceIntensity: arrayRef,
  weights: arrayRef,
  amplitude: arrayRef,
  coordinates: arrayRef.optional(),
  rungs: z
    .array(
      z.strictObject({ elements: count, referenceIntensity: arrayRef, coefficients: arrayRef, coordinates: arrayRef }),
    )
    .optional(),
}) satisfies z.ZodType<Stored<ReferenceResult>>;

const linearitySchema = z.strictObject({
  ...stepRun,
  superpositionError: real,
  realSuperpositionError: real,
  pairs: count,
}) satisfies z.ZodType<Stored<LinearityResult>>;

const stabilitySchema = z
  .strictObject({
    ...stepRun,
    timesS: arrayRef,
    correlation: arrayRef,
    noiseFloor: real,
    timeConstantS: real,
    drifting: z.boolean(),
    recalibrationIntervalS: real,
    correlationThreshold: real,
  })
  .superRefine((stability, ctx) => {
    expectLength(ctx, ['correlation'], stability.correlation.length, stability.timesS.length, 'one per repetition');
  }) satisfies z.ZodType<Stored<StabilityResult>>;

const qualitySchema = z.strictObject({
  intensityCorrelation: real,
  intensityRelativeError: real,
  testInputs: count,
  anchorConditionMedian: real,
  anchorConditionMax: real,
  frames: count,
  deviceTimeUs: real,
}) satisfies z.ZodType<TransmissionMatrixQuality>;

const transmissionMatrixSchema = z
  .strictObject({
    ...stepRun,
    rows: count,
    cols: count,
    re: arrayRef,
    im: arrayRef,
    method: z.enum(['anchors', 'circulant']),
    layout: layoutSchema,
    quality: qualitySchema,
  })
  .superRefine((matrix, ctx) => {
    const values = matrix.rows * matrix.cols;
    expectLength(ctx, ['re'], matrix.re.length, values, 'rows × cols');
    expectLength(ctx, ['im'], matrix.im.length, values, 'rows × cols');
  }) satisfies z.ZodType<Stored<CalibrationSteps['transmissionMatrix']>>;

const calibrationSchema = z
  .strictObject({
    createdAt: timestamp,
    device: z.strictObject({
      model: z.string(),
      serialNumber: z.string(),
      firmwareVersion: z.string(),
      camera: z.strictObject({
        bitDepth: z.union([z.literal(8), z.literal(10), z.literal(12)]),
        maxAdu: count,
        widthPx: count,
        heightPx: count,
      }),
      dmd: z.strictObject({ widthMirrors: count, heightMirrors: count }),
    }),
    settings: z.strictObject({ ...settingsSchema.shape, inputRegion: rectangle, outputRoi: rectangle }),
    layout: layoutSchema,
    outputs: z.number().int().positive(),
    seed: z.number().int(),
    steps: z.strictObject({
      triggerLag: triggerLagSchema.optional(),
      dark: darkSchema.optional(),
      exposure: exposureSchema.optional(),
      reference: referenceSchema.optional(),
      linearity: linearitySchema.optional(),
      stability: stabilitySchema.optional(),
      transmissionMatrix: transmissionMatrixSchema.optional(),
    }),
  })
  .superRefine((calibration, ctx) => {
    const { outputs, layout, steps } = calibration;
    if (layout.roi.width * layout.roi.height < outputs) {
      ctx.addIssue({ code: 'custom', path: ['outputs'], message: `${outputs} outputs exceed the layout's ROI` });
    }
    const perOutput = 'one per output';
    if (steps.dark) {
      expectLength(ctx, ['steps', 'dark', 'offsetAdu'], steps.dark.offsetAdu.length, outputs, perOutput);
    }
    const reference = steps.reference;
    if (!reference) return;
    const path = ['steps', 'reference'];
    expectLength(ctx, [...path, 'amplitude'], reference.amplitude.length, outputs, perOutput);
    const products = outputs * layout.referenceCount;
    expectLength(ctx, [...path, 'weights'], reference.weights.length, products, 'outputs × layout.referenceCount');
    const intensity = reference.referenceIntensity.length;
    expectLength(ctx, [...path, 'referenceIntensity'], intensity, products, 'layout.referenceCount × outputs');
    if (reference.coordinates) {
      const points = reference.coordinates.length;
      expectLength(ctx, [...path, 'coordinates'], points, 2 * products, 'outputs × layout.referenceCount × 2');
    }
    reference.rungs?.forEach((rung, r) => {
      const at = [...path, 'rungs', String(r)];
      const perRung = outputs * RUNG_REFERENCES;
      expectLength(ctx, [...at, 'referenceIntensity'], rung.referenceIntensity.length, perRung, '6 × outputs');
      expectLength(ctx, [...at, 'coefficients'], rung.coefficients.length, perRung, 'outputs × 6');
      expectLength(ctx, [...at, 'coordinates'], rung.coordinates.length, 2 * perRung, 'outputs × 6 × 2');
    });
  }) satisfies z.ZodType<Stored<DeviceCalibration>>;

const headerSchema = z.strictObject({
  formatVersion: z.literal(CALIBRATION_FORMAT_VERSION),
  calibration: calibrationSchema,
});
type Header = z.infer<typeof headerSchema>;

/** The first issue's place in the header, with the key at fault when the issue is about unknown keys. */
function issueField(issue: z.core.$ZodIssue): string {
  const keys = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
  return [...issue.path, ...keys].map(String).join('.');
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding and decoding

/**
 * The file's bytes for `cal`. Throws `ArgumentError` naming the field when `cal` does not fit the format (a
 * non-integer count, an unknown key, arrays whose lengths contradict their dimensions): nothing is written then.
 */
export function encodeCalibration(cal: DeviceCalibration): Uint8Array {
  const arrays: Float32Array[] = [];
  const header = { formatVersion: CALIBRATION_FORMAT_VERSION, calibration: cal };
  const text = JSON.stringify(header, (_key, value: unknown) => storedValue(value, arrays));
  const parsed = headerSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ArgumentError(`the calibration cannot be saved: ${issue.message}`, {
      field: issueField(issue),
      fix: 'pass a DeviceCalibration of the documented shape: the file stores exactly its fields',
    });
  }
  return packContainer(CALIBRATION_FORMAT_VERSION, new TextEncoder().encode(text), arrays);
}

function storedValue(value: unknown, arrays: Float32Array[]): unknown {
  if (value instanceof Float32Array) return { array: arrays.push(value) - 1, length: value.length };
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/**
 * The calibration in a file's bytes; `source` (a path) names them in errors. Throws `CalibrationFileError` kind
 * `corrupt` for damaged, truncated or invalid bytes (`field` names the place: `checksum`, or a header path such as
 * `calibration.steps.dark.offsetAdu`), and kind `unsupported` for a newer format version.
 */
export function decodeCalibration(bytes: Uint8Array, source?: string): DeviceCalibration {
  const label = source === undefined ? 'the calibration data' : `calibration file ${source}`;
  const { header, arraySection } = unpackContainer(bytes, CALIBRATION_FORMAT_VERSION, label);
  const { calibration } = parseHeader(header, label);
  const refs = new Map<string, ArrayRef>();
  collectArrayRefs(calibration, 'calibration', refs);
  const arrays = unpackArrays(arraySection, arrayLengths(refs, label), label);
  return restoreArrays(calibration, arrays) as DeviceCalibration;
}

function parseHeader(header: Uint8Array, label: string): Header {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(header));
  } catch (error) {
    throw corruptError(label, 'header', 'its header is not UTF-8 JSON', error);
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw corruptError(label, issueField(issue), `invalid header: ${issue.message}`);
  }
  return parsed.data;
}

function isArrayRef(value: unknown): value is ArrayRef {
  return typeof value === 'object' && value !== null && 'array' in value;
}

/** Every `ArrayRef` under `value`, keyed by its path in the header. */
function collectArrayRefs(value: unknown, path: string, refs: Map<string, ArrayRef>): void {
  if (isArrayRef(value)) refs.set(path, value);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) collectArrayRefs(child, `${path}.${key}`, refs);
  }
}

/** The length of each array in file order; each array must be referenced exactly once. */
function arrayLengths(refs: ReadonlyMap<string, ArrayRef>, label: string): number[] {
  const lengths: number[] = [];
  for (const [path, ref] of refs) {
    if (ref.array >= refs.size || lengths[ref.array] !== undefined) {
      throw corruptError(label, `${path}.array`, `array ${ref.array} is out of range or referenced twice`);
    }
    lengths[ref.array] = ref.length;
  }
  return lengths;
}

function restoreArrays(value: unknown, arrays: readonly Float32Array[]): unknown {
  if (isArrayRef(value)) return arrays[value.array];
  if (Array.isArray(value)) return value.map((child) => restoreArrays(child, arrays));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, restoreArrays(child, arrays)]));
}

// ---------------------------------------------------------------------------------------------------------------
// Files

/**
 * Writes `cal` to `path` atomically: a reader sees the old file or the new one, never a mix, and a failed save
 * leaves the old file as it was and no temporary file behind.
 */
export async function saveCalibration(path: string, cal: DeviceCalibration): Promise<void> {
  await writeFileAtomic(path, encodeCalibration(cal));
}

/** Reads and decodes the calibration at `path`; a missing file throws `CalibrationFileError` kind `missing`. */
export async function loadCalibration(path: string): Promise<DeviceCalibration> {
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    throw new CalibrationFileError('missing', `there is no calibration file at ${path}`, {
      field: 'path',
      fix: 'calibrate with `opu calibrate <url>` to create it, or pass the path of an existing calibration file',
      cause: error,
    });
  });
  return decodeCalibration(bytes, path);
}

// ---------------------------------------------------------------------------------------------------------------
// Fitness for use

export interface CalibrationCheck {
  /** The device the calibration is about to be used with (its `OpuInfo`). */
  info: CalibratedDevice;
  /** The facade the caller expects: inputs, outputs, references, mirrors per element and ROI size must match. */
  facade?: { layout: DmdLayout; outputs: number };
  now?: Date;
  /** Oldest acceptable calibration, seconds; a shorter recalibration interval measured by the stability step wins. */
  maxAgeS?: number;
  /** Steps that must be present; by default those `project()` needs. */
  required?: CalibrationStepName[];
  /** Use the calibration despite a mismatch or its age, reporting them as warnings. */
  force?: boolean;
}

export const DEFAULT_MAX_CALIBRATION_AGE_S = 7 * 24 * 3600;
const FORCE_FIX = 'recalibrate with `opu calibrate <url>`, or pass --force (force: true) to use it anyway';

interface Problem {
  field: string;
  message: string;
}

/**
 * Whether `cal` may be used as `check` describes. Throws `CalibrationFileError` kind `mismatch` (another device or
 * layout), `incomplete` (a required step missing) or `stale` (too old). With `force`, a mismatch or staleness is
 * returned as a warning instead; an incomplete calibration cannot be forced, because the missing data is not there.
 */
export function checkCalibration(cal: DeviceCalibration, check: CalibrationCheck): string[] {
  const warnings: string[] = [];
  const report = (kind: 'mismatch' | 'stale', problems: Problem[]) => {
    if (problems.length === 0) return;
    if (!check.force) throw problemsError(kind, problems);
    for (const { field, message } of problems) warnings.push(`${field}: ${message} (used anyway: force)`);
  };
  report('mismatch', [...deviceMismatches(cal, check.info), ...facadeMismatches(cal, check.facade)]);
  requireSteps(cal, check.required ?? PROJECTION_STEPS);
  report('stale', staleness(cal, check));
  return warnings;
}

function problemsError(kind: 'mismatch' | 'stale', problems: Problem[]): CalibrationFileError {
  const message = problems.map(({ message }) => message).join('; ');
  const field = problems.map(({ field }) => field).join(', ');
  return new CalibrationFileError(kind, message, { field, fix: FORCE_FIX });
}

function deviceMismatches(cal: DeviceCalibration, info: CalibratedDevice): Problem[] {
  const now = calibratedDevice(info);
  const compared: [string, unknown, unknown][] = [
    ...(['model', 'serialNumber', 'firmwareVersion'] as const).map(
      (key) => [key, cal.device[key], now[key]] as [string, unknown, unknown],
    ),
    ...(['bitDepth', 'maxAdu', 'widthPx', 'heightPx'] as const).map(
      (key) => [`camera.${key}`, cal.device.camera[key], now.camera[key]] as [string, unknown, unknown],
    ),
    ...(['widthMirrors', 'heightMirrors'] as const).map(
      (key) => [`dmd.${key}`, cal.device.dmd[key], now.dmd[key]] as [string, unknown, unknown],
    ),
  ];
  return compared
    .filter(([, was, is]) => was !== is)
    .map(([key, was, is]) => ({
      field: `device.${key}`,
      message: `calibrated on ${key} "${String(was)}", but the device has "${String(is)}"`,
    }));
}

function facadeMismatches(cal: DeviceCalibration, expected: CalibrationCheck['facade']): Problem[] {
  if (!expected) return [];
  const calibrated = cal.layout;
  const compared: [string, number, number][] = [
    ['inputs', calibrated.inputs, expected.layout.inputs],
    ['outputs', cal.outputs, expected.outputs],
    ['referenceCount', calibrated.referenceCount, expected.layout.referenceCount],
    ['referenceElements', calibrated.referenceElements, expected.layout.referenceElements],
    ['mirrorsPerElement', calibrated.mirrorsPerElement, expected.layout.mirrorsPerElement],
    ['roi.width', calibrated.roi.width, expected.layout.roi.width],
    ['roi.height', calibrated.roi.height, expected.layout.roi.height],
  ];
  return compared
    .filter(([, was, is]) => was !== is)
    .map(([key, was, is]) => ({
      field: `layout.${key}`,
      message: `calibrated for ${key} ${was}, but ${is} is expected`,
    }));
}

function requireSteps(cal: DeviceCalibration, required: readonly CalibrationStepName[]): void {
  const missing = required.filter((step) => cal.steps[step] === undefined);
  if (missing.length === 0) return;
  throw new CalibrationFileError('incomplete', `the calibration lacks the step(s) ${missing.join(', ')}`, {
    field: missing.map((step) => `steps.${step}`).join(', '),
    fix: 'run the calibration to the end with `opu calibrate <url>`',
  });
}

function staleness(cal: DeviceCalibration, check: CalibrationCheck): Problem[] {
  const interval = cal.steps.stability?.recalibrationIntervalS;
  const measured = interval !== undefined && Number.isFinite(interval);
  const maxAgeAllowedS = check.maxAgeS ?? DEFAULT_MAX_CALIBRATION_AGE_S;
  const byInterval = measured && interval < maxAgeAllowedS;
  const maxAgeS = byInterval ? interval : maxAgeAllowedS;
  const limit = byInterval ? 'the recalibration interval the stability step measured' : 'the maximum age';
  const ageS = ((check.now ?? new Date()).getTime() - Date.parse(cal.createdAt)) / 1000;
  if (Number.isNaN(ageS))
    return [{ field: 'createdAt', message: `"${cal.createdAt}" is no date, so its age is unknown` }];
  if (ageS <= maxAgeS) return [];
  return [
    { field: 'createdAt', message: `calibrated ${duration(ageS)} ago, longer than ${limit} (${duration(maxAgeS)})` },
  ];
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(0)} min`;
  if (seconds < 2 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

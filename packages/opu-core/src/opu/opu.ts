import { kernels } from 'opu-native';
import { checkCalibration } from '../calibration/calibration-file.js';
import type { DeviceCalibration } from '../calibration/device-calibration.js';
import { type PipelineOptions, runCalibrationPipeline } from '../calibration/pipeline.js';
import { referenceMeasurementOf, restoreAcquirer } from '../calibration/restore.js';
import { bytesPerFrame, type DmdFrames, litMirrorCounts, packDmdFrames, requireBinary } from '../device/frames.js';
import { minFrameTimeUs } from '../device/info.js';
import type { OpuDevice } from '../device/opu-device.js';
import {
  type AcquisitionStats,
  ExposureControlledAcquirer,
  emptyStats,
  type FramesAcquired,
} from '../measure/acquisition.js';
import { type CrossTermCombination, crossTermCombination } from '../measure/cross-terms.js';
import {
  type BinaryPieces,
  countPieceFrames,
  type Decomposition,
  decomposeInPasses,
  decompositionBytesPerRow,
  type ProjectionEncoding,
  planDecomposition,
} from '../measure/decompose.js';
import {
  DRIFT_POLICIES,
  type DriftPolicy,
  type DriftReport,
  DriftTracker,
  measureReferenceCorrelation,
} from '../measure/drift-tracker.js';
import { type DmdLayout, lightElements, lightReference, makeLayout } from '../measure/layout.js';
import {
  lightRungReference,
  measureRung,
  RUNG_REFERENCES,
  type Rung,
  referenceLadder,
  referencesAbove,
  rungFor,
} from '../measure/reference-ladder.js';
import {
  measureReference,
  measureReferenceFields,
  type ReferenceMeasurement,
} from '../measure/reference-measurement.js';
import { ScratchArrays } from '../measure/scratch.js';
import type { IntensityFeatures, LinearProjection } from '../operator/operator.js';
import {
  ArgumentError,
  CalibrationFileError,
  DeviceStateError,
  DriftError,
  UnsupportedError,
} from '../support/errors.js';

export interface OpuOptions {
  /** Length of the vectors given to `project()` and `transform()`. */
  inputs: number;
  /** Length of the vectors they return. */
  outputs: number;
  /** Disjoint reference regions combined per output (1–4). More references avoid outputs with a weak reference. */
  referenceCount?: number;
  /**
   * Elements in each reference region; best near the number of lit data elements. Default: inputs / 4, a balance
   * between dense binary rows and the sparse top bit planes of real rows.
   */
  referenceElements?: number;
  /**
   * Mirrors per element (a macro-pixel): more light per element, hence shorter exposures, for the same statistics.
   * Default: as many as keep the whole layout within about 4096 mirrors, at most 64 (2 for 1024 inputs, 64 for 10).
   */
  mirrorsPerElement?: number;
  /** Frames averaged per reference pattern during calibration. */
  calibrationFrames?: number;
  /** Seed of the random calibration patterns. */
  seed?: number;
  /** Calibrate while opening (default). Without it, call `calibrate()` before `project()`. */
  calibrate?: boolean;
  /**
   * A saved calibration (`opu calibrate`, `loadCalibration()`) to use instead of calibrating while opening: its
   * layout, settings and reference fields. It must come from this device and be fresh (see `force`).
   */
  calibration?: DeviceCalibration;
  /**
   * Use a calibration from another device, firmware, one past its re-calibration interval or one whose references
   * no longer match the medium, with warnings.
   */
  force?: boolean;
  /**
   * Device seconds between checks of the references' speckle (a few frames each; docs/calibration.md): default 5,
   * Infinity turns drift tracking off.
   */
  driftCheckIntervalS?: number;
  /** Relative rms error drift may add to project() before `onDrift` acts (default 0.03; see docs/calibration.md). */
  driftErrorBudget?: number;
  /**
   * When the references' correlation falls past what `driftErrorBudget` allows: re-measure the reference fields in
   * place ('recalibrate', the default), throw a `DriftError` ('error'), or only report it in `meta.drift` ('ignore').
   */
  onDrift?: DriftPolicy;
}

export interface ProjectOptions {
  /** 'auto' takes the ternary fast path when every row is a·t⁺ − b·t⁻ (t± binary), bit planes otherwise. */
  encoding?: ProjectionEncoding;
  /** Bits per sign for bit-plane encoding of real rows (default 8: 0.4% quantization error). */
  precisionBits?: number;
  /**
   * Times each binary piece is measured, its frames averaged: the knob that trades device time for error. Camera
   * noise falls as 1/√averages (4.4% → 2.3% at 4 for dense rows on the default camera, docs/benchmarks.md), down to
   * the floor of the calibration's own noise. Default 1.
   */
  averages?: number;
  /** Called as frames are measured, for progress bars: frames done so far (re-acquisitions included) and planned. */
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  framesDone: number;
  framesPlanned: number;
}

export interface ResultMetadata extends AcquisitionStats {
  encoding: 'binary' | 'ternary' | 'bitplanes';
  /** Wall-clock time of the call, including the simulation's own compute when the device is simulated. */
  wallTimeMs: number;
  /** Input vectors per second of device time: the throughput of the modelled or real hardware. */
  vectorsPerDeviceSecond: number;
  /** The medium's drift as the last check saw it, and the checks and re-measurements this call made. */
  drift: DriftReport;
  /** Re-measurements of the reference fields during the call (`drift.recalibrations`, for cost tallies). */
  recalibrations: number;
}

/** A row-major `rows × cols` result with the metadata of the measurement that produced it. */
export interface OpuResult {
  data: Float32Array;
  rows: number;
  cols: number;
  meta: ResultMetadata;
}

/**
 * Budget for what one pass of `project()` holds besides the input and the result: a slice of rows as binary pieces,
 * and their float64 sums. The whole batch never is in pieces at once, so any batch size runs in bounded memory.
 */
const PASS_BYTES = 64 * 2 ** 20;
/** Budget for one measurement (of a pass's pieces, or of `transform()`'s rows): DMD frames and their intensities. */
const MEASUREMENT_BYTES = 64 * 2 ** 20;
/** JavaScript heap the acquirer spends per frame: its lit count, and the sort order and groups it exposes by. */
const ACQUIRER_BYTES_PER_FRAME = 32;
/** Values in the longest Float32Array Node 20 (V8) allocates: the most a result can hold. */
const MAX_RESULT_VALUES = 2 ** 32;

/**
 * The facade over any `OpuDevice`: native intensity features and linear random projections.
 *
 * `project(e)` returns `e·Bᵀ` where B (outputs × inputs) has i.i.d. N(0, 1) entries:
 * B_ij = √2·Re(ū_i·R_ij)/|u_i|, with R the medium's transmission matrix and u_i the calibrated reference field.
 * It is measured from intensities only, with K + 1 frames per binary vector: |R(x + r_k)|² and |Rx|².
 */
export class Opu implements LinearProjection, IntensityFeatures, AsyncDisposable {
  readonly device: OpuDevice;
  readonly layout: DmdLayout;
  readonly #acquirer: ExposureControlledAcquirer;
  readonly #options: ResolvedOptions;
  /** Dimmer references for sparse pieces, measured on first use (see measure/reference-ladder.ts). */
  readonly #ladder: readonly Rung[];
  readonly #drift: DriftTracker;
  #calibration: ReferenceMeasurement | undefined;
  /** Measurements run one at a time: each sets exposures and reads frames in pairs that must not interleave. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The work arrays of `#linearMeasure`, safe to share because measurements run one at a time. */
  readonly #scratch = new ScratchArrays();
  /** Each set of references' cross-term combination, by its measured intensities (a new measurement, a new key). */
  readonly #combinations = new WeakMap<Float32Array, { unit: number; combination: CrossTermCombination }>();

  private constructor(device: OpuDevice, layout: DmdLayout, options: ResolvedOptions) {
    this.device = device;
    this.layout = layout;
    this.#options = options;
    this.#ladder = referenceLadder(layout);
    this.#acquirer = new ExposureControlledAcquirer(device, options.outputs);
    this.#drift = new DriftTracker({
      checkIntervalS: options.driftCheckIntervalS,
      errorBudget: options.driftErrorBudget,
      policy: options.onDrift,
    });
  }

  /**
   * Opens the device, lays out data and reference regions on the DMD and an ROI on the camera, and calibrates, or
   * adopts `options.calibration`.
   */
  static async open(device: OpuDevice, options: OpuOptions): Promise<Opu> {
    const saved = options.calibration;
    const resolved = resolveOptions(saved ? { ...layoutOptionsOf(saved), ...options } : options);
    await device.open();
    try {
      if (saved) return await Opu.#adopt(device, resolved, saved, options.force ?? false);
      const { dmd, camera } = device.info;
      const mirrorsPerElement =
        resolved.mirrorsPerElement ?? defaultMirrorsPerElement(resolved, dmd.widthMirrors * dmd.heightMirrors);
      const layout = makeLayout({ ...resolved, mirrorsPerElement }, dmd.widthMirrors, camera.widthPx);
      const needed = layout.region.width * layout.region.height;
      if (layout.region.height > dmd.heightMirrors) {
        throw new UnsupportedError(`inputs and references need ${needed} mirrors, the DMD has fewer`, {
          field: 'inputs',
          fix: 'use fewer inputs, smaller references or fewer mirrors per element',
        });
      }
      if (layout.roi.height > camera.heightPx) {
        throw new UnsupportedError(
          `${resolved.outputs} outputs exceed the ${camera.widthPx}×${camera.heightPx} sensor`,
          {
            field: 'outputs',
            fix: `use at most ${camera.widthPx * camera.heightPx} outputs`,
          },
        );
      }
      const exposureUs = device.settings.exposureUs;
      await device.configure({
        inputRegion: layout.region,
        outputRoi: layout.roi,
        frameTimeUs: Math.max(
          device.settings.frameTimeUs,
          Math.ceil(minFrameTimeUs(device.info, exposureUs, layout.roi.height)),
        ),
      });
      const opu = new Opu(device, layout, resolved);
      if (options.calibrate !== false) await opu.calibrate();
      return opu;
    } catch (error) {
      await device.close();
      throw error;
    }
  }

  static async #adopt(device: OpuDevice, resolved: ResolvedOptions, saved: DeviceCalibration, force: boolean) {
    const { layout } = saved;
    const requested = { ...resolved, mirrorsPerElement: resolved.mirrorsPerElement ?? layout.mirrorsPerElement };
    for (const key of ['inputs', 'referenceCount', 'referenceElements', 'mirrorsPerElement'] as const) {
      if (requested[key] !== layout[key]) {
        throw new CalibrationFileError(
          'mismatch',
          `the calibration was made for ${key} = ${layout[key]}, not ${requested[key]}`,
          {
            field: key,
            fix: `drop ${key} from the URL and options, or calibrate for ${key} = ${requested[key]}`,
          },
        );
      }
    }
    if (saved.outputs !== requested.outputs) {
      throw new CalibrationFileError('mismatch', `the calibration was made for ${saved.outputs} outputs`, {
        field: 'outputs',
        fix: 'drop outputs from the URL and options, or calibrate for this many outputs',
      });
    }
    const warnings = checkCalibration(saved, { info: device.info, force });
    await device.configure(saved.settings);
    const opu = new Opu(device, layout, resolved);
    restoreAcquirer(saved, opu.#acquirer);
    opu.#calibration = referenceMeasurementOf(saved);
    opu.#calibrationWarnings = [...warnings, ...(await opu.#checkAdoptedReferences(saved, force))];
    return opu;
  }

  /**
   * A saved calibration is as stale as the medium has moved since, whatever its age: the references are shown a few
   * times and compared with the saved intensities. Past the threshold it is `stale` (a warning with `force`, and
   * then the first measurement re-measures the references when `onDrift` is 'recalibrate').
   */
  async #checkAdoptedReferences(saved: DeviceCalibration, force: boolean): Promise<string[]> {
    const calibration = this.#calibration!;
    const frames = saved.steps.reference!.averagedFrames;
    const stats = emptyStats();
    const check = await measureReferenceCorrelation(
      this.#acquirer,
      this.layout,
      calibration.referenceIntensity,
      frames,
      stats,
    );
    // The check exposes for the references alone; the saved settings are what the calibration was measured at.
    await this.device.configure(saved.settings);
    this.#drift.reset(calibration, frames, check.timeUs, check.correlation);
    const { threshold } = this.#drift.status;
    if (check.correlation >= threshold) return [];
    const problem =
      `the references' speckle correlates ${check.correlation.toFixed(4)} with the saved one, below ` +
      `${threshold.toFixed(4)}: the medium moved since the calibration`;
    const field = 'steps.reference.referenceIntensity';
    if (!force) {
      throw new CalibrationFileError('stale', problem, {
        field,
        fix: 'recalibrate with `opu calibrate <url>`, or pass --force (force: true) to re-measure the references in place',
      });
    }
    return [`${field}: ${problem} (used anyway: force)`];
  }

  #calibrationWarnings: readonly string[] = [];

  /** What a forced calibration's checks found wrong (another device, stale); empty otherwise. */
  get calibrationWarnings(): readonly string[] {
    return this.#calibrationWarnings;
  }

  get inputs(): number {
    return this.layout.inputs;
  }

  get outputs(): number {
    return this.#options.outputs;
  }

  /**
   * The reference-field measurement `project()` uses (from `calibrate()`, a saved calibration or the pipeline's
   * reference step), or undefined before one.
   */
  get calibration(): ReferenceMeasurement | undefined {
    return this.#calibration;
  }

  /** Measures trigger lag, dark level, responsivity and the reference fields. Repeat when the medium has drifted. */
  calibrate(): Promise<ReferenceMeasurement> {
    return this.#exclusive(async () => {
      const averagedFrames = this.#options.calibrationFrames;
      this.#calibration = await measureReference(this.#acquirer, this.layout, {
        averagedFrames,
        seed: this.#options.seed,
      });
      this.#drift.reset(this.#calibration, averagedFrames, this.#acquirer.lastFrameEndUs);
      return this.#calibration;
    });
  }

  /**
   * Runs the calibration pipeline (dark frame, auto-exposure, reference fields to a target SNR, linearity, drift,
   * optionally the transmission matrix; see docs/calibration.md) and adopts its reference fields for `project()`.
   * Save the result with `saveCalibration()` and reopen with `openOpu(url, { calibration })`.
   */
  runCalibration(options: PipelineOptions = {}): Promise<DeviceCalibration> {
    return this.#exclusive(async () => {
      const result = await runCalibrationPipeline(
        {
          device: this.device,
          layout: this.layout,
          acquirer: this.#acquirer,
          project: async (rows, calibration, onProgress) => {
            const out = allocateResult(this.#rowsOf(rows, 'rows'), this.outputs, 'rows');
            const plan = planDecomposition(rows, this.inputs, 'auto', 8);
            return this.#projectRows(rows, plan, out, calibration, onProgress, performance.now());
          },
        },
        options,
      );
      if (result.steps.reference) {
        this.#calibration = referenceMeasurementOf(result);
        this.#drift.reset(this.#calibration, result.steps.reference.averagedFrames, this.#acquirer.lastFrameEndUs);
      }
      return result;
    });
  }

  /**
   * Native features `|R x|²` of binary rows (`rows × inputs`, values 0 or 1), in units of one lit element's mean
   * intensity (so a row with k lit elements has features of mean k, exponentially distributed).
   */
  async transform(x: ArrayLike<number>, options: Pick<ProjectOptions, 'onProgress'> = {}): Promise<OpuResult> {
    const started = performance.now();
    this.#requireCalibration('transform()');
    const n = this.inputs;
    const m = this.outputs;
    const rows = this.#rowsOf(x, 'x');
    // Frames are packed one measurement at a time: every value is checked before the first is shown.
    requireBinary(x, n, 'x');
    const out = allocateResult(rows, m, 'x');
    return this.#exclusive(async () => {
      const stats = emptyStats();
      await this.#trackDrift(stats);
      const calibration = this.#requireCalibration('transform()');
      const progress = progressCounter(rows, options.onProgress);
      const elementIntensity = calibration.responsivity * calibration.mirrorsPerElement;
      // Rows are packed and measured a budget at a time: the frames of a whole batch can outgrow its input.
      const rowsPerMeasurement = Math.max(1, Math.floor(MEASUREMENT_BYTES / (n + this.#bytesPerMeasuredFrame())));
      const bits = new Uint8Array(Math.min(rows, rowsPerMeasurement) * n);
      for (let first = 0; first < rows; first += rowsPerMeasurement) {
        const count = Math.min(rows, first + rowsPerMeasurement) - first;
        for (let k = 0; k < count * n; k++) bits[k] = x[first * n + k]!;
        const frames = packDmdFrames(bits.subarray(0, count * n), count, n, {
          mirrorsPerFrame: this.device.inputSize,
          mirrorsPerValue: this.layout.mirrorsPerElement,
          field: 'x',
        });
        const intensity = await this.#acquire(frames, stats, progress);
        for (let k = 0; k < intensity.length; k++) out[first * m + k] = intensity[k]! / elementIntensity;
      }
      return { data: out, rows, cols: m, meta: this.#meta('binary', rows, stats, started) };
    });
  }

  /** Linear random projection `e·Bᵀ` of real rows (`rows × inputs`), see the class documentation for B. */
  async project(e: Float32Array, options: ProjectOptions = {}): Promise<OpuResult> {
    const started = performance.now();
    this.#requireCalibration('project()');
    if (!(e instanceof Float32Array)) {
      throw new ArgumentError('is not a Float32Array', { field: 'e', fix: 'pass a row-major Float32Array' });
    }
    const n = this.inputs;
    const rows = this.#rowsOf(e, 'e');
    for (let i = 0; i < e.length; i++) {
      if (!Number.isFinite(e[i]!)) {
        throw new ArgumentError(`${e[i]} is not finite`, {
          field: `e[${Math.floor(i / n)}][${i % n}]`,
          fix: 'remove NaN and Infinity from the input (a diverging loss often causes them)',
        });
      }
    }
    const precision = options.precisionBits ?? 8;
    if (!Number.isInteger(precision) || precision < 1 || precision > 16) {
      throw new ArgumentError(`${precision} is not an integer in [1, 16]`, {
        field: 'options.precisionBits',
        fix: 'use 4–8 bits (error ≈ 6.6% to 0.4%)',
      });
    }
    const averages = options.averages ?? 1;
    if (!Number.isInteger(averages) || averages < 1 || averages > MAX_AVERAGES) {
      throw new ArgumentError(`${averages} is not an integer in [1, ${MAX_AVERAGES}]`, {
        field: 'options.averages',
        fix: 'average 1–16 times (error ∝ 1/√averages, device time ∝ averages)',
      });
    }
    const out = allocateResult(rows, this.outputs, 'e');
    const plan = planDecomposition(e, n, options.encoding ?? 'auto', precision);
    return this.#exclusive(async () => {
      const stats = emptyStats();
      await this.#trackDrift(stats);
      const calibration = this.#requireCalibration('project()');
      return this.#projectRows(e, plan, out, calibration, options.onProgress, started, averages, stats);
    });
  }

  /** Projects the rows of `e` into `out` pass by pass: decompose a slice of rows, measure its pieces, sum them. */
  async #projectRows(
    e: Float32Array,
    plan: Decomposition,
    out: Float32Array,
    calibration: ReferenceMeasurement,
    onProgress: ProjectOptions['onProgress'],
    started: number,
    averages = 1,
    stats = emptyStats(),
  ): Promise<OpuResult> {
    const m = this.outputs;
    const rows = out.length / m;
    const rowBytes = decompositionBytesPerRow(plan) + m * Float64Array.BYTES_PER_ELEMENT;
    const rowsPerPass = Math.max(1, Math.floor(PASS_BYTES / rowBytes));
    // Pieces are made pass by pass, so a progress bar's total costs a decomposition of its own, without measuring.
    const progress =
      onProgress &&
      progressCounter(
        countPieceFrames(e, plan, rowsPerPass, (v) => averages * this.#framesOf(calibration, v)),
        onProgress,
      );
    const sums = this.#scratch.float64('rowSums', Math.min(rows, rowsPerPass) * m);
    for (const pieces of decomposeInPasses(e, plan, rowsPerPass)) {
      sums.fill(0);
      await this.#accumulatePieces(pieces, calibration, sums, stats, progress, averages);
      storeRowSums(sums, pieces.firstRow, pieces.endRow, out, m);
    }
    return { data: out, rows, cols: m, meta: this.#meta(plan.encoding, rows, stats, started) };
  }

  /**
   * Adds weight · B·vector of every piece to its row's sum (rows from `pieces.firstRow`), measuring one budget of
   * pieces at a time. The sums are float64: a row near the float32 maximum has pieces whose partial sums overflow
   * float32 even when the row's projection does not.
   */
  async #accumulatePieces(
    pieces: BinaryPieces,
    calibration: ReferenceMeasurement,
    sums: Float64Array,
    stats: AcquisitionStats,
    progress: FramesAcquired | undefined,
    averages: number,
  ): Promise<void> {
    const m = this.outputs;
    const framesPerPiece = (Math.max(calibration.referenceCount, RUNG_REFERENCES) + MAX_PLAIN_FRAMES) * averages;
    const pieceBytes = framesPerPiece * this.#bytesPerMeasuredFrame() + m * Float32Array.BYTES_PER_ELEMENT;
    const perMeasurement = Math.max(1, Math.floor(MEASUREMENT_BYTES / pieceBytes));
    for (let p0 = 0; p0 < pieces.count; p0 += perMeasurement) {
      const p1 = Math.min(pieces.count, p0 + perMeasurement);
      await this.#linearMeasure(pieces, p0, p1, calibration, sums, stats, progress, averages);
    }
  }

  /** Memory one measured frame takes: its mirrors packed twice (batch and exposure group), intensities, bookkeeping. */
  #bytesPerMeasuredFrame(): number {
    const intensityBytes = this.outputs * Float32Array.BYTES_PER_ELEMENT;
    return 2 * bytesPerFrame(this.device.inputSize) + intensityBytes + ACQUIRER_BYTES_PER_FRAME;
  }

  async close(): Promise<void> {
    await this.device.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The layout's dimmer reference rungs, when the calibration can place them (it has the references' plane). */
  #rungs(calibration: ReferenceMeasurement): readonly Rung[] {
    return calibration.coordinates ? this.#ladder : [];
  }

  /** Frames one binary vector takes: itself alone (once or more), and with each reference of its rung. */
  #framesOf(calibration: ReferenceMeasurement, vector: Uint8Array): number {
    let lit = 0;
    for (let j = 0; j < vector.length; j++) lit += vector[j]!;
    const plan = this.#piecePlan(calibration, lit);
    return plan.plainFrames + plan.references;
  }

  /**
   * How a binary vector is measured: its rung, and how many frames show it alone. A piece of a few mirrors is too
   * dim for one frame: its I(x), which every cross term subtracts, would need more than the longest exposure (a
   * one-hot piece with one mirror per element: about 200 ms); its frames are then repeated to gather the light.
   */
  #piecePlan(calibration: ReferenceMeasurement, lit: number): PiecePlan {
    const rungs = this.#rungs(calibration);
    const rung = rungFor(this.layout, rungs, lit);
    const referenceElements = rung === 0 ? this.layout.referenceElements : rungs[rung - 1]!.elements;
    const plainLit = Math.max(lit, referenceElements / 2) * this.layout.mirrorsPerElement;
    const needed = this.#acquirer.exposureFor(plainLit, 1);
    const longest = this.device.info.limits.exposureUs.max;
    return {
      rung,
      references: rung === 0 ? calibration.referenceCount : RUNG_REFERENCES,
      plainFrames: Math.min(MAX_PLAIN_FRAMES, Math.max(1, Math.ceil(needed / longest))),
      plainLit,
    };
  }

  /** Measures rung r and every rung above it not measured yet: each is placed through the one above. */
  async #requireRung(calibration: ReferenceMeasurement, r: number, stats: AcquisitionStats): Promise<void> {
    if (r === 0 || calibration.rungs[r - 1]) return;
    await this.#requireRung(calibration, r - 1, stats);
    const top = {
      count: calibration.referenceCount,
      referenceIntensity: calibration.referenceIntensity,
      coordinates: calibration.coordinates!,
    };
    const above = referencesAbove(top, calibration.rungs, r);
    calibration.rungs[r - 1] = await measureRung(
      this.#acquirer,
      this.layout,
      this.#rungs(calibration),
      r,
      above,
      this.#options.calibrationFrames,
      stats,
    );
  }

  /**
   * Adds weight·B·x of pieces [p0, p1) to their rows' sums, for binary vectors x in N(0, 1) units: for each, frames x
   * and x + r_k for the references r_k of its rung, then y's component along u from the cross terms
   * I(x + r_k) − I(x) − |b_ik|² = 2·Re(b̄_ik·(Rx)_i) (see `crossTermCombination`), divided by the field scale.
   */
  async #linearMeasure(
    pieces: BinaryPieces,
    p0: number,
    p1: number,
    calibration: ReferenceMeasurement,
    sums: Float64Array,
    stats: AcquisitionStats,
    onAcquired: FramesAcquired | undefined,
    averages: number,
  ): Promise<void> {
    const n = this.inputs;
    const m = this.outputs;
    const count = p1 - p0;
    const vectors = pieces.vectors.subarray(p0 * n, p1 * n);
    const rungs = this.#rungs(calibration);
    const plans: PiecePlan[] = [];
    const planOfLit = new Map<number, PiecePlan>();
    // Slot q of piece p (q < plainFrames: the piece alone, then with each reference) is `averages` frames from
    // firstSlot[p] + q.
    const firstSlot = new Int32Array(count + 1);
    for (let p = 0; p < count; p++) {
      let litElements = 0;
      for (let j = p * n; j < (p + 1) * n; j++) litElements += vectors[j]!;
      // A plan depends on the piece's lit count only: a batch has few distinct ones.
      let plan = planOfLit.get(litElements);
      if (!plan) {
        plan = this.#piecePlan(calibration, litElements);
        planOfLit.set(litElements, plan);
      }
      plans.push(plan);
      firstSlot[p + 1] = firstSlot[p]! + plan.plainFrames + plan.references;
      if (plan.rung > 0 && !calibration.rungs[plan.rung - 1]) await this.#requireRung(calibration, plan.rung, stats);
    }
    const frames = this.#scratch.frames('pieceFrames', firstSlot[count]! * averages, this.device.inputSize);
    const lit = this.#scratch.uint32('lit', frames.count);
    const stride = bytesPerFrame(frames.mirrorsPerFrame);
    const mirrorsPerElement = this.layout.mirrorsPerElement;
    for (let p = 0; p < count; p++) {
      const { rung, plainFrames, plainLit } = plans[p]!;
      const first = firstSlot[p]! * averages;
      const end = firstSlot[p + 1]! * averages;
      let dataLit = 0;
      for (let j = 0; j < n; j++) {
        if (!vectors[p * n + j]) continue;
        lightElements(frames, first, this.layout, j, j + 1);
        dataLit += mirrorsPerElement;
      }
      // Every frame of the piece shows its data: the first frame's bytes, copied.
      for (let f = first + 1; f < end; f++) frames.data.copyWithin(f * stride, first * stride, (first + 1) * stride);
      for (let f = first; f < end; f++) {
        const k = Math.floor((f - first) / averages) - plainFrames;
        // I(x) enters as an absolute term next to I(x + r_k): exposing a sparse x longer than half a reference
        // frame buys little accuracy and costs frame time.
        if (k < 0) lit[f] = Math.max(dataLit, plainLit);
        else if (rung === 0) {
          lightReference(frames, f, this.layout, k);
          lit[f] = dataLit + this.layout.referenceElements * mirrorsPerElement;
        } else {
          lightRungReference(frames, f, this.layout, rungs[rung - 1]!, k);
          lit[f] = dataLit + rungs[rung - 1]!.elements * mirrorsPerElement;
        }
      }
    }
    const measured = this.#scratch.float32('intensity', frames.count * m);
    await this.#acquirer.acquireNormalized(frames, lit, stats, onAcquired, measured);
    const intensity = averageRepetitions(measured, m, averages);
    // One kernel call per rung (each has its combination), its pieces in batch order.
    const piecesOfRung = new Map<number, number[]>();
    for (let p = 0; p < count; p++) {
      const rung = plans[p]!.rung;
      const list = piecesOfRung.get(rung);
      if (list) list.push(p);
      else piecesOfRung.set(rung, [p]);
    }
    for (const [rung, members] of piecesOfRung) {
      const { references, coefficients, plainCoefficient, offset } = this.#combination(calibration, rung);
      const firstFrame = Int32Array.from(members, (p) => firstSlot[p]!);
      const plainFrames = Int32Array.from(members, (p) => plans[p]!.plainFrames);
      const weights = Float64Array.from(members, (p) => pieces.weights[p0 + p]!);
      const sumRows = Int32Array.from(members, (p) => pieces.rows[p0 + p]! - pieces.firstRow);
      kernels.crossTerms(
        references,
        coefficients,
        plainCoefficient,
        offset,
        intensity,
        firstFrame,
        plainFrames,
        weights,
        sumRows,
        sums,
      );
    }
  }

  /** The cross-term combination of the top references (rung 0) or of a rung, made on first use. */
  #combination(calibration: ReferenceMeasurement, rung: number): CrossTermCombination {
    const unit = Math.sqrt(2 / (calibration.responsivity * calibration.mirrorsPerElement));
    const fields = rung === 0 ? calibration : calibration.rungs[rung - 1]!;
    const known = this.#combinations.get(fields.referenceIntensity);
    if (known?.unit === unit) return known.combination;
    let combination: CrossTermCombination;
    if (rung === 0) {
      const { weights, amplitude, referenceCount: K } = calibration;
      // An output whose reference field vanished (|u_i| = 0) gets 0: it carries no information on y_i.
      const coefficient = (i: number, k: number) => (amplitude[i] === 0 ? 0 : weights[i * K + k]! / amplitude[i]!);
      combination = crossTermCombination(K, calibration.referenceIntensity, coefficient, unit);
    } else {
      const { coefficients } = calibration.rungs[rung - 1]!;
      const R = RUNG_REFERENCES;
      combination = crossTermCombination(R, fields.referenceIntensity, (i, k) => coefficients[i * R + k]!, unit);
    }
    this.#combinations.set(fields.referenceIntensity, { unit, combination });
    return combination;
  }

  /** The drift hook at the start of every measurement: checks the references when due and applies `onDrift`. */
  async #trackDrift(stats: AcquisitionStats): Promise<void> {
    const action = await this.#drift.beforeMeasurement(this.#acquirer, this.layout, stats);
    if (action === 'recalibrate') await this.#remeasureReferences(stats);
    if (action === 'error') {
      const { correlation, threshold } = this.#drift.status;
      throw new DriftError(correlation, threshold, {
        field: 'medium',
        fix: "re-measure with await opu.calibrate(), or open with onDrift: 'recalibrate'",
      });
    }
  }

  /**
   * New reference fields on the medium as it is now. Responsivity, dark level and trigger lag stay: drift moves the
   * speckle, not E|R|² or the camera. The dimmer rungs were placed through the old fields: they are measured again
   * on their next use.
   */
  async #remeasureReferences(stats: AcquisitionStats): Promise<void> {
    const calibration = this.#calibration!;
    const frames = this.#drift.baselineFrames;
    const fields = await measureReferenceFields(this.#acquirer, this.layout, frames, stats);
    const { referenceIntensity, weights, amplitude, coordinates } = fields;
    this.#calibration = { ...calibration, referenceIntensity, weights, amplitude, coordinates, rungs: [] };
    this.#drift.reset(this.#calibration, frames, this.#acquirer.lastFrameEndUs);
    this.#drift.recalibrated();
  }

  async #acquire(frames: DmdFrames, stats: AcquisitionStats, onAcquired?: FramesAcquired): Promise<Float32Array> {
    const lit = litMirrorCounts(frames);
    return this.#acquirer.acquireNormalized(frames, lit, stats, onAcquired);
  }

  #exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #requireCalibration(what: string): ReferenceMeasurement {
    if (this.device.state !== 'open') {
      throw new DeviceStateError('the OPU is closed', { field: what, fix: 'open a new OPU with openOpu()' });
    }
    if (!this.#calibration) {
      throw new ArgumentError('the OPU is not calibrated', { field: what, fix: 'await opu.calibrate() first' });
    }
    return this.#calibration;
  }

  #rowsOf(x: ArrayLike<number>, field: string): number {
    const n = this.inputs;
    if (!x || typeof x.length !== 'number' || x.length === 0 || x.length % n !== 0) {
      throw new ArgumentError(`length ${x?.length} is not a positive multiple of inputs = ${n}`, {
        field,
        fix: `pass a row-major batch of rows × ${n} values`,
      });
    }
    return x.length / n;
  }

  #meta(encoding: ResultMetadata['encoding'], rows: number, stats: AcquisitionStats, started: number): ResultMetadata {
    const drift = this.#drift.takeReport();
    return {
      ...stats,
      encoding,
      wallTimeMs: performance.now() - started,
      vectorsPerDeviceSecond: stats.deviceTimeUs > 0 ? rows / (stats.deviceTimeUs * 1e-6) : 0,
      drift,
      recalibrations: drift.recalibrations,
    };
  }
}

/** Averages of consecutive runs of `averages` frames (frames × outputs → frames/averages × outputs). */
function averageRepetitions(intensity: Float32Array, outputs: number, averages: number): Float32Array {
  if (averages === 1) return intensity;
  const out = new Float32Array(intensity.length / averages);
  for (let f = 0; f < out.length / outputs; f++) {
    for (let a = 0; a < averages; a++) {
      const from = (f * averages + a) * outputs;
      for (let i = 0; i < outputs; i++) out[f * outputs + i]! += intensity[from + i]! / averages;
    }
  }
  return out;
}

/** A zeroed `rows × outputs` result, refused before any frame is shown when no Float32Array can hold it. */
function allocateResult(rows: number, outputs: number, field: string): Float32Array {
  const maxRows = Math.floor(MAX_RESULT_VALUES / outputs);
  const tooLarge = `${rows} rows × ${outputs} outputs`;
  const fix = `split it into batches of at most ${maxRows} rows`;
  if (rows > maxRows) {
    throw new ArgumentError(`${tooLarge} exceed the ${MAX_RESULT_VALUES} values one Float32Array holds`, {
      field,
      fix,
    });
  }
  try {
    return new Float32Array(rows * outputs);
  } catch (cause) {
    if (!(cause instanceof RangeError)) throw cause;
    throw new ArgumentError(`${tooLarge} do not fit in memory`, { field, fix: 'split it into smaller batches', cause });
  }
}

/**
 * Rounds rows [firstRow, endRow)'s float64 sums into the float32 result. Weights and measured values are finite, so
 * a sum beyond the float32 range is a projection that float32 cannot represent: refused, never returned as ±Infinity.
 */
function storeRowSums(sums: Float64Array, firstRow: number, endRow: number, out: Float32Array, outputs: number): void {
  // set() rounds to float32 as Math.fround does; the check then reads the rounded values.
  const rows = out.subarray(firstRow * outputs, endRow * outputs);
  rows.set(sums.subarray(0, rows.length));
  for (let r = firstRow; r < endRow; r++) {
    for (let i = 0; i < outputs; i++) {
      const value = out[r * outputs + i]!;
      if (!Number.isFinite(value)) {
        const sum = sums[(r - firstRow) * outputs + i]!;
        throw new ArgumentError(
          `its projection reaches ${sum.toPrecision(3)} at output ${i}, beyond float32’s ±3.4e38`,
          {
            field: `e[${r}]`,
            fix: 'divide the row by a power of two and multiply its projection by the same in float64 (project() is linear)',
          },
        );
      }
    }
  }
}

function progressCounter(planned: number, report: ((p: Progress) => void) | undefined): FramesAcquired | undefined {
  if (!report) return undefined;
  let done = 0;
  return (frames) => {
    done += frames;
    report({ framesDone: done, framesPlanned: planned });
  };
}

/**
 * Elements × mirrors per element stay near this by default. More mirrors per element mean more light per element:
 * dense frames reach full well in ~200 µs, about the DMD's frame period (shorter buys nothing), and a one-hot piece
 * with the dimmest reference rung in a few ms instead of the 100 ms limit, where read noise took over (at 1024
 * mirrors one-hot rows had 1.5× the dense-row error). The simulator's work grows with the lit mirrors, so no more.
 */
const DEFAULT_LAYOUT_MIRRORS = 4096;

type ResolvedOptions = Required<Omit<OpuOptions, 'calibrate' | 'mirrorsPerElement' | 'calibration' | 'force'>> & {
  mirrorsPerElement?: number;
};

/** The facade options a saved calibration was made with. */
function layoutOptionsOf(calibration: DeviceCalibration): Partial<OpuOptions> {
  const { inputs, referenceCount, referenceElements, mirrorsPerElement } = calibration.layout;
  return { inputs, outputs: calibration.outputs, referenceCount, referenceElements, mirrorsPerElement };
}

/**
 * Mirrors per element by default at most: a one-hot piece of 64 mirrors already exposes in a few ms against its
 * references, and small inputs (DFA's 10 classes) would otherwise light hundreds per element for nothing.
 */
const MAX_DEFAULT_MIRRORS_PER_ELEMENT = 64;

function defaultMirrorsPerElement(options: ResolvedOptions, dmdMirrors: number): number {
  const elements = options.inputs + options.referenceCount * options.referenceElements;
  const fill = Math.floor(Math.min(DEFAULT_LAYOUT_MIRRORS, dmdMirrors) / elements);
  return Math.max(1, Math.min(MAX_DEFAULT_MIRRORS_PER_ELEMENT, fill));
}

/** How a binary piece is measured (see `Opu.#piecePlan`). */
interface PiecePlan {
  /** 0: the top references; r ≥ 1: rung r of the ladder. */
  rung: number;
  references: number;
  /** Frames showing the piece alone, averaged: more than one when one frame cannot gather its light. */
  plainFrames: number;
  /** Mirrors its plain frames are exposed for (at least half its references'). */
  plainLit: number;
}

/** Frames showing a dim piece alone at most (each at the longest exposure). */
const MAX_PLAIN_FRAMES = 8;

/** Repetitions `project()` averages at most: beyond, the calibration's own noise dominates. */
const MAX_AVERAGES = 64;

/** Frames averaged per reference pattern by `calibrate()` at most: four times the pipeline's reference.maxFrames. */
const MAX_CALIBRATION_FRAMES = 4096;

function resolveOptions(options: OpuOptions): ResolvedOptions {
  const positiveInt = (value: unknown, field: string, fix: string) => {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new ArgumentError(`${String(value)} is not a positive integer`, { field, fix });
    }
    return value as number;
  };
  const inputs = positiveInt(options.inputs, 'inputs', 'set inputs to the length of the vectors to project');
  const outputs = positiveInt(options.outputs, 'outputs', 'set outputs to the projection’s output length');
  const referenceCount = positiveInt(options.referenceCount ?? 3, 'referenceCount', 'use 1 to 4 references');
  if (referenceCount > 4) {
    throw new ArgumentError(`${referenceCount} references`, { field: 'referenceCount', fix: 'use 1 to 4 references' });
  }
  const calibrationFrames = positiveInt(options.calibrationFrames ?? 32, 'calibrationFrames', 'average 16–128 frames');
  if (calibrationFrames > MAX_CALIBRATION_FRAMES) {
    // all of them are held at once, for every reference pattern: 10⁸ failed deep in an allocation
    throw new ArgumentError(
      `${calibrationFrames} frames per reference pattern are more than ${MAX_CALIBRATION_FRAMES}`,
      {
        field: 'calibrationFrames',
        fix: 'average 16–128 frames',
      },
    );
  }
  const referenceElements = positiveInt(
    options.referenceElements ?? Math.max(1, Math.round(inputs / 4)),
    'referenceElements',
    'use about as many elements as a typical input lights',
  );
  return {
    inputs,
    outputs,
    referenceCount,
    referenceElements,
    mirrorsPerElement:
      options.mirrorsPerElement === undefined
        ? undefined
        : positiveInt(options.mirrorsPerElement, 'mirrorsPerElement', 'use 1 or more mirrors per element'),
    calibrationFrames,
    seed: options.seed ?? 0,
    ...resolveDriftOptions(options),
  };
}

/** Default device seconds between drift checks: docs/calibration.md derives it from the error model. */
const DEFAULT_DRIFT_CHECK_INTERVAL_S = 5;
/** Default relative rms error drift may add: below an 8-bit camera's 3–5%, so that the total grows < 1.5×. */
const DEFAULT_DRIFT_ERROR_BUDGET = 0.03;

function resolveDriftOptions(options: OpuOptions) {
  const driftCheckIntervalS = options.driftCheckIntervalS ?? DEFAULT_DRIFT_CHECK_INTERVAL_S;
  if (!(typeof driftCheckIntervalS === 'number' && driftCheckIntervalS > 0)) {
    throw new ArgumentError(`${String(driftCheckIntervalS)} is not a positive number of seconds`, {
      field: 'driftCheckIntervalS',
      fix: 'check every few seconds of device time (default 5), or pass Infinity to turn drift tracking off',
    });
  }
  const driftErrorBudget = options.driftErrorBudget ?? DEFAULT_DRIFT_ERROR_BUDGET;
  if (!(typeof driftErrorBudget === 'number' && driftErrorBudget > 0 && driftErrorBudget < 1)) {
    throw new ArgumentError(`${String(driftErrorBudget)} is not a relative error in (0, 1)`, {
      field: 'driftErrorBudget',
      fix: 'allow drift about the fresh error of project() (default 0.03)',
    });
  }
  const onDrift = options.onDrift ?? 'recalibrate';
  if (!DRIFT_POLICIES.includes(onDrift)) {
    throw new ArgumentError(`'${String(onDrift)}' is not a drift policy`, {
      field: 'onDrift',
      fix: `use one of ${DRIFT_POLICIES.join(', ')}`,
    });
  }
  return { driftCheckIntervalS, driftErrorBudget, onDrift };
}

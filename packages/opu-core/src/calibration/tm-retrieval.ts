import { kernels } from 'opu-native';
import { allocateDmdFrames, bytesPerFrame, type DmdFrames, litMirrorCounts } from '../device/frames.js';
import type { AcquisitionStats, ExposureControlledAcquirer, FramesAcquired } from '../measure/acquisition.js';
import { type DmdLayout, lightElements, lightReference } from '../measure/layout.js';
import { ArgumentError } from '../support/errors.js';
import { seededUniform } from '../support/random.js';
import { pearson, relativeError } from '../support/stats.js';
import { Dft } from './fft.js';
import {
  type AnchorGeometry,
  anchorGeometry,
  anchorPairs,
  CirculantSolver,
  circulantShift,
  placeSignals,
} from './tm-solve.js';
import type { TransmissionMatrix, TransmissionMatrixMethod, TransmissionMatrixQuality } from './transmission-matrix.js';

export interface TmRetrievalOptions {
  method: TransmissionMatrixMethod;
  /** Frames averaged per anchor-pair pattern (the one-off S(S+1)/2 anchor measurements). */
  anchorAveragedFrames: number;
  /**
   * Calibration signals per column for 'anchors' (T = ceil(oversampling·cols) random half-lit patterns; at least 1,
   * and 2 or more keeps the least-squares solve well conditioned); 'circulant' uses exactly cols cyclic shifts.
   */
  oversampling: number;
  /** Fresh random half-lit inputs measured at the end for quality.intensityCorrelation. */
  testInputs: number;
  seed: number;
  onProgress?: (framesDone: number, framesPlanned: number) => void;
  /**
   * Progress of the computations between measurements, which take minutes for thousands of columns: 'design'
   * counts the signals whose Gram matrix ΞᵀΞ is summed (the Cholesky factor follows at `done === planned`),
   * 'solve' the rows of the matrix solved.
   */
  onCompute?: (phase: RetrievalComputePhase, done: number, planned: number) => void;
}

export type RetrievalComputePhase = 'design' | 'solve';

/** The retrieval's size: what `retrievalPlan` and `retrievalMemory` need of the layout and the options. */
export interface RetrievalSize {
  rows: number;
  cols: number;
  anchors: number;
  method: TransmissionMatrixMethod;
  oversampling: number;
  anchorAveragedFrames: number;
  testInputs: number;
}

/** Calibration signals and frames of a retrieval: the anchor pairs, each signal with each anchor, the fit's tests. */
export function retrievalPlan(size: RetrievalSize): { signals: number; frames: number } {
  const S = size.anchors;
  const signals = size.method === 'anchors' ? Math.ceil(size.oversampling * size.cols) : size.cols;
  const anchorFrames = ((S * (S + 1)) / 2) * size.anchorAveragedFrames;
  return { signals, frames: anchorFrames + signals * (S + 1) + size.testInputs };
}

/**
 * Bytes a retrieval holds at its peak, by what holds them: the matrix itself (float32 re and im); for 'anchors' the
 * signals Ξ, the Gram matrix ΞᵀΞ and its factor (float64, n²) and the normal equations ΞᵀY (float64, n × 2·rows);
 * for 'circulant' the placed fields (float64, rows × n × 2); and one chunk of measurements (DMD frames and their
 * gathered copy, camera frames, intensities, placed fields).
 */
export function retrievalMemory(
  size: RetrievalSize,
  frame: { dmdBytes: number; cameraBytes: number },
): Record<'matrix' | 'signals' | 'gram' | 'normalEquations' | 'fields' | 'measurementChunk', number> {
  const { rows: m, cols: n, anchors: S } = size;
  const { signals } = retrievalPlan(size);
  const float64 = Float64Array.BYTES_PER_ELEMENT;
  const float32 = Float32Array.BYTES_PER_ELEMENT;
  const chunk = Math.min(signals, chunkSignals(S, m));
  const chunkFrames = chunk * (S + 1);
  const anchors = size.method === 'anchors';
  return {
    matrix: 2 * m * n * float32,
    signals: anchors ? signals * n * float64 : 0,
    gram: anchors ? n * n * float64 : 0,
    normalEquations: anchors ? n * 2 * m * float64 : 0,
    fields: anchors ? 0 : 2 * m * n * float64,
    measurementChunk: chunkFrames * (2 * frame.dmdBytes + frame.cameraBytes + m * float32) + chunk * 2 * m * float64,
  };
}

/** Signals measured per chunk: their intensities fill CHUNK_VALUES. */
const chunkSignals = (anchors: number, outputs: number) =>
  Math.max(1, Math.floor(CHUNK_VALUES / ((anchors + 1) * outputs)));

/** Candidate patterns the circulant design picks its best-conditioned one from. */
const CIRCULANT_CANDIDATES = 32;
/** Random designs redrawn when ΞᵀΞ is singular before giving up (only tiny column counts ever need one). */
const DESIGN_ATTEMPTS = 8;
/** Intensities held per chunk of calibration signals (Float32 values, 32 MiB). */
const CHUNK_VALUES = 8 * 2 ** 20;
/** Progress reports per computation: each a block of work, then a turn of the event loop so that they are seen. */
const COMPUTE_BLOCKS = 64;

/** Lets the event loop run (progress lines written to a pipe go out), between blocks of synchronous kernel work. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Retrieves the complex transmission matrix between the layout's data elements and the ROI pixels from intensity
 * frames only, by numerical interferometry (Gupta et al., NeurIPS 2019 and ICASSP 2020; reference §4):
 * the layout's S reference blocks are anchors whose fields are placed in the complex plane by MDS of their
 * pairwise intensities; each calibration signal is placed by multilateration from S + 1 frames, which makes the
 * measurements linear in the matrix; a least-squares solve ('anchors', random half-lit signals) or an FFT
 * division ('circulant', the cyclic shifts of one pattern) recovers every row at once. Each row comes out up to a
 * phase and a conjugation.
 *
 * Anchors should carry about as much light as a signal: referenceElements ≈ cols/2, since the cross term
 * Re(z̄_k·y) is measured best when |z_k| ≈ |y| (each frame's noise grows with its total intensity). The caller
 * configures the device with layout.region and layout.roi and measures trigger lag, dark and responsivity first.
 */
export async function retrieveTransmissionMatrix(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  options: TmRetrievalOptions,
  stats: AcquisitionStats,
): Promise<TransmissionMatrix> {
  validate(layout, options);
  const start = { frames: stats.frames, deviceTimeUs: stats.deviceTimeUs };
  const random = seededUniform(options.seed);
  const onCompute = (phase: RetrievalComputePhase) =>
    options.onCompute && ((done: number, planned: number) => options.onCompute!(phase, done, planned));
  const design =
    options.method === 'anchors'
      ? await LeastSquaresDesign.create(layout, options, random, onCompute('design'))
      : new CirculantDesign(layout, random);
  const S = layout.referenceCount;
  const { frames: planned } = retrievalPlan({ ...options, rows: acquirer.outputs, cols: layout.inputs, anchors: S });
  const progress = progressCounter(planned, options.onProgress);

  const geometry = await measureAnchors(acquirer, layout, options.anchorAveragedFrames, stats, progress);
  const chunk = chunkSignals(S, acquirer.outputs);
  const placed = new Float64Array(chunk * 2 * acquirer.outputs);
  for (let t0 = 0; t0 < design.signals; t0 += chunk) {
    const count = Math.min(chunk, design.signals - t0);
    const frames = signalFrames(acquirer, layout, design, t0, count);
    const intensity = await acquirer.acquireNormalized(frames, litMirrorCounts(frames), stats, progress);
    placeSignals(geometry, intensity, count, placed);
    design.accumulate(placed, t0, count, acquirer.outputs);
  }
  const matrix = await design.solve(acquirer.outputs, onCompute('solve'));

  const fit = await measureFit(acquirer, layout, matrix, options.testInputs, random, stats, progress);
  const quality: TransmissionMatrixQuality = {
    ...fit,
    testInputs: options.testInputs,
    ...conditionSummary(geometry),
    frames: stats.frames - start.frames,
    deviceTimeUs: stats.deviceTimeUs - start.deviceTimeUs,
  };
  return { rows: acquirer.outputs, cols: layout.inputs, ...matrix, method: options.method, layout, quality };
}

function validate(layout: DmdLayout, options: TmRetrievalOptions): void {
  const fix = 'see TmRetrievalOptions for each option’s meaning';
  if (options.method !== 'anchors' && options.method !== 'circulant') {
    throw new ArgumentError(`unknown method ${String(options.method)}`, {
      field: 'method',
      fix: "use 'anchors' or 'circulant'",
    });
  }
  for (const field of ['anchorAveragedFrames', 'testInputs'] as const) {
    if (!Number.isInteger(options[field]) || options[field] < 1) {
      throw new ArgumentError(`${options[field]} is not a positive integer`, { field, fix });
    }
  }
  if (options.method === 'anchors' && !(options.oversampling >= 1 && Number.isFinite(options.oversampling))) {
    throw new ArgumentError(`${options.oversampling} is below 1: fewer signals than columns`, {
      field: 'oversampling',
      fix: 'use 2 or more',
    });
  }
  if (layout.referenceCount < 2) {
    throw new ArgumentError(`${layout.referenceCount} anchors cannot place a field in the plane`, {
      field: 'referenceCount',
      fix: 'use 8 to 20 reference blocks',
    });
  }
}

/** The calibration signals and how their placed fields turn into the matrix. */
export interface Design {
  signals: number;
  /** Whether signal t lights data element j. */
  lights(t: number, j: number): boolean;
  /** Takes the fields of signals [t0, t0 + count), laid out as `placeSignals` writes them. */
  accumulate(placed: Float64Array, t0: number, count: number, outputs: number): void;
  /** The matrix, reporting the rows solved so far. */
  solve(outputs: number, onRows?: ComputeProgress): Promise<{ re: Float32Array; im: Float32Array }>;
}

/** Work done of work planned, in the computation's own units. */
export type ComputeProgress = (done: number, planned: number) => void;

/**
 * Random half-lit signals Ξ (T × cols) and the normal equations A = Y·Ξ·(ΞᵀΞ)⁻¹: ΞᵀΞ is the same for every output,
 * factored once before anything is measured; ΞᵀY is accumulated as the signals are placed. The products, the
 * Cholesky factor and the solve are opu-native's float64 kernels (ΞᵀΞ of 0/1 entries is exact in them).
 */
export class LeastSquaresDesign implements Design {
  readonly signals: number;
  readonly #n: number;
  /** Ξ, signals × cols, 0 or 1. */
  readonly #patterns: Float64Array;
  /** The Cholesky factor of ΞᵀΞ, in its lower triangle. */
  readonly #factor: Float64Array;
  /** ΞᵀY, cols × (Re over outputs, then Im over outputs). */
  #projected: Float64Array | undefined;

  private constructor(n: number, signals: number, patterns: Float64Array, factor: Float64Array) {
    this.#n = n;
    this.signals = signals;
    this.#patterns = patterns;
    this.#factor = factor;
  }

  /**
   * Draws the signals and factors ΞᵀΞ, summed a block of signals at a time (the sums of 0/1 products are exact, so
   * the blocks change nothing) with the signals summed so far reported.
   */
  static async create(
    layout: Pick<DmdLayout, 'inputs'>,
    options: Pick<TmRetrievalOptions, 'oversampling'>,
    random: () => number,
    onSignals?: ComputeProgress,
  ): Promise<LeastSquaresDesign> {
    const n = layout.inputs;
    const signals = Math.ceil(options.oversampling * n);
    const block = Math.ceil(signals / COMPUTE_BLOCKS);
    for (let attempt = 0; ; attempt++) {
      const patterns = Float64Array.from({ length: signals * n }, () => (random() < 0.5 ? 1 : 0));
      const gram = new Float64Array(n * n);
      onSignals?.(0, signals);
      for (let t0 = 0; t0 < signals; t0 += block) {
        const count = Math.min(block, signals - t0);
        const rows = patterns.subarray(t0 * n, (t0 + count) * n);
        kernels.dgemm(n, n, count, rows, rows, gram, { transA: true, beta: 1 });
        onSignals?.(t0 + count, signals);
        await nextTurn();
      }
      if (kernels.choleskyFactor(gram, n)) return new LeastSquaresDesign(n, signals, patterns, gram);
      if (attempt + 1 >= DESIGN_ATTEMPTS) {
        throw new ArgumentError(`${signals} random signals leave ${n} columns undetermined`, {
          field: 'oversampling',
          fix: 'use 2 or more',
        });
      }
    }
  }

  lights(t: number, j: number): boolean {
    return this.#patterns[t * this.#n + j] === 1;
  }

  accumulate(placed: Float64Array, t0: number, count: number, outputs: number): void {
    const n = this.#n;
    const width = 2 * outputs;
    this.#projected ??= new Float64Array(n * width);
    const signals = this.#patterns.subarray(t0 * n, (t0 + count) * n);
    kernels.dgemm(n, width, count, signals, placed.subarray(0, count * width), this.#projected, {
      transA: true,
      beta: 1,
    });
  }

  /** Solves ΞᵀΞ·A = ΞᵀY a block of rows (their Re and Im columns of ΞᵀY) at a time. */
  async solve(outputs: number, onRows?: ComputeProgress): Promise<{ re: Float32Array; im: Float32Array }> {
    const n = this.#n;
    const width = 2 * outputs;
    const projected = this.#projected ?? new Float64Array(n * width);
    const re = new Float32Array(outputs * n);
    const im = new Float32Array(outputs * n);
    const block = Math.ceil(outputs / COMPUTE_BLOCKS);
    const rhs = new Float64Array(n * 2 * block);
    for (let i0 = 0; i0 < outputs; i0 += block) {
      const b = Math.min(block, outputs - i0);
      for (let j = 0; j < n; j++) {
        for (let q = 0; q < b; q++) {
          rhs[j * 2 * b + q] = projected[j * width + i0 + q]!;
          rhs[j * 2 * b + b + q] = projected[j * width + outputs + i0 + q]!;
        }
      }
      kernels.choleskySolve(this.#factor, n, rhs.subarray(0, n * 2 * b), 2 * b);
      for (let j = 0; j < n; j++) {
        for (let q = 0; q < b; q++) {
          re[(i0 + q) * n + j] = rhs[j * 2 * b + q]!;
          im[(i0 + q) * n + j] = rhs[j * 2 * b + b + q]!;
        }
      }
      onRows?.(i0 + b, outputs);
      await nextTurn();
    }
    return { re, im };
  }
}

/**
 * The cols cyclic shifts of the best of a few random binary patterns: the one whose solve amplifies measurement
 * noise least (the mean of 1/|ĉ_k|²; at 300 columns on the simulator, an 8% smaller matrix error than the pattern
 * with the largest min_k |ĉ_k| among the same candidates). Each output's row is an FFT division of its own fields.
 */
class CirculantDesign implements Design {
  readonly signals: number;
  readonly #solver: CirculantSolver;
  /** Placed fields by output, outputs × signals. */
  #fields: { re: Float64Array; im: Float64Array } | undefined;

  constructor(layout: DmdLayout, random: () => number) {
    const n = layout.inputs;
    this.signals = n;
    const dft = new Dft(n);
    let best: CirculantSolver | undefined;
    for (let c = 0; c < CIRCULANT_CANDIDATES; c++) {
      const candidate = new CirculantSolver(
        Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0)),
        dft,
      );
      if (!best || candidate.noiseGain < best.noiseGain) best = candidate;
    }
    this.#solver = best!;
    if (!Number.isFinite(this.#solver.noiseGain)) {
      throw new ArgumentError(`no invertible circulant pattern for ${n} columns`, {
        field: 'method',
        fix: "use the 'anchors' method",
      });
    }
  }

  lights(t: number, j: number): boolean {
    return circulantShift(this.#solver.pattern, t, j) === 1;
  }

  accumulate(placed: Float64Array, t0: number, count: number, outputs: number): void {
    const n = this.signals;
    this.#fields ??= { re: new Float64Array(outputs * n), im: new Float64Array(outputs * n) };
    const { re, im } = this.#fields;
    for (let s = 0; s < count; s++) {
      for (let i = 0; i < outputs; i++) {
        re[i * n + t0 + s] = placed[s * 2 * outputs + i]!;
        im[i * n + t0 + s] = placed[s * 2 * outputs + outputs + i]!;
      }
    }
  }

  async solve(outputs: number, onRows?: ComputeProgress): Promise<{ re: Float32Array; im: Float32Array }> {
    const n = this.signals;
    const fields = this.#fields ?? { re: new Float64Array(outputs * n), im: new Float64Array(outputs * n) };
    const re = new Float32Array(outputs * n);
    const im = new Float32Array(outputs * n);
    const rowRe = new Float64Array(n);
    const rowIm = new Float64Array(n);
    const block = Math.ceil(outputs / COMPUTE_BLOCKS);
    for (let i = 0; i < outputs; i++) {
      rowRe.set(fields.re.subarray(i * n, (i + 1) * n));
      rowIm.set(fields.im.subarray(i * n, (i + 1) * n));
      this.#solver.solve(rowRe, rowIm);
      re.set(rowRe, i * n);
      im.set(rowIm, i * n);
      if ((i + 1) % block === 0 || i + 1 === outputs) {
        onRows?.(i + 1, outputs);
        await nextTurn();
      }
    }
    return { re, im };
  }
}

/**
 * Averaged |z_k|² and |z_k + z_l|² of the anchors; repeats are interleaved (pattern-minor) so that a slow drift
 * of laser or medium averages out instead of biasing one pattern.
 */
async function measureAnchors(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  averaged: number,
  stats: AcquisitionStats,
  progress: FramesAcquired | undefined,
): Promise<AnchorGeometry> {
  const S = layout.referenceCount;
  const m = acquirer.outputs;
  const pairs = anchorPairs(S);
  const patterns = S + pairs.length;
  const frames = allocateDmdFrames(patterns * averaged, acquirer.device.inputSize);
  for (let r = 0; r < averaged; r++) {
    for (let k = 0; k < S; k++) lightReference(frames, r * patterns + k, layout, k);
    pairs.forEach(([k, l], p) => {
      lightReference(frames, r * patterns + S + p, layout, k);
      lightReference(frames, r * patterns + S + p, layout, l);
    });
  }
  const intensity = await acquirer.acquireNormalized(frames, litMirrorCounts(frames), stats, progress);
  const mean = new Float64Array(patterns * m);
  for (let f = 0; f < frames.count; f++) {
    const p = f % patterns;
    for (let i = 0; i < m; i++) mean[p * m + i]! += intensity[f * m + i]! / averaged;
  }
  return anchorGeometry(mean.subarray(0, S * m), mean.subarray(S * m), S);
}

/** Frames of signals [t0, t0 + count): each signal alone, then with each anchor. */
function signalFrames(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  design: Design,
  t0: number,
  count: number,
): DmdFrames {
  const S = layout.referenceCount;
  const n = layout.inputs;
  const frames = allocateDmdFrames(count * (S + 1), acquirer.device.inputSize);
  const stride = bytesPerFrame(frames.mirrorsPerFrame);
  for (let s = 0; s < count; s++) {
    const alone = s * (S + 1);
    for (let j = 0; j < n; j++) if (design.lights(t0 + s, j)) lightElements(frames, alone, layout, j, j + 1);
    const signal = frames.data.subarray(alone * stride, (alone + 1) * stride);
    for (let k = 0; k < S; k++) {
      frames.data.set(signal, (alone + 1 + k) * stride);
      lightReference(frames, alone + 1 + k, layout, k);
    }
  }
  return frames;
}

/** Measures fresh random half-lit inputs and compares them with |A·x|² predicted by the retrieved matrix. */
async function measureFit(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  matrix: { re: Float32Array; im: Float32Array },
  inputs: number,
  random: () => number,
  stats: AcquisitionStats,
  progress: FramesAcquired | undefined,
): Promise<Pick<TransmissionMatrixQuality, 'intensityCorrelation' | 'intensityRelativeError'>> {
  const n = layout.inputs;
  const m = acquirer.outputs;
  const x = Uint8Array.from({ length: inputs * n }, () => (random() < 0.5 ? 1 : 0));
  const frames = allocateDmdFrames(inputs, acquirer.device.inputSize);
  for (let f = 0; f < inputs; f++)
    for (let j = 0; j < n; j++) if (x[f * n + j]) lightElements(frames, f, layout, j, j + 1);
  const measured = await acquirer.acquireNormalized(frames, litMirrorCounts(frames), stats, progress);
  const predicted = new Float64Array(inputs * m);
  for (let f = 0; f < inputs; f++) {
    for (let i = 0; i < m; i++) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < n; j++) {
        if (!x[f * n + j]) continue;
        re += matrix.re[i * n + j]!;
        im += matrix.im[i * n + j]!;
      }
      predicted[f * m + i] = re * re + im * im;
    }
  }
  return {
    intensityCorrelation: pearson(predicted, measured),
    intensityRelativeError: relativeError(measured, predicted),
  };
}

function conditionSummary(geometry: AnchorGeometry) {
  const sorted = Float64Array.from(geometry.condition).sort();
  const middle = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { anchorConditionMedian: median, anchorConditionMax: sorted[sorted.length - 1]! };
}

/** Frames measured so far (saturated re-acquisitions included) against the frames planned. */
function progressCounter(planned: number, report: TmRetrievalOptions['onProgress']): FramesAcquired | undefined {
  if (!report) return undefined;
  let done = 0;
  return (frames) => {
    done += frames;
    report(done, planned);
  };
}

import { allocateDmdFrames, type DmdFrames, litMirrorCounts, litMirrors } from '../device/frames.js';
import { MeasurementError } from '../support/errors.js';
import { seededUniform } from '../support/random.js';
import {
  type AcquisitionStats,
  type ExposureControlledAcquirer,
  emptyStats,
  type FramesAcquired,
  gatherFrames,
} from './acquisition.js';
import { type DmdLayout, lightElements, lightReference } from './layout.js';
import type { RungFields } from './reference-ladder.js';
import { planeCoordinates, topEigenpair } from './top-eigenpair.js';

/**
 * The reference-field measurement that makes `project()` linear: what the facade measures when it opens (or adopts
 * from a saved `DeviceCalibration`) so that intensities turn into the linear map e·Bᵀ. With K references of fields b_k = R·r_k, each output i combines them as u_i = Σ_k w_ik·b_ik where w_i is the top
 * eigenvector of the Gram matrix G_kl = Re(b̄_k·b_l), measured from intensities only; |u_i| = √λ_i.
 */
export interface ReferenceMeasurement {
  referenceCount: number;
  referenceElements: number;
  mirrorsPerElement: number;
  outputs: number;
  /** Mean ADU per µs of exposure per lit mirror: one unit of field intensity (E|R_ij|² = 1). */
  responsivity: number;
  /** Dark-subtracted |b_k|² per µs, referenceCount × outputs. */
  referenceIntensity: Float32Array;
  /** Combination weights w_ik, outputs × referenceCount. */
  weights: Float32Array;
  /** |u_i| in √(ADU/µs), outputs. */
  amplitude: Float32Array;
  /**
   * Each reference's field in the plane (u along the first axis), outputs × referenceCount × 2: what places the
   * dimmer rungs for sparse pieces. Absent in calibrations saved before 0.2, which then serve every piece with the
   * top references.
   */
  coordinates?: Float32Array;
  /** The dimmer rungs measured so far (index r − 1 for rung r), each on first use. */
  rungs: (RungFields | undefined)[];
  triggerLagFrames: number;
  stats: AcquisitionStats;
}

export interface ReferenceMeasurementOptions {
  /** Frames averaged for each reference pattern and each dark level. */
  averagedFrames: number;
  seed: number;
}

/** Trigger lag, dark level, responsivity and reference fields on the facade's layout: the open-time measurement. */
export async function measureReference(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  options: ReferenceMeasurementOptions,
): Promise<ReferenceMeasurement> {
  const stats = emptyStats();
  await acquirer.compensateTriggerLag(stats);
  await measureDark(acquirer, options.averagedFrames, stats);
  await measureResponsivity(acquirer, layout, options, stats);
  const fields = await measureReferenceFields(acquirer, layout, options.averagedFrames, stats);
  return {
    referenceCount: layout.referenceCount,
    referenceElements: layout.referenceElements,
    mirrorsPerElement: layout.mirrorsPerElement,
    outputs: acquirer.outputs,
    responsivity: acquirer.responsivity,
    referenceIntensity: fields.referenceIntensity,
    weights: fields.weights,
    amplitude: fields.amplitude,
    coordinates: fields.coordinates,
    rungs: [],
    triggerLagFrames: acquirer.triggerLagFrames,
    stats,
  };
}

export interface ReferenceFields {
  /** Dark-subtracted |b_k|² per µs, referenceCount × outputs. */
  referenceIntensity: Float32Array;
  /** Combination weights w_ik, outputs × referenceCount. */
  weights: Float32Array;
  /** |u_i| in √(ADU/µs), outputs. */
  amplitude: Float32Array;
  /** Each reference's field in the plane (u along the first axis), outputs × referenceCount × 2. */
  coordinates: Float32Array;
  /** Median over pixels and references of |b_k|² over the standard error of its average. */
  snr: number;
}

/**
 * Each reference alone and each pair together, averaged over `averagedFrames` frames: the Gram matrix
 * G_kl = Re(b̄_k·b_l) per output, whose top eigenpair combines the references into one strong field u_i.
 */
export async function measureReferenceFields(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  averagedFrames: number,
  stats: AcquisitionStats,
  onAcquired?: FramesAcquired,
): Promise<ReferenceFields> {
  const mirrors = acquirer.device.inputSize;
  const K = layout.referenceCount;
  const m = acquirer.outputs;
  const N = averagedFrames;
  const pairs: [number, number][] = [];
  for (let k = 0; k < K; k++) for (let l = k + 1; l < K; l++) pairs.push([k, l]);
  const patterns = K + pairs.length;
  const frames = allocateDmdFrames(patterns * N, mirrors);
  const showReference = (f: number, k: number) => lightReference(frames, f, layout, k);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) showReference(k * N + n, k);
    pairs.forEach(([k, l], p) => {
      showReference((K + p) * N + n, k);
      showReference((K + p) * N + n, l);
    });
  }
  const lit = litMirrorCounts(frames);
  const intensity = await acquirer.acquireNormalized(frames, lit, stats, onAcquired);
  const mean = new Float64Array(patterns * m);
  for (let f = 0; f < frames.count; f++) {
    const p = Math.floor(f / N);
    for (let i = 0; i < m; i++) mean[p * m + i]! += intensity[f * m + i]! / N;
  }

  const referenceIntensity = new Float32Array(K * m);
  const weights = new Float32Array(m * K);
  const amplitude = new Float32Array(m);
  const coordinates = new Float32Array(m * K * 2);
  const gram = new Float64Array(K * K);
  const vector = new Float64Array(K);
  const points = new Float64Array(K * 2);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < K; k++) {
      gram[k * K + k] = mean[k * m + i]!;
      referenceIntensity[k * m + i] = mean[k * m + i]!;
    }
    pairs.forEach(([k, l], p) => {
      const cross = (mean[(K + p) * m + i]! - mean[k * m + i]! - mean[l * m + i]!) / 2;
      gram[k * K + l] = cross;
      gram[l * K + k] = cross;
    });
    // The top eigenpair: |u|² and the combination weights.
    const lambda = topEigenpair(gram, K, vector);
    amplitude[i] = Math.sqrt(Math.max(lambda, 0));
    for (let k = 0; k < K; k++) weights[i * K + k] = vector[k]!;
    planeCoordinates(gram, K, points);
    coordinates.set(points, i * K * 2);
  }
  return { referenceIntensity, weights, amplitude, coordinates, snr: referenceSnr(intensity, K, N, m) };
}

/** Median over outputs and references of mean / standard error of the N frames that show reference k alone. */
function referenceSnr(intensity: Float32Array, K: number, N: number, m: number): number {
  const ratios: number[] = [];
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < m; i++) {
      let sum = 0;
      let sumSq = 0;
      for (let n = 0; n < N; n++) {
        const v = intensity[(k * N + n) * m + i]!;
        sum += v;
        sumSq += v * v;
      }
      const mean = sum / N;
      const variance = N > 1 ? Math.max(0, (sumSq - N * mean * mean) / (N - 1)) : 0;
      ratios.push(variance > 0 ? mean / Math.sqrt(variance / N) : Number.POSITIVE_INFINITY);
    }
  }
  ratios.sort((a, b) => a - b);
  return ratios[Math.floor(ratios.length / 2)] ?? 0;
}

export async function measureDark(acquirer: ExposureControlledAcquirer, averaged: number, stats: AcquisitionStats) {
  const { limits } = acquirer.device.info;
  const short = await acquirer.setExposure(Math.max(limits.exposureUs.min, acquirer.device.settings.exposureUs / 4));
  const shortDark = await averageRaw(acquirer, averaged, stats);
  const long = await acquirer.setExposure(Math.min(limits.exposureUs.max, short * 16));
  const longDark = await averageRaw(acquirer, averaged, stats);
  // One dark-current slope for the sensor, not one per pixel: a pixel's slope is the difference of two averages a
  // few hundred µs apart, and its noise (read noise and quantization, ~0.05 ADU) extrapolated to the 10–100 ms
  // exposures of dim frames became several ADU of offset, the largest error of sparse rows (16% instead of 6% for
  // one-hot rows at 300 inputs). The mean over pixels is that much more precise.
  let slopeSum = 0;
  for (let i = 0; i < acquirer.outputs; i++) slopeSum += longDark[i]! - shortDark[i]!;
  const slope = long > short ? slopeSum / acquirer.outputs / (long - short) : 0;
  for (let i = 0; i < acquirer.outputs; i++) {
    acquirer.darkSlopeAduPerUs[i] = slope;
    acquirer.darkOffsetAdu[i] = shortDark[i]! - slope * short;
  }
}

async function averageRaw(acquirer: ExposureControlledAcquirer, count: number, stats: AcquisitionStats) {
  const m = acquirer.outputs;
  const sum = new Float64Array(m);
  const shots = await acquirer.acquireRaw(allocateDmdFrames(count, acquirer.device.inputSize), stats);
  for (const shot of shots) {
    const pixels = shot.widthPx * shot.heightPx;
    for (let f = 0; f < shot.count; f++) for (let i = 0; i < m; i++) sum[i]! += shot.data[f * pixels + i]! / count;
  }
  return sum;
}

/**
 * Mean intensity per lit mirror per µs, i.e. (1/n)·Σ_j |R_ij|² in ADU/µs averaged over outputs. Frames light each
 * data mirror with probability p = 1/2, so E[I_i] = p(1−p)·Σ_j |R_ij|² + p²·|Σ_j R_ij|²: the second term is one
 * fixed speckle common to all frames, which averaging over frames cannot remove (it would leave a 1/√outputs
 * error), so it is measured with all data mirrors on and subtracted.
 */
export async function measureResponsivity(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  options: ReferenceMeasurementOptions,
  stats: AcquisitionStats,
) {
  const m = acquirer.outputs;
  const n = layout.inputs;
  const p = 0.5;
  const patterns = halfLitPatterns(n, responsivityPatterns(m), options.seed);
  const count = patterns.length;
  const frames = allocateDmdFrames(count + options.averagedFrames, acquirer.device.inputSize);
  patterns.forEach((pattern, f) => {
    for (let j = 0; j < n; j++) if (pattern[j]) lightElements(frames, f, layout, j, j + 1);
  });
  for (let f = count; f < frames.count; f++) lightElements(frames, f, layout, 0, n);
  await bringExposureIntoRange(acquirer, gatherFrames(frames, [...Array(count).keys()]), stats);
  const lit = litMirrorCounts(frames);
  const intensity = await acquirer.acquireNormalized(frames, lit, stats);
  let random_ = 0;
  let allOn = 0;
  for (let f = 0; f < frames.count; f++) {
    let sum = 0;
    for (let i = 0; i < m; i++) sum += intensity[f * m + i]!;
    if (f < count) random_ += sum / (count * m);
    else allOn += sum / (options.averagedFrames * m);
  }
  acquirer.responsivity = (random_ - p * p * allOn) / (p * (1 - p) * n * layout.mirrorsPerElement);
  if (!(acquirer.responsivity > 0)) {
    throw new MeasurementError('no speckle signal above the dark level', {
      field: 'responsivity',
      fix: 'check that the laser is on and the ROI sees the speckle',
    });
  }
}

/** Random half-lit patterns the responsivity averages: about 65 536 intensities, 32 to 1024 frames. */
const responsivityPatterns = (outputs: number) => Math.min(1024, Math.max(32, Math.ceil(65_536 / outputs)));

/**
 * Frames `measureResponsivity` usually shows, for estimates: its patterns twice to bring the exposure into range
 * (once when the present exposure suits them, more when it is far off), then the patterns and the averaged
 * all-data-on frames.
 */
export function responsivityFrames(outputs: number, averagedFrames: number): number {
  return 3 * responsivityPatterns(outputs) + averagedFrames;
}

/**
 * About `count` patterns lighting each of n elements with probability 1/2 and each pair with probability 1/4.
 * For few elements, random patterns miss those frequencies by several percent (one seed gave a 16% responsivity
 * error at 10 elements), so they come from a Sylvester–Hadamard design, where they hold exactly: rows r of order
 * N > n, element j on when popcount(r & c_j) is even, for distinct random columns c_j ≥ 1, repeated with fresh
 * columns. For many elements the design would need N > count frames; random patterns are then accurate enough.
 */
function halfLitPatterns(n: number, count: number, seed: number): Uint8Array[] {
  const random = seededUniform(seed);
  const order = 2 ** Math.ceil(Math.log2(n + 1));
  const patterns: Uint8Array[] = [];
  if (order > count) {
    for (let f = 0; f < count; f++) patterns.push(Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0)));
    return patterns;
  }
  while (patterns.length < count) {
    const columns = Array.from({ length: order - 1 }, (_, c) => c + 1)
      .map((c) => [random(), c] as const)
      .sort((a, b) => a[0] - b[0])
      .slice(0, n)
      .map(([, c]) => c);
    for (let r = 0; r < order; r++) {
      patterns.push(Uint8Array.from(columns, (c) => (popcount(r & c) % 2 === 0 ? 1 : 0)));
    }
  }
  return patterns;
}

function popcount(v: number): number {
  let count = 0;
  for (; v; v &= v - 1) count++;
  return count;
}

/**
 * A first responsivity guess, from the raw frames at an exposure that neither saturates nor leaves the signal near
 * the quantization step; `acquireNormalized` then picks exposures from it.
 */
async function bringExposureIntoRange(
  acquirer: ExposureControlledAcquirer,
  frames: DmdFrames,
  stats: AcquisitionStats,
) {
  const m = acquirer.outputs;
  const { limits, camera } = acquirer.device.info;
  let exposure = acquirer.device.settings.exposureUs;
  let totalLit = 0;
  for (let f = 0; f < frames.count; f++) totalLit += litMirrors(frames, f);
  for (let attempt = 0; attempt < 24; attempt++) {
    exposure = await acquirer.setExposure(exposure);
    const shots = await acquirer.acquireRaw(frames, stats);
    let saturated = 0;
    let signal = 0;
    for (const shot of shots) {
      const pixels = shot.widthPx * shot.heightPx;
      for (let f = 0; f < shot.count; f++) {
        saturated += shot.meta.saturatedPixels[f]!;
        for (let i = 0; i < m; i++) {
          signal += shot.data[f * pixels + i]! - acquirer.darkOffsetAdu[i]! - acquirer.darkSlopeAduPerUs[i]! * exposure;
        }
      }
    }
    if (saturated > 0) {
      if (exposure <= limits.exposureUs.min) break;
      exposure /= 2;
      continue;
    }
    const meanAdu = signal / (frames.count * m);
    if (meanAdu < camera.maxAdu * 0.02 && exposure < limits.exposureUs.max) {
      exposure *= Math.min(16, (camera.maxAdu * 0.05) / Math.max(meanAdu, 1e-3));
      continue;
    }
    acquirer.responsivity = signal / (totalLit * m * exposure);
    return;
  }
  throw new MeasurementError('could not find an exposure that neither saturates nor drowns in noise', {
    field: 'exposureUs',
    fix: 'check the device’s exposure limits and that light reaches the camera',
  });
}

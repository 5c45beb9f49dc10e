import { allocateDmdFrames, type DmdFrames } from '../device/frames.js';
import {
  type AcquisitionStats,
  type ExposureControlledAcquirer,
  emptyStats,
  type FramesAcquired,
} from './acquisition.js';
import { type DmdLayout, lightReference } from './layout.js';
import type { RungFields } from './reference-ladder.js';
import { measureResponsivity } from './responsivity.js';
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
  const K = layout.referenceCount;
  const m = acquirer.outputs;
  const N = averagedFrames;
  const pairs: [number, number][] = [];
  for (let k = 0; k < K; k++) for (let l = k + 1; l < K; l++) pairs.push([k, l]);
  const { intensity, mean } = await acquirer.averagePatterns(
    [
      ...Array.from({ length: K }, (_, k) => (frames: DmdFrames, f: number) => lightReference(frames, f, layout, k)),
      ...pairs.map(([k, l]) => (frames: DmdFrames, f: number) => {
        lightReference(frames, f, layout, k);
        lightReference(frames, f, layout, l);
      }),
    ],
    N,
    stats,
    onAcquired,
  );

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

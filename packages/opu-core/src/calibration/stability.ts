import { allocateDmdFrames } from '../device/frames.js';
import type { AcquisitionStats, ExposureControlledAcquirer, FramesAcquired } from '../measure/acquisition.js';
import { type DmdLayout, randomHalfLitFrames } from '../measure/layout.js';
import { seededUniform } from '../support/random.js';
import { pearson } from '../support/stats.js';

export interface StabilityOptions {
  /** Measurements of the probe frames, spread evenly over `durationS` (the first one twice, back to back). */
  repetitions: number;
  /** Device time the check spans, seconds: on hardware the check really takes this long. */
  durationS: number;
  probeFrames: number;
  /** Relative intensity correlation c(t)/c(0) below which the medium counts as changed. */
  threshold: number;
  seed: number;
}

export interface Stability {
  timesS: number[];
  correlation: number[];
  noiseFloor: number;
  timeConstantS: number;
  drifting: boolean;
  recalibrationIntervalS: number;
}

/** A decline smaller than this over the whole span is not worth a re-calibration, significant or not. */
const MIN_DECLINE = 1e-3;
/** Standard errors a decline must exceed to count, on top of MIN_DECLINE. */
const SIGNIFICANCE = 3;

/**
 * Shows the same probe frames repeatedly over time and correlates each measurement with the first one. A fixed
 * medium stays at the noise floor (the correlation of two back-to-back measurements); a drifting one decays as
 * about as c(t) = c(0)·e^{−t/τ} (reference §3). The suggested re-calibration interval is where c(t)/c(0) crosses the
 * threshold: measured when the span reached it, τ·ln(1/threshold) beyond.
 * Time passes by showing blank frames at the longest frame time, so the check spans the same device time on the
 * simulator (whose clock only moves with frames) as on hardware.
 */
export async function measureStability(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  options: StabilityOptions,
  stats: AcquisitionStats,
  onAcquired?: FramesAcquired,
): Promise<Stability> {
  const random = seededUniform(options.seed);
  const probe = randomHalfLitFrames(acquirer.device.inputSize, layout, options.probeFrames, random, false);
  const measure = async () => {
    const shots = await acquirer.acquireRaw(probe, stats, onAcquired);
    const m = acquirer.outputs;
    const out = new Float32Array(probe.count * m);
    let f = 0;
    for (const shot of shots) for (let s = 0; s < shot.count; s++, f++) acquirer.normalizeInto(shot, s, out, f * m);
    return { intensity: out, startUs: shots[0]!.meta.timestampsUs[0]! };
  };
  const first = await measure();
  const noiseFloor = pearson(first.intensity, (await measure()).intensity);
  const timesS = [0];
  const correlation = [noiseFloor];
  const gapS = options.durationS / Math.max(1, options.repetitions - 1);
  for (let r = 1; r < options.repetitions; r++) {
    await idle(acquirer, gapS, stats, onAcquired);
    const next = await measure();
    timesS.push((next.startUs - first.startUs) * 1e-6);
    correlation.push(pearson(first.intensity, next.intensity));
  }
  return { timesS, correlation, noiseFloor, ...fitDecay(timesS, correlation, noiseFloor, options.threshold) };
}

/** Lets `seconds` of device time pass with blank frames at the longest frame time, then restores the frame time. */
async function idle(
  acquirer: ExposureControlledAcquirer,
  seconds: number,
  stats: AcquisitionStats,
  onAcquired?: FramesAcquired,
) {
  const device = acquirer.device;
  const before = device.settings.frameTimeUs;
  const longest = device.info.limits.frameTimeUs.max;
  const count = Math.max(1, Math.ceil((seconds * 1e6) / longest));
  const frameTimeUs = Math.max(before, (seconds * 1e6) / count);
  await device.configure({ frameTimeUs });
  try {
    await acquirer.acquireRaw(allocateDmdFrames(count, device.inputSize), stats, onAcquired);
  } finally {
    await device.configure({ frameTimeUs: before });
  }
}

/** Least-squares fit of ln(c/c₀) = −t/τ through the origin, with a significance test on the slope. */
export function fitDecay(
  timesS: number[],
  correlation: number[],
  noiseFloor: number,
  threshold: number,
): Pick<Stability, 'timeConstantS' | 'drifting' | 'recalibrationIntervalS'> {
  let stt = 0;
  let sty = 0;
  const y = correlation.map((c) => Math.log(Math.max(c, 1e-6) / noiseFloor));
  timesS.forEach((t, r) => {
    stt += t * t;
    sty += t * y[r]!;
  });
  const slope = stt > 0 ? sty / stt : 0;
  let residual = 0;
  timesS.forEach((t, r) => {
    residual += (y[r]! - slope * t) ** 2;
  });
  // the t = 0 point is c₀ itself (y = 0) and carries no information; the slope takes one more degree of freedom
  const dof = Math.max(1, timesS.length - 2);
  const slopeError = Math.sqrt(residual / dof / Math.max(stt, 1e-30));
  const span = Math.max(...timesS);
  const declines = slope < 0 && -slope > SIGNIFICANCE * slopeError && 1 - Math.exp(slope * span) > MIN_DECLINE;
  if (!declines) {
    return {
      timeConstantS: Number.POSITIVE_INFINITY,
      drifting: false,
      recalibrationIntervalS: Number.POSITIVE_INFINITY,
    };
  }
  const timeConstantS = -1 / slope;
  return {
    timeConstantS,
    drifting: true,
    recalibrationIntervalS:
      thresholdCrossing(timesS, correlation, noiseFloor, threshold) ?? timeConstantS * Math.log(1 / threshold),
  };
}

/**
 * When the measured c(t)/c₀ already fell below the threshold, where it did (linear between measurements): a medium
 * whose decorrelation starts slowly (quadratically, like the simulator's hand-over) is fitted by a longer τ than its
 * early decline, and the measured crossing is the better advice. Undefined when the span never reached it.
 */
export function thresholdCrossing(
  timesS: number[],
  correlation: number[],
  noiseFloor: number,
  threshold: number,
): number | undefined {
  let previousT = 0;
  let previous = 1;
  for (let r = 1; r < timesS.length; r++) {
    const relative = correlation[r]! / noiseFloor;
    if (relative < threshold) {
      return previousT + ((previous - threshold) / (previous - relative)) * (timesS[r]! - previousT);
    }
    previousT = timesS[r]!;
    previous = relative;
  }
  return undefined;
}

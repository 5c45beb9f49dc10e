import { allocateDmdFrames, litMirrorCounts } from '../device/frames.js';
import type { AcquisitionStats, ExposureControlledAcquirer } from './acquisition.js';
import { type DmdLayout, lightReference } from './layout.js';
import type { ReferenceMeasurement } from './reference-measurement.js';

/**
 * What the facade does when the references' speckle has decorrelated past the threshold: re-measure the reference
 * fields in place, throw a `DriftError` before measuring anything, or only report it in `meta.drift`.
 */
export type DriftPolicy = 'recalibrate' | 'error' | 'ignore';

export const DRIFT_POLICIES: readonly DriftPolicy[] = ['recalibrate', 'error', 'ignore'];

export interface DriftTrackingOptions {
  /** Device seconds between checks of the references; Infinity turns tracking off. */
  checkIntervalS: number;
  /** Relative rms error that drift may add to project() before the policy acts (docs/calibration.md). */
  errorBudget: number;
  policy: DriftPolicy;
}

/** The medium as the last check saw it. */
export interface DriftStatus {
  /**
   * Intensity correlation of the references' speckle now with the one the reference fields in use were measured
   * on, corrected for the camera noise of both; 1 before any check.
   */
  correlation: number;
  /** Correlation below which drift adds more than the error budget to project(): 1 − budget²/sensitivity. */
  threshold: number;
  /** Device seconds from the measurement of the reference fields in use to the last check. */
  sinceCalibrationS: number;
  /**
   * Decorrelation time: where ρ(t) = exp(−(t/τ)^β) reaches e⁻¹, with β ∈ [1, 2] fitted too (an exponential medium
   * has β = 1, a smooth onset like the simulator's β ≈ 2), from the last checks' lags since their reference fields
   * were measured, s; Infinity while no decline is measurable.
   */
  timeConstantS: number;
}

/** `meta.drift` of every result: the status after the call, and what the call did about drift. */
export interface DriftReport extends DriftStatus {
  /** Checks of the references shown during the call. */
  checks: number;
  /** Re-measurements of the reference fields during the call. */
  recalibrations: number;
}

/** Frames of each reference per check: their spread measures the camera noise that the correlation is corrected for. */
export const DRIFT_CHECK_FRAMES = 4;

/**
 * Relative rms error that drift adds to a projection, per unit of (1 − ρ): `driftError² ≈ (1 − ρ)·sensitivity`.
 * Per output i, with the stale |b_ik|², w_ik and |u_i|: the un-cancelled Σ_k w_ik·(|b'_ik|² − |b_ik|²) is an offset
 * of variance 2(1 − ρ)·Ī·Σ_k w_ik²|b_ik|² (Ī the mean reference intensity), which /(2|u_i|) and the field unit turn
 * into Ī·Σ_k w_ik²|b_ik|²/(|u_i|²·e₁) against a signal of variance L (L lit elements, e₁ one element's intensity);
 * the gain error |u'_i|/|u_i| − 1 adds Ī/(2|u_i|²). L is taken as `referenceElements`, the typical lit count.
 */
export function driftSensitivity(calibration: ReferenceMeasurement): number {
  const K = calibration.referenceCount;
  const m = calibration.outputs;
  const { referenceIntensity, weights, amplitude } = calibration;
  let meanReference = 0;
  for (const v of referenceIntensity) meanReference += v / referenceIntensity.length;
  const elementIntensity = calibration.responsivity * calibration.mirrorsPerElement;
  const litElements = calibration.referenceElements;
  let sum = 0;
  let used = 0;
  for (let i = 0; i < m; i++) {
    const u2 = amplitude[i]! ** 2;
    if (!(u2 > 0)) continue;
    let weighted = 0;
    for (let k = 0; k < K; k++) weighted += weights[i * K + k]! ** 2 * referenceIntensity[k * m + i]!;
    sum += (meanReference * weighted) / (u2 * elementIntensity * litElements) + meanReference / (2 * u2);
    used++;
  }
  return used > 0 ? sum / used : Number.POSITIVE_INFINITY;
}

/** Correlation below which the drift error exceeds `errorBudget`. */
export function driftThreshold(calibration: ReferenceMeasurement, errorBudget: number): number {
  return Math.max(0, 1 - errorBudget ** 2 / driftSensitivity(calibration));
}

export interface ReferenceCorrelation {
  correlation: number;
  /** Device time of the check's first frame, µs. */
  timeUs: number;
}

/**
 * Shows each reference `DRIFT_CHECK_FRAMES` times (interleaved) and compares with `baseline` (|b_k|² averaged over
 * `baselineFrames` frames). For equal means and variances, E(I' − I)² = 2·Var(I)·(1 − ρ); camera noise adds σ²/F
 * and σ²/N to the mean squared difference and σ²/N to the baseline's variance, with σ² the spread of the check's
 * own repeats (the stability step's noise floor, per pixel), so both are removed before ρ = 1 − MSD/(2·Var).
 */
export async function measureReferenceCorrelation(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  baseline: Float32Array,
  baselineFrames: number,
  stats: AcquisitionStats,
): Promise<ReferenceCorrelation> {
  const K = layout.referenceCount;
  const m = acquirer.outputs;
  const F = DRIFT_CHECK_FRAMES;
  const frames = allocateDmdFrames(F * K, acquirer.device.inputSize);
  for (let f = 0; f < F; f++) for (let k = 0; k < K; k++) lightReference(frames, f * K + k, layout, k);
  const before = stats.deviceTimeUs;
  const timeUs = acquirer.lastFrameEndUs;
  const intensity = await acquirer.acquireNormalized(frames, litMirrorCounts(frames), stats);
  let squaredDifference = 0;
  let noise = 0;
  let baselineVariance = 0;
  for (let k = 0; k < K; k++) {
    let mean = 0;
    for (let i = 0; i < m; i++) mean += baseline[k * m + i]! / m;
    for (let i = 0; i < m; i++) {
      let sum = 0;
      let sumSq = 0;
      for (let f = 0; f < F; f++) {
        const v = intensity[(f * K + k) * m + i]!;
        sum += v;
        sumSq += v * v;
      }
      const now = sum / F;
      noise += (sumSq - F * now * now) / (F - 1);
      squaredDifference += (now - baseline[k * m + i]!) ** 2;
      baselineVariance += (baseline[k * m + i]! - mean) ** 2;
    }
  }
  const n = K * m;
  const sigma2 = noise / n;
  const msd = squaredDifference / n - sigma2 * (1 / F + 1 / baselineFrames);
  const variance = baselineVariance / n - sigma2 / baselineFrames;
  // The check's frames are spread over (stats.deviceTimeUs − before); their midpoint is when ρ was measured.
  return { correlation: 1 - msd / (2 * variance), timeUs: timeUs + (stats.deviceTimeUs - before) / 2 };
}

/** Checks the decorrelation time is fitted to. */
const DECAY_CHECKS = 32;
/** A decline −ln(ρ/ρ₀) below this is within the check's noise (its spread on a fixed medium is about 2·10⁻⁵). */
const MEASURABLE_DECLINE = 1e-4;

/** What the facade should do before its next measurement. */
export type DriftAction = 'measure' | 'recalibrate' | 'error';

/**
 * The facade's watch over the medium: when `checkIntervalS` of device time has passed since the last check, the
 * references are shown again; the correlation history since the reference fields were measured gives the
 * decorrelation time; and the policy acts when the correlation expected at the *next* check would be below the
 * threshold (1 − ρ extrapolated as t², the slowest common onset, so that drift never outruns the check interval).
 */
export class DriftTracker {
  readonly options: DriftTrackingOptions;
  #baseline: { intensity: Float32Array; frames: number; timeUs: number; correlation: number } | undefined;
  #threshold = 0;
  /** The current reference fields' checks: lag since they were measured and ρ. */
  #history: { lagS: number; correlation: number }[] = [];
  /** The last checks' lags and −ln(ρ/ρ₀), over every re-measurement: the medium's decay, for τ. */
  #decay: { lagS: number; decline: number }[] = [];
  #lastCheckUs = 0;
  #checkSpacingS = 0;
  #checks = 0;
  #recalibrations = 0;

  constructor(options: DriftTrackingOptions) {
    this.options = options;
  }

  /**
   * New reference fields, measured `frames`-averaged at device time `timeUs`; `correlation` is how well they matched
   * the medium then (1 when just measured, the adoption check's value for a saved calibration).
   */
  reset(calibration: ReferenceMeasurement, frames: number, timeUs: number, correlation = 1): void {
    this.#baseline = { intensity: calibration.referenceIntensity, frames, timeUs, correlation };
    this.#threshold = driftThreshold(calibration, this.options.errorBudget);
    this.#history = [{ lagS: 0, correlation }];
    this.#lastCheckUs = timeUs;
    this.#checkSpacingS = 0;
  }

  /** Frames averaged per reference pattern in the fields in use: a re-measurement averages as many. */
  get baselineFrames(): number {
    return this.#baseline?.frames ?? 0;
  }

  get enabled(): boolean {
    return Number.isFinite(this.options.checkIntervalS);
  }

  /** Checks the references when one is due and returns what the caller must do before measuring. */
  async beforeMeasurement(
    acquirer: ExposureControlledAcquirer,
    layout: DmdLayout,
    stats: AcquisitionStats,
  ): Promise<DriftAction> {
    const baseline = this.#baseline;
    if (!baseline || !this.enabled) return 'measure';
    if ((acquirer.lastFrameEndUs - this.#lastCheckUs) * 1e-6 >= this.options.checkIntervalS) {
      const check = await measureReferenceCorrelation(acquirer, layout, baseline.intensity, baseline.frames, stats);
      this.#checks++;
      this.#checkSpacingS = (check.timeUs - this.#lastCheckUs) * 1e-6;
      this.#lastCheckUs = check.timeUs;
      const lagS = (check.timeUs - baseline.timeUs) * 1e-6;
      this.#history.push({ lagS, correlation: check.correlation });
      const decline = -Math.log(Math.max(check.correlation, 1e-6) / baseline.correlation);
      this.#decay = [...this.#decay.slice(1 - DECAY_CHECKS), { lagS, decline }];
    }
    if (this.options.policy === 'ignore' || this.#expectedAtNextCheck() >= this.#threshold) return 'measure';
    return this.options.policy;
  }

  recalibrated(): void {
    this.#recalibrations++;
  }

  /** The status now, without the counters. */
  get status(): DriftStatus {
    const last = this.#history.at(-1) ?? { lagS: 0, correlation: 1 };
    return {
      correlation: last.correlation,
      threshold: this.#threshold,
      sinceCalibrationS: last.lagS,
      timeConstantS: this.#timeConstantS(),
    };
  }

  /** Counters since the last call, with the status: what one result reports. */
  takeReport(): DriftReport {
    const report = { ...this.status, checks: this.#checks, recalibrations: this.#recalibrations };
    this.#checks = 0;
    this.#recalibrations = 0;
    return report;
  }

  /**
   * ρ at the next check: 1 − ρ grows from the baseline's own deficit as t² (a smooth onset like the simulator's;
   * an exponential medium grows as t, so this errs on the early side).
   */
  #expectedAtNextCheck(): number {
    const baseline = this.#baseline!;
    const last = this.#history.at(-1)!;
    if (last.lagS <= 0) return last.correlation;
    const ahead = last.lagS + Math.max(this.options.checkIntervalS, this.#checkSpacingS);
    return baseline.correlation - (baseline.correlation - last.correlation) * (ahead / last.lagS) ** 2;
  }

  /**
   * ln(−ln(ρ/ρ₀)) = β·ln t − β·ln τ, least squares over the checks whose decline stands out of the noise; with one
   * such lag, or lags too close to fit a slope, β = 2 (the smooth onset, the shorter τ of the two).
   */
  #timeConstantS(): number {
    const points = this.#decay.filter((p) => p.lagS > 0 && p.decline > MEASURABLE_DECLINE);
    if (points.length === 0) return Number.POSITIVE_INFINITY;
    const x = points.map((p) => Math.log(p.lagS));
    const y = points.map((p) => Math.log(p.decline));
    const mx = x.reduce((a, b) => a + b, 0) / x.length;
    const my = y.reduce((a, b) => a + b, 0) / y.length;
    let xx = 0;
    let xy = 0;
    x.forEach((v, i) => {
      xx += (v - mx) ** 2;
      xy += (v - mx) * (y[i]! - my);
    });
    const beta = xx > 0.1 ? Math.min(2, Math.max(1, xy / xx)) : 2;
    return Math.exp(mx - my / beta);
  }
}

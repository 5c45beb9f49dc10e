/**
 * The one idea every learning package builds on: a fixed random operator that can only be applied, never read. An
 * OPU is one (its `project()` and `transform()`), and so is its seeded digital twin (`GaussianOperator`). Training,
 * random features, reservoirs and sketches take these interfaces, so any of them runs on the optics or on a CPU.
 */

/** What one application cost. A digital operator shows no frames and no device time. */
export interface OperatorCost {
  /** DMD frames shown, padding, flushes and saturation re-acquisitions included. */
  frames: number;
  /** Time the modelled or real hardware needed: what the device itself sustains, whatever a simulation costs. */
  deviceTimeUs: number;
  /** Wall-clock time of the call. */
  wallTimeMs: number;
  /** Frame groups measured again at a shorter exposure because a pixel saturated. */
  saturationRetries: number;
  /**
   * Re-measurements of the operator during the call because its medium drifted (an OPU's reference fields): B
   * changed from that call on. Absent for operators that never change.
   */
  recalibrations?: number;
}

/** A row-major `rows × cols` result and what it cost. */
export interface OperatorResult {
  data: Float32Array;
  rows: number;
  cols: number;
  meta: OperatorCost;
}

/**
 * A linear random projection: `project(e)` returns e·Bᵀ for the rows of e (rows × inputs, row-major), with B
 * (outputs × inputs) fixed and i.i.d. N(0, 1). DFA's feedback, a sketch, a Johnson–Lindenstrauss embedding.
 */
export interface LinearProjection {
  readonly inputs: number;
  readonly outputs: number;
  project(e: Float32Array): Promise<OperatorResult>;
}

/**
 * Intensity features: `transform(x)` returns |R·x|² for binary rows x (rows × inputs of 0 and 1), with R (outputs ×
 * inputs) fixed, complex Gaussian, E|R_ij|² = 1 up to the device's gain. What a camera sees behind a scattering medium.
 */
export interface IntensityFeatures {
  readonly inputs: number;
  readonly outputs: number;
  transform(x: ArrayLike<number>): Promise<OperatorResult>;
}

/** What a series of applications cost, summed: one tally for every consumer (training, features, sketches). */
export class CostTally implements OperatorCost {
  calls = 0;
  frames = 0;
  deviceTimeUs = 0;
  wallTimeMs = 0;
  saturationRetries = 0;
  recalibrations = 0;

  add(cost: OperatorCost): void {
    this.calls++;
    this.frames += cost.frames;
    this.deviceTimeUs += cost.deviceTimeUs;
    this.wallTimeMs += cost.wallTimeMs;
    this.saturationRetries += cost.saturationRetries;
    this.recalibrations += cost.recalibrations ?? 0;
  }
}

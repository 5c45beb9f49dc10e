import { ArgumentError, type Opu, seededNormal, TernaryEncoder } from 'opu-core';
import { kernels } from 'opu-native';

/**
 * The one operation DFA offloads: `e·Bᵀ` for a batch of output errors e (rows × inputs), with B (outputs × inputs)
 * fixed and i.i.d. N(0, 1). The trainer scales and slices the result per layer.
 */
export interface FeedbackProjector {
  readonly inputs: number;
  readonly outputs: number;
  /**
   * e·Bᵀ, rows × outputs. `out` (rows × outputs) is a buffer the projector may write the result into and return,
   * so that training reuses one array per batch; the returned array is the result either way.
   */
  project(e: Float32Array, rows: number, out?: Float32Array): Promise<Float32Array>;
}

/** B drawn from a seed and multiplied with the native sgemm. */
export class DigitalProjector implements FeedbackProjector {
  readonly inputs: number;
  readonly outputs: number;
  readonly seed: number;
  /** outputs × inputs, N(0, 1). */
  readonly matrix: Float32Array;

  constructor(inputs: number, outputs: number, seed = 0) {
    this.inputs = inputs;
    this.outputs = outputs;
    this.seed = seed;
    this.matrix = Float32Array.from({ length: inputs * outputs }, seededNormal(seed));
  }

  project(e: Float32Array, rows: number, out?: Float32Array): Promise<Float32Array> {
    const result = out?.length === rows * this.outputs ? out : new Float32Array(rows * this.outputs);
    // Synchronous: the product is tens of microseconds, less than a hop to a worker thread and back.
    kernels.sgemm(rows, this.outputs, this.inputs, e, this.matrix, result, { transB: true });
    return Promise.resolve(result);
  }
}

export interface OpuProjectorOptions {
  /**
   * Ternarize each error row before projecting (what binary optics do fastest, 2·(1 + references) frames): entries
   * with |e| above this fraction of the row's max become a (positive ones) or −b (negative ones), a and b their
   * mean magnitudes, so the row keeps its balance between signs; the others 0. Omit to project real values.
   */
  ternarizeThreshold?: number;
}

/** What the projections so far cost the OPU, summed from each call's metadata. */
export interface ProjectionCost {
  calls: number;
  /** DMD frames shown (padding, flushes and saturation re-acquisitions included). */
  frames: number;
  /** Time of the modelled or real hardware: what the device itself needs, whatever the simulation costs. */
  deviceTimeUs: number;
  /** Wall-clock time inside `opu.project()`. */
  wallTimeMs: number;
  saturationRetries: number;
}

/** B realized by an OPU (simulated or real): `opu.project()` of the errors, one call per batch. */
export class OpuProjector implements FeedbackProjector {
  readonly opu: Opu;
  readonly cost: ProjectionCost = { calls: 0, frames: 0, deviceTimeUs: 0, wallTimeMs: 0, saturationRetries: 0 };
  /** See `OpuProjectorOptions`; undefined: real values are projected. */
  readonly ternarizeThreshold: number | undefined;
  readonly #ternary: TernaryEncoder | undefined;

  constructor(opu: Opu, options: OpuProjectorOptions = {}) {
    this.opu = opu;
    this.ternarizeThreshold = options.ternarizeThreshold;
    this.#ternary =
      options.ternarizeThreshold === undefined
        ? undefined
        : new TernaryEncoder({ threshold: options.ternarizeThreshold });
  }

  get inputs(): number {
    return this.opu.inputs;
  }

  get outputs(): number {
    return this.opu.outputs;
  }

  async project(e: Float32Array, rows: number): Promise<Float32Array> {
    if (e.length !== rows * this.inputs) {
      throw new ArgumentError(`has ${e.length} values, expected ${rows} × ${this.inputs}`, {
        field: 'e',
        fix: 'open the OPU with inputs = number of classes',
      });
    }
    const { data, meta } = await this.opu.project(this.#ternary ? this.#ternarize(e, rows) : e);
    this.cost.calls++;
    this.cost.frames += meta.frames;
    this.cost.deviceTimeUs += meta.deviceTimeUs;
    this.cost.wallTimeMs += meta.wallTimeMs;
    this.cost.saturationRetries += meta.saturationRetries;
    return data;
  }

  #ternarize(e: Float32Array, rows: number): Float32Array {
    const t = this.#ternary!.encode(e, this.inputs);
    const out = new Float32Array(e.length);
    for (let r = 0; r < rows; r++) {
      // A single magnitude would give the ternary row a large mean that e (summing to 0 under softmax) lacks:
      // the projection would then point the same way for every sample.
      const sum = [0, 0];
      const kept = [0, 0];
      for (let j = r * this.inputs; j < (r + 1) * this.inputs; j++) {
        if (t[j] === 0) continue;
        const side = t[j]! > 0 ? 0 : 1;
        sum[side]! += Math.abs(e[j]!);
        kept[side]!++;
      }
      const level = [kept[0]! ? sum[0]! / kept[0]! : 0, kept[1]! ? sum[1]! / kept[1]! : 0];
      for (let j = r * this.inputs; j < (r + 1) * this.inputs; j++) {
        out[j] = t[j]! > 0 ? level[0]! : t[j]! < 0 ? -level[1]! : 0;
      }
    }
    return out;
  }
}

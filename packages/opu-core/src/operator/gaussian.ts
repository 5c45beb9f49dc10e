import { kernels } from 'opu-native';
import { ArgumentError } from '../support/errors.js';
import { seededNormal } from '../support/random.js';
import type { IntensityFeatures, LinearProjection, OperatorResult } from './operator.js';

/**
 * The digital twin of an OPU, drawn from a seed and applied with the native sgemm: B (outputs × inputs, i.i.d.
 * N(0, 1)) for `project()`, and R = B_re/√2 + i·B_im/√2 for `transform()`, where B_re is B itself and B_im the next
 * outputs × inputs draws of the same stream. The baseline every optical result is compared with, and the stand-in
 * where no OPU is at hand. Each matrix is drawn the first time it is needed.
 */
export class GaussianOperator implements LinearProjection, IntensityFeatures {
  readonly inputs: number;
  readonly outputs: number;
  readonly seed: number;
  #projection: Float32Array | undefined;
  #field: { re: Float32Array; im: Float32Array } | undefined;

  constructor(inputs: number, outputs: number, seed = 0) {
    for (const [field, value] of [
      ['inputs', inputs],
      ['outputs', outputs],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new ArgumentError(`${value} is not a positive integer`, { field, fix: 'pass a whole number ≥ 1' });
      }
    }
    this.inputs = inputs;
    this.outputs = outputs;
    this.seed = seed;
  }

  /** B, outputs × inputs, row-major. */
  get matrix(): Float32Array {
    this.#projection ??= Float32Array.from({ length: this.outputs * this.inputs }, seededNormal(this.seed));
    return this.#projection;
  }

  project(e: Float32Array): Promise<OperatorResult> {
    const started = performance.now();
    const rows = this.#rows(e, 'e');
    const data = new Float32Array(rows * this.outputs);
    // Synchronous: for training batches the product takes less than a hop to a worker thread and back.
    kernels.sgemm(rows, this.outputs, this.inputs, e, this.matrix, data, { transB: true });
    return Promise.resolve(this.#result(data, rows, started));
  }

  transform(x: ArrayLike<number>): Promise<OperatorResult> {
    const started = performance.now();
    const rows = this.#rows(x, 'x');
    const a = Float32Array.from(x);
    const { re, im } = this.#fieldMatrix();
    const data = new Float32Array(rows * this.outputs);
    const imaginary = new Float32Array(rows * this.outputs);
    kernels.sgemm(rows, this.outputs, this.inputs, a, re, data, { transB: true });
    kernels.sgemm(rows, this.outputs, this.inputs, a, im, imaginary, { transB: true });
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * data[i]! + imaginary[i]! * imaginary[i]!;
    return Promise.resolve(this.#result(data, rows, started));
  }

  #fieldMatrix(): { re: Float32Array; im: Float32Array } {
    if (!this.#field) {
      const normal = seededNormal(this.seed);
      const half = Math.SQRT1_2; // real and imaginary parts each carry half of the unit variance
      const size = this.outputs * this.inputs;
      const re = Float32Array.from({ length: size }, () => half * normal());
      const im = Float32Array.from({ length: size }, () => half * normal());
      this.#field = { re, im };
    }
    return this.#field;
  }

  #rows(values: ArrayLike<number>, field: string): number {
    if (values.length % this.inputs !== 0) {
      throw new ArgumentError(`has ${values.length} values, not a whole number of rows of ${this.inputs}`, {
        field,
        fix: `pass rows × ${this.inputs} values, row-major`,
      });
    }
    return values.length / this.inputs;
  }

  #result(data: Float32Array, rows: number, started: number): OperatorResult {
    const meta = { frames: 0, deviceTimeUs: 0, wallTimeMs: performance.now() - started, saturationRetries: 0 };
    return { data, rows, cols: this.outputs, meta };
  }
}

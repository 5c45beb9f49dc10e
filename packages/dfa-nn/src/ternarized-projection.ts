import { ArgumentError, type LinearProjection, type OperatorResult, TernaryEncoder } from 'opu-core';

/**
 * A `LinearProjection` that ternarizes each row before handing it to another one: what binary optics project
 * fastest (a ternary row is two binary vectors, 2·(1 + references) frames on an OPU, against up to 16 bit planes for
 * real values). Entries with |e| above `threshold` times the row's largest |e| become a (positive ones) or −b
 * (negative ones), a and b the mean magnitudes of the entries kept on each side, so that the row keeps its balance
 * between signs; the others become 0. The result and its cost are the inner projection's.
 */
export class TernarizedProjection implements LinearProjection {
  readonly inner: LinearProjection;
  /** Fraction of each row's largest magnitude below which an entry becomes 0, in [0, 1). */
  readonly threshold: number;
  readonly #encoder: TernaryEncoder;

  constructor(inner: LinearProjection, threshold: number) {
    this.#encoder = new TernaryEncoder({ threshold });
    this.inner = inner;
    this.threshold = threshold;
  }

  get inputs(): number {
    return this.inner.inputs;
  }

  get outputs(): number {
    return this.inner.outputs;
  }

  project(e: Float32Array): Promise<OperatorResult> {
    if (e.length % this.inputs !== 0) {
      return Promise.reject(
        new ArgumentError(`has ${e.length} values, not a whole number of rows of ${this.inputs}`, {
          field: 'e',
          fix: `pass rows × ${this.inputs} values, row-major`,
        }),
      );
    }
    return this.inner.project(this.#ternarize(e));
  }

  #ternarize(e: Float32Array): Float32Array {
    const inputs = this.inputs;
    const rows = e.length / inputs;
    const t = this.#encoder.encode(e, inputs);
    const out = new Float32Array(e.length);
    for (let r = 0; r < rows; r++) {
      // A single magnitude would give the ternary row a large mean that e (summing to 0 under softmax) lacks:
      // the projection would then point the same way for every sample.
      const sum = [0, 0];
      const kept = [0, 0];
      for (let j = r * inputs; j < (r + 1) * inputs; j++) {
        if (t[j] === 0) continue;
        const side = t[j]! > 0 ? 0 : 1;
        sum[side]! += Math.abs(e[j]!);
        kept[side]!++;
      }
      const level = [kept[0]! ? sum[0]! / kept[0]! : 0, kept[1]! ? sum[1]! / kept[1]! : 0];
      for (let j = r * inputs; j < (r + 1) * inputs; j++) {
        out[j] = t[j]! > 0 ? level[0]! : t[j]! < 0 ? -level[1]! : 0;
      }
    }
    return out;
  }
}

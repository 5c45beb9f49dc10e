import { type CounterRng, Stream } from 'opu-native';

/** A laser whose power fluctuates from frame to frame, multiplicatively and identically for every pixel. */
export class SimulatedLaser {
  readonly #rng: CounterRng;
  readonly #fluctuationRms: number;
  readonly #z = new Float64Array(2);
  /** The factors of the last call, reused: the camera reads them during its exposure only. */
  #factors = new Float64Array(0);

  constructor(rng: CounterRng, powerFluctuationRms: number) {
    this.#rng = rng;
    this.#fluctuationRms = powerFluctuationRms;
  }

  /**
   * Power relative to nominal for frames firstFrameIndex … firstFrameIndex + count − 1, in an array that the next call
   * overwrites.
   */
  powerFactors(firstFrameIndex: number, count: number): Float64Array {
    if (this.#factors.length < count) this.#factors = new Float64Array(count);
    const out = this.#factors.subarray(0, count).fill(1);
    if (this.#fluctuationRms === 0) return out;
    for (let f = 0; f < count; f++) {
      this.#rng.normalPair(Stream.laser, firstFrameIndex + f, 0, 0, this.#z);
      out[f] = Math.max(0, 1 + this.#fluctuationRms * this.#z[0]!);
    }
    return out;
  }
}

/**
 * How long a peer has been silent, counting only time in which this process was free to hear it. Timers fire
 * before pending input is read, so after the event loop was blocked (a long synchronous computation, a busy
 * machine) plain wall time would declare a live device silent; here each tick adds at most one period.
 */
export class SilenceClock {
  readonly #periodMs: number;
  #lastTickMs = performance.now();
  #silentMs = 0;

  constructor(periodMs: number) {
    this.#periodMs = periodMs;
  }

  /** Something arrived: the silence starts again from now. */
  heard(): void {
    this.#silentMs = 0;
    this.#lastTickMs = performance.now();
  }

  /** Call every period; returns the silence so far. Compare it with at least two periods (see the class comment). */
  tick(): number {
    const now = performance.now();
    this.#silentMs += Math.min(now - this.#lastTickMs, this.#periodMs);
    this.#lastTickMs = now;
    return this.#silentMs;
  }
}

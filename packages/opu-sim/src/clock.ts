/** Device time. The simulator advances it by the modelled frame times, never by how long the simulation takes. */
export interface Clock {
  nowUs(): number;
  advanceUs(dtUs: number): void;
}

export class SimulatedClock implements Clock {
  #nowUs: number;

  constructor(startUs = 0) {
    this.#nowUs = startUs;
  }

  nowUs(): number {
    return this.#nowUs;
  }

  advanceUs(dtUs: number): void {
    this.#nowUs += dtUs;
  }
}

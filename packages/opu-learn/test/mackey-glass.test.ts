import { describe, expect, it } from 'vitest';
import { mackeyGlass } from '../src/index.js';

/**
 * An independent reference: forward Euler on a fine grid (1000 steps per unit), whose delayed values fall on the
 * grid exactly. First order, but at this step its error is below the RK4 series' own.
 */
function eulerReference(length: number): number[] {
  const stepsPerUnit = 1000;
  const h = 1 / stepsPerUnit;
  const delay = 17 * stepsPerUnit;
  const x = [1.2];
  const at = (k: number) => (k < 0 ? 1.2 : x[k]!);
  for (let k = 0; k < (length - 1) * stepsPerUnit; k++) {
    const delayed = at(k - delay);
    x.push(x[k]! + h * ((0.2 * delayed) / (1 + delayed ** 10) - 0.1 * x[k]!));
  }
  return Array.from({ length }, (_, t) => x[t * stepsPerUnit]!);
}

describe('mackeyGlass (τ = 17, β = 0.2, γ = 0.1, n = 10)', () => {
  const series = mackeyGlass({ length: 3000 });

  it('starts from its history and stays on the attractor’s known range', () => {
    expect(series[0]).toBe(1.2);
    let min = Infinity;
    let max = -Infinity;
    for (const v of series.subarray(50)) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThan(0.2);
    expect(max).toBeLessThan(1.4);
    expect(max - min).toBeGreaterThan(0.8); // it oscillates over the whole range
  });

  it('agrees with an independent Euler integration with a 100× finer step', () => {
    const reference = eulerReference(301);
    for (const t of [10, 17, 50, 100, 200, 300])
      expect(Math.abs(series[t]! - reference[t]!), `t = ${t}`).toBeLessThan(2e-3);
  });

  it('is deterministic, and chaotic: a 1e-9 change of the history grows a millionfold', () => {
    expect(mackeyGlass({ length: 3000 })).toEqual(series);
    const nudged = mackeyGlass({ length: 3000, initial: 1.2 + 1e-9 });
    const gap = (t: number) => Math.abs(nudged[t]! - series[t]!);
    expect(gap(50)).toBeLessThan(1e-7);
    expect(Math.max(...Array.from({ length: 500 }, (_, i) => gap(2500 + i)))).toBeGreaterThan(1e-3);
  });

  it('discards the transient and samples on request', () => {
    expect(mackeyGlass({ length: 10, discard: 100 })).toEqual(series.slice(100, 110));
    const coarse = mackeyGlass({ length: 10, sampling: 2, stepsPerUnit: 10 });
    expect(coarse).toEqual(Float64Array.from({ length: 10 }, (_, i) => series[2 * i]!));
    expect(() => mackeyGlass({ length: 10, tau: 17.05 })).toThrow(/options\.tau/);
    expect(() => mackeyGlass({ length: 0 })).toThrow(/options\.length/);
  });
});

import { describe, expect, it } from 'vitest';
import { fitDecay, thresholdCrossing } from '../src/calibration/stability.js';
import { seededNormal } from '../src/support/random.js';

const times = Array.from({ length: 11 }, (_, r) => r);
const floor = 0.998;

describe('the drift fit', () => {
  it('recovers the decorrelation time of an exponential decay and reads the interval from the crossing', () => {
    const tau = 40;
    const correlation = times.map((t) => floor * Math.exp(-t / tau));
    const fit = fitDecay(times, correlation, floor, 0.99);
    expect(fit.drifting).toBe(true);
    expect(fit.timeConstantS).toBeCloseTo(tau, 6);
    // c/c₀ = e^{−t/40} crosses 0.99 between the measurements at 0 and 1 s; linear between them
    expect(fit.recalibrationIntervalS).toBeCloseTo((1 - 0.99) / (1 - Math.exp(-1 / tau)), 9);
  });

  it('extrapolates τ·ln(1/threshold) when the span never reached the threshold', () => {
    const tau = 2000;
    const correlation = times.map((t) => floor * Math.exp(-t / tau));
    const fit = fitDecay(times, correlation, floor, 0.99);
    expect(fit.drifting).toBe(true);
    expect(fit.recalibrationIntervalS).toBeCloseTo(tau * Math.log(1 / 0.99), 3);
  });

  it('calls a flat correlation with measurement noise stable, over many seeds', () => {
    let alarms = 0;
    for (let seed = 0; seed < 200; seed++) {
      const noise = seededNormal(seed);
      const correlation = times.map((t) => (t === 0 ? floor : floor + 1e-4 * noise()));
      if (fitDecay(times, correlation, floor, 0.998).drifting) alarms++;
    }
    expect(alarms).toBe(0);
  });

  it('finds a small but significant decline', () => {
    const noise = seededNormal(7);
    const correlation = times.map((t) => (t === 0 ? floor : floor * (1 - 3e-4 * t) + 2e-5 * noise()));
    const fit = fitDecay(times, correlation, floor, 0.998);
    expect(fit.drifting).toBe(true);
    expect(fit.timeConstantS).toBeGreaterThan(2500);
    expect(fit.timeConstantS).toBeLessThan(4200);
  });

  it('interpolates the crossing linearly between measurements, undefined when never crossed', () => {
    expect(thresholdCrossing([0, 1, 2], [1, 0.995, 0.985], 1, 0.99)).toBeCloseTo(1.5, 12);
    expect(thresholdCrossing([0, 2, 4], [0.5, 0.5, 0.498], 0.5, 0.99)).toBeUndefined();
  });
});

import { ArgumentError } from 'opu-core';

/**
 * The Mackey-Glass delay differential equation, dx/dt = β·x(t − τ) / (1 + x(t − τ)ⁿ) − γ·x(t), a model of blood
 * cell production (Mackey & Glass, Science 1977). With the defaults (τ = 17, β = 0.2, γ = 0.1, n = 10) it is the
 * standard chaotic benchmark of time-series prediction and reservoir computing (Jaeger & Haas, Science 2004): a
 * low-dimensional chaotic attractor whose values stay within about [0.2, 1.4].
 */
export interface MackeyGlassOptions {
  /** Samples returned. */
  length: number;
  /** Delay τ, in time units (17: chaotic; below about 16.8 the series is periodic). */
  tau?: number;
  /** Production rate β. */
  beta?: number;
  /** Decay rate γ. */
  gamma?: number;
  /** Exponent n of the Hill function. */
  exponent?: number;
  /** x(t) for t ≤ 0: the history that starts the delay equation. */
  initial?: number;
  /** Time between samples, in time units. */
  sampling?: number;
  /** RK4 steps per time unit: τ must be a whole number of steps, so the delayed values fall on the grid. */
  stepsPerUnit?: number;
  /** Samples dropped from the start, while the series leaves its constant history for the attractor. */
  discard?: number;
}

/**
 * The Mackey-Glass series (see `MackeyGlassOptions`), integrated by fourth-order Runge-Kutta on a grid of
 * `1 / stepsPerUnit`. The delayed term at the half steps is the mean of its two grid neighbours (linear
 * interpolation, second order in the step: the default 10 steps per unit are about 2e-4 from a 100-step solution at
 * t = 300, far below what a predictor resolves). Deterministic: same options, same numbers.
 */
export function mackeyGlass(options: MackeyGlassOptions): Float64Array {
  const { length, tau = 17, beta = 0.2, gamma = 0.1, exponent = 10, initial = 1.2, sampling = 1 } = options;
  const stepsPerUnit = options.stepsPerUnit ?? 10;
  const discard = options.discard ?? 0;
  for (const [field, value] of [
    ['length', length],
    ['discard', discard],
    ['stepsPerUnit', stepsPerUnit],
  ] as const) {
    if (!Number.isInteger(value) || value < (field === 'discard' ? 0 : 1)) {
      throw new ArgumentError(`${value} is not a ${field === 'discard' ? 'non-negative' : 'positive'} integer`, {
        field: `options.${field}`,
        fix: `pass a whole number of ${field === 'stepsPerUnit' ? 'steps' : 'samples'}`,
      });
    }
  }
  const delaySteps = tau * stepsPerUnit;
  const sampleSteps = sampling * stepsPerUnit;
  for (const [field, steps] of [
    ['tau', delaySteps],
    ['sampling', sampleSteps],
  ] as const) {
    if (!(Math.abs(steps - Math.round(steps)) < 1e-9 && Math.round(steps) >= 1)) {
      throw new ArgumentError(`${options[field]} is not a positive multiple of the step 1/${stepsPerUnit}`, {
        field: `options.${field}`,
        fix: 'choose stepsPerUnit so that τ and the sampling interval are whole numbers of steps',
      });
    }
  }
  const d = Math.round(delaySteps);
  const every = Math.round(sampleSteps);
  const h = 1 / stepsPerUnit;
  const production = (delayed: number) => (beta * delayed) / (1 + delayed ** exponent);
  const slope = (x: number, delayed: number) => production(delayed) - gamma * x;

  // A ring of the last d + 1 grid values: history[(k mod (d + 1))] is x at step k.
  const history = new Float64Array(d + 1).fill(initial);
  const out = new Float64Array(length);
  let x = initial;
  let step = 0;
  for (let sample = -discard; sample < length; sample++) {
    if (sample >= 0) out[sample] = x;
    for (let s = 0; s < every; s++, step++) {
      const delayedNow = history[(step + 1) % (d + 1)]!; // x at step − d (the slot step − d ≡ step + 1)
      const delayedNext = history[(step + 2) % (d + 1)]!; // x at step + 1 − d
      const delayedHalf = 0.5 * (delayedNow + delayedNext);
      const k1 = slope(x, delayedNow);
      const k2 = slope(x + 0.5 * h * k1, delayedHalf);
      const k3 = slope(x + 0.5 * h * k2, delayedHalf);
      const k4 = slope(x + h * k3, delayedNext);
      x += (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
      history[(step + 1) % (d + 1)] = x;
    }
  }
  return out;
}

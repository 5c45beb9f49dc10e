import { ArgumentError } from 'opu-core';
import { kernels } from 'opu-native';

export const OPTIMIZERS = ['sgd', 'adam', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface OptimizerOptions {
  name?: OptimizerName;
  learningRate: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** L2 weight decay added to the gradient of weights (not biases). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Updates one parameter array in place from its gradient; state is kept per parameter array. */
export class Optimizer {
  readonly options: Required<OptimizerOptions>;
  #state = new Map<Float32Array, { m: Float32Array; v: Float32Array; t: number }>();

  constructor(options: OptimizerOptions) {
    const name = options.name ?? 'sgd';
    if (!OPTIMIZERS.includes(name)) {
      throw new ArgumentError(`'${name}' is not an optimizer`, {
        field: 'optimizer.name',
        fix: 'use sgd, adam or rmsprop',
      });
    }
    if (!(options.learningRate > 0) || !Number.isFinite(options.learningRate)) {
      throw new ArgumentError(`${options.learningRate} is not a positive learning rate`, {
        field: 'optimizer.learningRate',
        fix: 'e.g. 0.01 for SGD, 0.001 for Adam',
      });
    }
    this.options = {
      name,
      learningRate: options.learningRate,
      momentum: options.momentum ?? 0.9,
      weightDecay: options.weightDecay ?? 0,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      epsilon: options.epsilon ?? 1e-8,
    };
  }

  /** The state kept for each parameter array (for checkpoints), in the order given. */
  exportState(params: Float32Array[]): { t: number; m: Float32Array; v: Float32Array }[] {
    return params.map((p) => {
      const s = this.#state.get(p);
      return s
        ? { t: s.t, m: s.m.slice(), v: s.v.slice() }
        : { t: 0, m: new Float32Array(p.length), v: new Float32Array(p.length) };
    });
  }

  importState(params: Float32Array[], states: { t: number; m: Float32Array; v: Float32Array }[]): void {
    params.forEach((p, i) => {
      const s = states[i]!;
      this.#state.set(p, { t: s.t, m: s.m.slice(), v: s.v.slice() });
    });
  }

  /** `learningRate` scales this step (schedules pass their current rate). */
  step(param: Float32Array, grad: Float32Array, learningRate: number, decay: boolean): void {
    const o = this.options;
    const s = this.#stepState(param);
    const wd = decay ? o.weightDecay : 0;
    if (o.name === 'sgd') {
      kernels.sgdStep(param, grad, s.m, learningRate, o.momentum, wd);
    } else if (o.name === 'adam') {
      kernels.adamStep(param, grad, s.m, s.v, {
        rate: learningRate,
        beta1: o.beta1,
        beta2: o.beta2,
        epsilon: o.epsilon,
        c1: 1 - o.beta1 ** s.t,
        c2: 1 - o.beta2 ** s.t,
        decay: wd,
      });
    } else {
      for (let i = 0; i < param.length; i++) {
        const g = grad[i]! + wd * param[i]!;
        s.v[i] = o.beta2 * s.v[i]! + (1 - o.beta2) * g * g;
        param[i]! -= (learningRate * g) / (Math.sqrt(s.v[i]!) + o.epsilon);
      }
    }
  }

  /**
   * The step of a weight matrix (outputs × inputs) from its gradient given as the product δᵀ·h: SGD applies it
   * without storing the gradient (kernels.sgemmSgdStep, the same numbers as computing it first); the others compute
   * it into `scratch` (outputs × inputs) and step.
   */
  stepWeights(
    weights: Float32Array,
    gradient: WeightGradientProduct,
    scratch: Float32Array,
    learningRate: number,
  ): void {
    const o = this.options;
    const outputs = gradient.delta.length / gradient.rows;
    const inputs = gradient.input.length / gradient.rows;
    if (o.name !== 'sgd') {
      kernels.sgemm(outputs, inputs, gradient.rows, gradient.delta, gradient.input, scratch, { transA: true });
      this.step(weights, scratch, learningRate, true);
      return;
    }
    const s = this.#stepState(weights);
    kernels.sgemmSgdStep(
      outputs,
      inputs,
      gradient.rows,
      gradient.delta,
      gradient.input,
      { p: weights, v: s.m, rate: learningRate, momentum: o.momentum, decay: o.weightDecay },
      { transA: true },
    );
  }

  /** The state of a parameter array, created at its first step, its step count advanced. */
  #stepState(param: Float32Array): { m: Float32Array; v: Float32Array; t: number } {
    let s = this.#state.get(param);
    if (!s) {
      s = { m: new Float32Array(param.length), v: new Float32Array(param.length), t: 0 };
      this.#state.set(param, s);
    }
    s.t++;
    return s;
  }
}

/**
 * A weight matrix's gradient as the product δᵀ·h of a batch's deltas (rows × outputs) and the layer's inputs
 * (rows × inputs), both row-major.
 */
export interface WeightGradientProduct {
  rows: number;
  delta: Float32Array;
  input: Float32Array;
}

export type Schedule = (epoch: number) => number;

/** Learning rate × decay^⌊epoch / every⌋. */
export function stepSchedule(learningRate: number, decay: number, every: number): Schedule {
  return (epoch) => learningRate * decay ** Math.floor(epoch / every);
}

/** From the learning rate at epoch 0 down to `final` at epoch `epochs` along half a cosine (Loshchilov & Hutter). */
export function cosineSchedule(learningRate: number, epochs: number, final = 0): Schedule {
  return (epoch) => final + ((learningRate - final) * (1 + Math.cos((Math.PI * Math.min(epoch, epochs)) / epochs))) / 2;
}

import { seededUniform } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { cosineSchedule, Mlp, Optimizer, stepSchedule, Trainer } from '../src/index.js';

function values(n: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  return Float32Array.from({ length: n }, () => u() * 2 - 1);
}

describe('optimizers, three steps against the update rules written out in float64', () => {
  const n = 50;
  const grads = [values(n, 2), values(n, 3), values(n, 4)];
  const rules = {
    sgd: (p: Float64Array, s: { m: Float64Array; v: Float64Array }, g: Float32Array) => {
      for (let i = 0; i < n; i++) {
        s.m[i] = 0.9 * s.m[i]! + g[i]! + 0.01 * p[i]!;
        p[i]! -= 0.1 * s.m[i]!;
      }
    },
    adam: (p: Float64Array, s: { m: Float64Array; v: Float64Array }, g: Float32Array, t: number) => {
      for (let i = 0; i < n; i++) {
        const grad = g[i]! + 0.01 * p[i]!;
        s.m[i] = 0.9 * s.m[i]! + 0.1 * grad;
        s.v[i] = 0.999 * s.v[i]! + 0.001 * grad * grad;
        p[i]! -= (0.1 * (s.m[i]! / (1 - 0.9 ** t))) / (Math.sqrt(s.v[i]! / (1 - 0.999 ** t)) + 1e-8);
      }
    },
    rmsprop: (p: Float64Array, s: { m: Float64Array; v: Float64Array }, g: Float32Array) => {
      for (let i = 0; i < n; i++) {
        const grad = g[i]! + 0.01 * p[i]!;
        s.v[i] = 0.999 * s.v[i]! + 0.001 * grad * grad;
        p[i]! -= (0.1 * grad) / (Math.sqrt(s.v[i]!) + 1e-8);
      }
    },
  };
  for (const [name, rule] of Object.entries(rules)) {
    it(name, () => {
      const param = values(n, 1);
      const expected = Float64Array.from(param);
      const state = { m: new Float64Array(n), v: new Float64Array(n) };
      const optimizer = new Optimizer({ name: name as 'sgd', learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 });
      grads.forEach((g, t) => {
        optimizer.step(param, g, 0.1, true);
        rule(expected, state, g, t + 1);
      });
      for (let i = 0; i < n; i++) expect(param[i]).toBeCloseTo(expected[i]!, 5);
    });
  }

  it.each(['sgd', 'adam', 'rmsprop'] as const)(
    '%s: stepWeights from the product δᵀ·h moves the weights as step with δᵀ·h written out, three steps',
    (name) => {
      const [rows, outputs, inputs] = [16, 9, 13];
      const options = { name, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 };
      const [fromProduct, fromGradient] = [new Optimizer(options), new Optimizer(options)];
      const [a, b] = [values(outputs * inputs, 6), values(outputs * inputs, 6)];
      for (let t = 0; t < 3; t++) {
        const gradient = { rows, delta: values(rows * outputs, 7 + t), input: values(rows * inputs, 10 + t) };
        fromProduct.stepWeights(a, gradient, new Float32Array(outputs * inputs), 0.1);
        // δᵀ·h written out, rounded to float32 once as sgemm's result is.
        const g = new Float32Array(outputs * inputs);
        for (let o = 0; o < outputs; o++) {
          for (let i = 0; i < inputs; i++) {
            let sum = 0;
            for (let r = 0; r < rows; r++) sum += gradient.delta[r * outputs + o]! * gradient.input[r * inputs + i]!;
            g[o * inputs + i] = sum;
          }
        }
        fromGradient.step(b, g, 0.1, true);
        for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 5);
      }
    },
  );

  it('weight decay applies to weights, not to biases', () => {
    const bias = values(n, 5);
    const before = bias.slice();
    new Optimizer({ learningRate: 0.1, momentum: 0, weightDecay: 0.5 }).step(bias, new Float32Array(n), 0.1, false);
    expect(bias).toEqual(before);
  });
});

describe('learning-rate schedules', () => {
  it('step: halves every 15 epochs', () => {
    const s = stepSchedule(0.3, 0.5, 15);
    expect([0, 14, 15, 29, 30].map(s)).toEqual([0.3, 0.3, 0.15, 0.15, 0.075]);
  });

  it('cosine: from the rate to the floor along half a cosine, then stays there', () => {
    const s = cosineSchedule(0.2, 40, 0.01);
    expect(s(0)).toBeCloseTo(0.2, 12);
    expect(s(20)).toBeCloseTo(0.105, 12);
    expect(s(40)).toBeCloseTo(0.01, 12);
    expect(s(50)).toBeCloseTo(0.01, 12);
    expect(s(10)).toBeGreaterThan(s(11));
  });

  it('the trainer steps with the schedule’s rate for the epoch', async () => {
    const u = seededUniform(6);
    const x = Float32Array.from({ length: 8 * 5 }, () => u());
    const labels = Uint8Array.from({ length: 8 }, (_, i) => i % 3);
    const train = async (options: { learningRate: number; schedule?: (epoch: number) => number }, epoch: number) => {
      const model = new Mlp({ sizes: [5, 4, 3], seed: 7 });
      const trainer = new Trainer(model, {
        algorithm: 'bp',
        optimizer: { learningRate: options.learningRate, momentum: 0 },
        schedule: options.schedule,
      });
      await trainer.trainBatch(x, labels, epoch);
      return model.layers[0]!.weights;
    };
    const scheduled = await train({ learningRate: 1, schedule: (epoch) => (epoch === 3 ? 0.2 : 5) }, 3);
    expect(scheduled).toEqual(await train({ learningRate: 0.2 }, 0));
  });
});

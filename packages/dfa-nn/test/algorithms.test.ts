import { ArgumentError, seededUniform } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { computeLoss, DigitalProjector, Mlp, Trainer } from '../src/index.js';

function batch(rows: number, features: number, classes: number, seed: number) {
  const u = seededUniform(seed);
  const x = Float32Array.from({ length: rows * features }, () => u() * 2 - 1);
  const labels = Uint8Array.from({ length: rows }, () => Math.floor(u() * classes));
  return { x, labels };
}

const sgd = { name: 'sgd' as const, learningRate: 0.1, momentum: 0 };

describe('backpropagation', () => {
  for (const activation of ['tanh', 'sigmoid', 'leaky-relu', 'relu'] as const) {
    for (const loss of ['softmax-cross-entropy', 'sigmoid-cross-entropy', 'mse'] as const) {
      it(`matches finite differences (${activation}, ${loss})`, async () => {
        const model = new Mlp({ sizes: [5, 4, 3, 3], activation, seed: 1 });
        const trainer = new Trainer(model, { algorithm: 'bp', loss, reduction: 'sum', optimizer: sgd });
        const { x, labels } = batch(6, 5, 3, 2);
        const { gradients } = await trainer.gradients(x, labels);
        const lossAt = () => computeLoss(loss, model.predict(x, 6), labels, 3).total;
        let worst = 0;
        for (const [l, layer] of model.layers.entries()) {
          for (const [params, grad] of [
            [layer.weights, gradients[l]!.weights],
            [layer.bias, gradients[l]!.bias],
          ] as const) {
            for (let i = 0; i < params.length; i += 3) {
              const saved = params[i]!;
              // Smaller steps for piecewise-linear activations, so that a step rarely crosses a kink.
              const eps = activation.endsWith('relu') ? 1e-3 : 1e-2;
              params[i] = saved + eps;
              const up = lossAt();
              params[i] = saved - eps;
              const down = lossAt();
              params[i] = saved;
              const numeric = (up - down) / (2 * eps);
              worst = Math.max(worst, Math.abs(numeric - grad[i]!) / Math.max(1e-2, Math.abs(numeric)));
            }
          }
        }
        // Central differences in float32: truncation O(eps²) and rounding ~1e-7/eps.
        expect(worst).toBeLessThan(2e-2);
      });
    }
  }
});

describe('feedback alignment family', () => {
  it('FA equals DFA for one hidden layer when FA uses the transpose of the DFA feedback', async () => {
    const sizes = [6, 5, 3];
    const projector = new DigitalProjector(3, 5, 9);
    const factor = 1 / Math.sqrt(3 * 5); // Nøkland scaling of a 5-wide layer
    const transpose = new Float32Array(3 * 5);
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 3; j++) transpose[j * 5 + i] = factor * projector.matrix[i * 3 + j]!;
    const dfa = new Trainer(new Mlp({ sizes, seed: 4 }), { algorithm: 'dfa', projector, optimizer: sgd });
    const fa = new Trainer(new Mlp({ sizes, seed: 4 }), {
      algorithm: 'fa',
      faMatrices: [new Float32Array(30), transpose],
      optimizer: sgd,
    });
    const { x, labels } = batch(7, 6, 3, 5);
    const a = (await dfa.gradients(x, labels)).gradients;
    const b = (await fa.gradients(x, labels)).gradients;
    for (let l = 0; l < 2; l++) {
      for (let i = 0; i < a[l]!.weights.length; i++) expect(a[l]!.weights[i]).toBeCloseTo(b[l]!.weights[i]!, 6);
    }
  });

  it('gives the output layer the true gradient under every algorithm', async () => {
    const { x, labels } = batch(8, 6, 4, 6);
    const reference = (
      await new Trainer(new Mlp({ sizes: [6, 5, 5, 4], seed: 7 }), { algorithm: 'bp', optimizer: sgd }).gradients(
        x,
        labels,
      )
    ).gradients;
    for (const algorithm of ['fa', 'dfa', 'ifa', 'shallow'] as const) {
      const g = (
        await new Trainer(new Mlp({ sizes: [6, 5, 5, 4], seed: 7 }), { algorithm, optimizer: sgd }).gradients(x, labels)
      ).gradients;
      expect(g[2]!.weights).toEqual(reference[2]!.weights);
      expect(g[2]!.bias).toEqual(reference[2]!.bias);
      if (algorithm !== 'shallow') expect(g[0]!.weights).not.toEqual(reference[0]!.weights);
    }
  });

  it('the shallow control leaves hidden weights unchanged', async () => {
    const model = new Mlp({ sizes: [6, 5, 5, 4], seed: 8 });
    const before = model.layers.map((l) => l.weights.slice());
    const trainer = new Trainer(model, { algorithm: 'shallow', optimizer: sgd });
    const { x, labels } = batch(8, 6, 4, 9);
    await trainer.trainBatch(x, labels);
    expect(model.layers[0]!.weights).toEqual(before[0]);
    expect(model.layers[1]!.weights).toEqual(before[1]);
    expect(model.layers[2]!.weights).not.toEqual(before[2]);
  });

  it('IFA carries the first layer’s feedback forward through the forward weights', async () => {
    const model = new Mlp({ sizes: [6, 5, 4, 3], seed: 10 });
    const trainer = new Trainer(model, { algorithm: 'ifa', optimizer: sgd });
    expect(trainer.projector!.outputs).toBe(5);
    const { x, labels } = batch(4, 6, 3, 11);
    const pass = model.forward(x, 4);
    const { error } = computeLoss('softmax-cross-entropy', pass.pre[2]!, labels, 3);
    const deltas = await trainer.deltas(pass, error);
    // δ_2 = (δ_1·W_2ᵀ) ⊙ tanh'(a_2), computed independently.
    const W = model.layers[1]!;
    for (let r = 0; r < 4; r++) {
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let i = 0; i < 5; i++) s += deltas[0]![r * 5 + i]! * W.weights[j * 5 + i]!;
        const h = pass.post[2]![r * 4 + j]!;
        expect(deltas[1]![r * 4 + j]).toBeCloseTo(s * (1 - h * h), 6);
      }
    }
  });

  it('rejects an unknown algorithm and a projector of the wrong shape', () => {
    const model = new Mlp({ sizes: [4, 3, 2] });
    expect(() => new Trainer(model, { algorithm: 'magic' as never, optimizer: sgd })).toThrow(ArgumentError);
    expect(
      () => new Trainer(model, { algorithm: 'dfa', projector: new DigitalProjector(2, 2), optimizer: sgd }),
    ).toThrow(/projector: projects 2 → 2, the network needs 2 → 3/);
    expect(() => new Mlp({ sizes: [4] })).toThrow(/sizes/);
    expect(() => model.forward(new Float32Array(7), 2)).toThrow(/x: has 7 values/);
    expect(() => new Trainer(model, { algorithm: 'bp', optimizer: { learningRate: -1 } })).toThrow(/learningRate/);
  });
});

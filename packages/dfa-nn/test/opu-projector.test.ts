import { CostTally, type LinearProjection, openOpu } from 'opu-core';
import 'opu-sim';
import { describe, expect, it } from 'vitest';
import { loadMnist, Mlp, subset, TernarizedProjection, Trainer, trainingConfiguration } from '../src/index.js';

const train = subset(
  loadMnist('train', 3000),
  Array.from({ length: 3000 }, (_, i) => i),
);
const test = loadMnist('test', 1000);

function dfaTrainer(projector?: LinearProjection, cost?: CostTally): Trainer {
  const model = new Mlp({ sizes: [784, 128, 128, 10], hiddenInit: 'zero', seed: 3 });
  return new Trainer(model, {
    algorithm: 'dfa',
    projector,
    cost,
    optimizer: { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
    seed: 3,
  });
}

async function dfaError(projector?: LinearProjection, cost?: CostTally): Promise<number> {
  const trainer = dfaTrainer(projector, cost);
  for (let epoch = 0; epoch < 2; epoch++) await trainer.trainEpoch(train, epoch, 32);
  return trainer.evaluate(test).error;
}

describe('DFA with the feedback projected by the simulated OPU', () => {
  it('trains within 3 points of digital DFA (realistic 8-bit camera, ternarized errors)', async () => {
    await using opu = await openOpu('sim://?inputs=10&outputs=256&seed=11');
    const projector = new TernarizedProjection(opu, 0.1);
    const cost = new CostTally();
    const [digital, optical] = [await dfaError(), await dfaError(projector, cost)];
    expect(optical).toBeLessThan(0.15);
    expect(Math.abs(optical - digital)).toBeLessThan(0.03);
    // One call per batch (94 batches, 2 epochs); each ternary error row is at most two binary vectors of 1 + 3
    // frames (the top references) or, with one non-zero, 1 + 6 (the dimmer rung); the device cannot show them
    // faster than its DMD rate.
    expect(cost.calls).toBe(2 * Math.ceil(3000 / 32));
    expect(cost.frames).toBeGreaterThanOrEqual(2 * 3000 * 4);
    expect(cost.frames).toBeLessThanOrEqual(2 * 3000 * 14 * 1.2);
    expect(cost.deviceTimeUs / 1e6).toBeGreaterThanOrEqual(cost.frames / opu.device.info.dmd.maxFrameRateHz);
    expect(cost.wallTimeMs).toBeGreaterThan(0);
    // A checkpoint records the device and the encoding as it always did.
    const { model, serialNumber } = opu.device.info;
    const recorded = (p: LinearProjection) =>
      trainingConfiguration(dfaTrainer(p), {
        batchSize: 32,
        trainSamples: 3000,
        testSamples: 1000,
        alignmentSamples: 0,
      }).projector;
    expect(recorded(projector)).toBe(`opu ${model} ${serialNumber}, ternarized at 0.1`);
    expect(recorded(opu)).toBe(`opu ${model} ${serialNumber}, real values`);
  });

  it('rejects an OPU whose input size is not the number of classes', async () => {
    await using opu = await openOpu('sim://?inputs=12&outputs=256&seed=1');
    const model = new Mlp({ sizes: [784, 128, 128, 10] });
    expect(() => new Trainer(model, { algorithm: 'dfa', projector: opu, optimizer: { learningRate: 0.1 } })).toThrow(
      /projector: projects 12 → 256, the network needs 10 → 256/,
    );
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, loadMnist, Mlp, runTraining, saveCheckpoint, Trainer } from '../src/index.js';

const train = loadMnist('train', 1200);
const test = loadMnist('test', 300);

function trainer(algorithm: 'dfa' | 'bp' = 'dfa', sizes = [784, 64, 64, 10]) {
  return new Trainer(new Mlp({ sizes, seed: 2 }), {
    algorithm,
    optimizer: { name: 'adam', learningRate: 0.002 },
    seed: 2,
  });
}

describe('checkpoint and resume', () => {
  it('a run killed after epoch 1 resumes and ends exactly like an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfa-nn-'));
    const straight = trainer();
    const whole = await runTraining(straight, { train, test, epochs: 3, batchSize: 50 });

    const path = join(dir, 'run.ckpt');
    await runTraining(trainer(), { train, test, epochs: 1, batchSize: 50, checkpoint: path });
    // "Killed" mid-epoch 2: a fresh process rebuilds the trainer and resumes from the file.
    const resumed = trainer();
    const state = await runTraining(resumed, { train, test, epochs: 3, batchSize: 50, checkpoint: path, resume: true });
    expect(state.epochsDone).toBe(3);
    expect(state.history).toEqual(whole.history);
    for (const [l, layer] of resumed.model.layers.entries())
      expect(layer.weights).toEqual(straight.model.layers[l]!.weights);
  });

  it('rejects corrupt, truncated and mismatched checkpoints with typed errors, leaving the model untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfa-nn-'));
    const path = join(dir, 'a.ckpt');
    const source = trainer();
    saveCheckpoint(path, source, { epochsDone: 1, history: [] });
    const bytes = readFileSync(path);

    const target = trainer();
    const before = target.model.layers[0]!.weights.slice();
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3]! ^= 0xff;
    writeFileSync(join(dir, 'flipped.ckpt'), flipped);
    writeFileSync(join(dir, 'short.ckpt'), bytes.subarray(0, bytes.length - 100));
    writeFileSync(join(dir, 'junk.ckpt'), 'hello');
    for (const [file, message] of [
      ['flipped.ckpt', /checksum mismatch/],
      ['short.ckpt', /checksum mismatch/],
      ['junk.ckpt', /wrong magic/],
      ['missing.ckpt', /cannot be read/],
    ] as const) {
      const call = () => loadCheckpoint(join(dir, file), target);
      expect(call).toThrow(ArgumentError);
      expect(call).toThrow(message);
    }
    expect(() => loadCheckpoint(path, trainer('bp'))).toThrow(/algorithm "dfa", this run has "bp"/);
    expect(() => loadCheckpoint(path, trainer('dfa', [784, 32, 10]))).toThrow(/sizes/);
    expect(target.model.layers[0]!.weights).toEqual(before);
  });
});

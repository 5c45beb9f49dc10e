import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError, GaussianOperator } from 'opu-core';
import { describe, expect, it } from 'vitest';
import { KiB, MiB, mountSmallDisk, temporaryFiles } from '../../opu-core/test/helpers/small-disk.js';
import {
  CheckpointMismatchError,
  loadCheckpoint,
  loadMnist,
  Mlp,
  type RunSettings,
  runTraining,
  saveCheckpoint,
  TernarizedProjection,
  Trainer,
  type TrainerOptions,
  trainingConfiguration,
} from '../src/index.js';

const train = loadMnist('train', 1200);
const test = loadMnist('test', 300);
const RUN: RunSettings = { batchSize: 50, trainSamples: 1200, testSamples: 300, alignmentSamples: 256 };

function trainer(options: Partial<TrainerOptions> = {}, sizes = [784, 64, 64, 10]) {
  return new Trainer(new Mlp({ sizes, seed: 2 }), {
    algorithm: 'dfa',
    optimizer: { name: 'adam', learningRate: 0.002 },
    seed: 2,
    ...options,
  });
}

/** The error `call` throws (failing the test if it returns). */
function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
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

  it('rejects corrupt, truncated and other networks’ checkpoints with typed errors, leaving the model untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfa-nn-'));
    const path = join(dir, 'a.ckpt');
    await saveCheckpoint(path, trainer(), { epochsDone: 1, history: [] }, RUN);
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
      const call = () => loadCheckpoint(join(dir, file), target, RUN);
      expect(call).toThrow(ArgumentError);
      expect(call).toThrow(message);
    }
    // other layer sizes cannot be forced: the arrays would not fit
    const smaller = thrown(() => loadCheckpoint(path, trainer({}, [784, 32, 10]), RUN, { force: true }));
    expect(smaller).toBeInstanceOf(CheckpointMismatchError);
    expect(smaller.message).toMatch(/another network .*sizes \[784,64,64,10\] → \[784,32,10\]/);
    expect(target.model.layers[0]!.weights).toEqual(before);
  });

  it('records the whole configuration and refuses a resume that changes it, unless forced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfa-nn-'));
    const path = join(dir, 'b.ckpt');
    const source = trainer();
    await runTraining(source, { train, test, epochs: 1, batchSize: RUN.batchSize, checkpoint: path });
    const bytes = readFileSync(path);
    const header = JSON.parse(
      bytes.subarray(bytes.indexOf(10) + 1, bytes.indexOf(10, bytes.indexOf(10) + 1)).toString(),
    );
    expect(header.configuration).toEqual(trainingConfiguration(trainer(), RUN));
    expect(header.configuration).toMatchObject({ projector: 'digital, seed 3', feedbackGain: 1, trainSamples: 1200 });

    const changed = [
      ['optimizer.learningRate', 0.002, 0.001, trainer({ optimizer: { name: 'adam', learningRate: 0.001 } }), RUN],
      ['batchSize', 50, 64, trainer(), { ...RUN, batchSize: 64 }],
      [
        'projector',
        'digital, seed 3',
        'digital, seed 9',
        trainer({ projector: new GaussianOperator(10, 128, 9) }),
        RUN,
      ],
      [
        'projector',
        'digital, seed 3',
        'digital, seed 3, ternarized at 0.1',
        trainer({ projector: new TernarizedProjection(new GaussianOperator(10, 128, 3), 0.1) }),
        RUN,
      ],
      ['trainSamples', 1200, 600, trainer(), { ...RUN, trainSamples: 600 }],
      ['feedbackGain', 1, 3, trainer({ feedbackGain: 3 }), RUN],
      ['algorithm', 'dfa', 'ifa', trainer({ algorithm: 'ifa' }), RUN],
    ] as const;
    for (const [setting, saved, now, target, run] of changed) {
      const before = target.model.layers[0]!.weights.slice();
      const refused = thrown(() => loadCheckpoint(path, target, run));
      expect(refused).toBeInstanceOf(CheckpointMismatchError);
      expect((refused as CheckpointMismatchError).changes).toEqual([{ setting, saved, now }]);
      expect(refused.message).toContain(`${path}: was saved with another configuration (saved → now: ${setting} `);
      expect(refused.message).toContain('--force');
      expect(target.model.layers[0]!.weights).toEqual(before);

      const forced = loadCheckpoint(path, target, run, { force: true });
      expect(forced.changes).toEqual([{ setting, saved, now }]);
      expect(forced.state.epochsDone).toBe(1);
      expect(target.model.layers[0]!.weights).toEqual(source.model.layers[0]!.weights);
    }
  });

  it('runTraining refuses to resume with another batch size, and continues with force, reporting the change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfa-nn-'));
    const checkpoint = join(dir, 'c.ckpt');
    await runTraining(trainer(), { train, test, epochs: 1, batchSize: 50, checkpoint });
    const options = { train, test, epochs: 2, batchSize: 60, checkpoint, resume: true };
    await expect(runTraining(trainer(), options)).rejects.toBeInstanceOf(CheckpointMismatchError);
    const resumed: unknown[] = [];
    const state = await runTraining(trainer(), { ...options, force: true, onResume: (r) => resumed.push(r) });
    expect(resumed).toEqual([{ epochsDone: 1, changes: [{ setting: 'batchSize', saved: 50, now: 60 }] }]);
    expect(state.epochsDone).toBe(2);
  });

  it('loads a format-2 checkpoint, which lacks most of the configuration, only with force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfa-nn-'));
    const path = join(dir, 'v3.ckpt');
    const source = trainer();
    await saveCheckpoint(path, source, { epochsDone: 2, history: [] }, RUN);
    // rewritten as the previous SDK wrote it: magic 2, the network, algorithm, seed and optimizer's name only
    const bytes = readFileSync(path);
    const end = bytes.indexOf(10, bytes.indexOf(10) + 1);
    const { configuration: c, ...rest } = JSON.parse(bytes.subarray(bytes.indexOf(10) + 1, end).toString());
    const legacy = { ...rest, sizes: c.sizes, activation: c.activation, algorithm: c.algorithm, seed: c.seed };
    const format2 = join(dir, 'v2.ckpt');
    writeFileSync(
      format2,
      Buffer.concat([
        Buffer.from(`DFANN-CHECKPOINT-2\n${JSON.stringify({ ...legacy, optimizer: c.optimizer.name })}\n`),
        bytes.subarray(end + 1),
      ]),
    );
    const refused = thrown(() => loadCheckpoint(format2, trainer(), RUN));
    expect(refused).toBeInstanceOf(CheckpointMismatchError);
    expect(refused.message).toMatch(/format 2, which does not record the learning rate/);
    const target = trainer();
    expect(loadCheckpoint(format2, target, RUN, { force: true })).toEqual({
      state: { epochsDone: 2, history: [] },
      changes: [],
    });
    expect(target.model.layers[1]!.weights).toEqual(source.model.layers[1]!.weights);
    expect(() => loadCheckpoint(format2, trainer({ algorithm: 'bp' }), RUN)).toThrow(/algorithm "dfa" → "bp"/);
  });

  it('on a full disk, fails with a typed error naming the path and the free space, and keeps the previous checkpoint', async () => {
    // defect 4: the short write was renamed over the good checkpoint and the run ended as if all was well
    const disk = await mountSmallDisk(2 * MiB);
    try {
      const path = join(disk.dir, 'checkpoint.bin');
      const first = await runTraining(trainer(), { train, test, epochs: 1, batchSize: 50, checkpoint: path });
      const before = readFileSync(path);
      expect(before.length).toBeGreaterThan(600 * KiB);
      await disk.leaveFree(300 * KiB);
      const options = { train, test, epochs: 2, batchSize: 50, checkpoint: path, resume: true };
      const failure = await runTraining(trainer(), options).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ name: 'StorageError', field: path, code: 'ENOSPC' });
      expect((failure as Error).message).toMatch(/300 KiB free/);
      expect(readFileSync(path)).toEqual(before);
      expect(await temporaryFiles(disk.dir)).toEqual([]);

      await disk.leaveFree(Number.POSITIVE_INFINITY);
      const resumed = await runTraining(trainer(), options);
      expect(resumed.history[0]).toEqual(first.history[0]);
      expect(resumed.epochsDone).toBe(2);
    } finally {
      disk.unmount();
    }
  });
});

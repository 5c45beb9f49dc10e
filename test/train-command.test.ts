import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KiB, mountSmallDisk, temporaryFiles } from '../packages/opu-core/test/helpers/small-disk.js';

/** The README's training run (npm start, npm run train: opu train) as a user runs it: a process, JSON lines, a checkpoint, plots, exit codes. */
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const opuTrain = ['packages/opu-cli/src/main.ts', 'train'];
const small = [
  '--projector',
  'digital',
  '--train',
  '600',
  '--hidden',
  '24,24',
  '--batch',
  '50',
  '--learning-rate',
  '0.5',
  '--json',
];

function train(args: string[]) {
  const out = execFileSync(tsx, [...opuTrain, ...small, ...args], { cwd: root, encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { event: string; [key: string]: unknown });
}

describe('opu train, as npm start runs it', () => {
  it('reports batches and epochs as JSON lines, writes plots, and resumes a run to the same result', () => {
    const whole = mkdtempSync(join(tmpdir(), 'train-whole-'));
    const events = train(['--epochs', '2', '--out', whole]);
    const batches = events.filter((e) => e.event === 'batch');
    expect(batches).toHaveLength(2 * 12);
    expect(batches.at(-1)).toMatchObject({ epoch: 1, done: 600, total: 600 });
    const epochs = events.filter((e) => e.event === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1]);
    const alignment = epochs[1]!.alignment as { meanCosine: number; stdCosine: number; angleDeg: number }[];
    expect(alignment).toHaveLength(2);
    for (const layer of alignment) {
      expect(layer.angleDeg).toBeCloseTo((Math.acos(layer.meanCosine) * 180) / Math.PI, 6);
      expect(layer.stdCosine).toBeGreaterThan(0);
    }
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.testError).toBeLessThan(0.5);
    for (const plot of ['error.svg', 'alignment.svg']) {
      expect(readFileSync(join(whole, plot), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    }

    // One epoch, then --resume to two: the same numbers as the uninterrupted run.
    const split = mkdtempSync(join(tmpdir(), 'train-split-'));
    train(['--epochs', '1', '--out', split]);
    const resumed = train(['--epochs', '2', '--resume', '--out', split]);
    const resumedEpochs = resumed.filter((e) => e.event === 'epoch');
    expect(resumedEpochs.map((e) => e.epoch)).toEqual([1]);
    expect(resumedEpochs[0]).toEqual(epochs[1]);
    expect(existsSync(join(split, 'checkpoint.bin'))).toBe(true);
  });

  it('on a full disk stops before the first epoch or at the checkpoint, keeps the files and exits 4 naming the file; refuses changed options unless --force', async () => {
    const disk = await mountSmallDisk(1024 * KiB);
    const run = (args: string[]) =>
      spawnSync(tsx, [...opuTrain, ...small, '--out', disk.dir, ...args], {
        cwd: root,
        encoding: 'utf8',
      });
    const failure = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
    try {
      expect(run(['--epochs', '1']).status).toBe(0);
      // config.json is the run's own: the second writes its --epochs 2 before it trains.
      const files = ['checkpoint.bin', 'metrics.json', 'error.svg', 'alignment.svg'];
      const before = files.map((name) => readFileSync(join(disk.dir, name)));
      const config = readFileSync(join(disk.dir, 'config.json'), 'utf8');
      // No room at all: config.json, written before any work, cannot be; two blocks: the second epoch's checkpoint.
      for (const [free, file, batches] of [
        [0, 'config.json', 0],
        [8 * KiB, 'checkpoint.bin', 12],
      ] as const) {
        await disk.leaveFree(free);
        const full = run(['--epochs', '2', '--resume']);
        expect(full.status).toBe(4);
        expect(full.stdout.match(/"event":"batch"/g) ?? []).toHaveLength(batches);
        expect(failure(full.stdout)).toMatchObject({
          kind: 'StorageError',
          field: join(disk.dir, file),
          code: 'ENOSPC',
        });
        expect(files.map((name) => readFileSync(join(disk.dir, name)))).toEqual(before);
        if (file === 'config.json') expect(readFileSync(join(disk.dir, file), 'utf8')).toBe(config);
      }
      await disk.leaveFree(Number.POSITIVE_INFINITY);
      const changed = run(['--epochs', '2', '--resume', '--batch', '60']);
      expect(changed.status).toBe(2);
      expect(failure(changed.stdout).error).toMatch(
        /saved with another configuration \(saved → now: batchSize 50 → 60\).*--force/,
      );
      const forced = run(['--epochs', '2', '--resume', '--batch', '60', '--force']);
      expect(forced.status).toBe(0);
      expect(
        forced.stdout
          .split('\n')
          .map((line) => line && JSON.parse(line))
          .find((e) => e.event === 'resume'),
      ).toEqual({
        event: 'resume',
        epochsDone: 1,
        changes: [{ setting: 'batchSize', saved: 50, now: 60 }],
      });
      expect(await temporaryFiles(disk.dir)).toEqual([]);
    } finally {
      disk.unmount();
    }
  });

  it('refuses bad options with exit code 2 and a message naming the option', () => {
    for (const [args, message] of [
      [['--epochs', 'two'], /--epochs two is not a number/],
      [['--hidden', '24,0'], /--hidden \(hidden\.1\): Too small/],
      [['--learning-rate=-1'], /--learning-rate \(optimizer\.learningRate\): Too small/],
      [['--epoch', '3'], /Unknown option '--epoch'/],
      [['--algorithm', 'magic'], /--algorithm \(algorithm\): Invalid option/],
      [['--feedback-scale', 'huge'], /--feedback-scale \(feedbackScale\): Invalid option/],
    ] as const) {
      const run = spawnSync(tsx, [...opuTrain, ...args], { cwd: root, encoding: 'utf8' });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});

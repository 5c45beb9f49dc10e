import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KiB, mountSmallDisk, temporaryFiles } from '../packages/opu-core/test/helpers/small-disk.js';

/** The README's training example as a user runs it: a process, JSON lines, a checkpoint, plots, exit codes. */
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');
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
  const out = execFileSync(tsx, ['examples/train-mnist-dfa.ts', ...small, ...args], { cwd: root, encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { event: string; [key: string]: unknown });
}

describe('examples/train-mnist-dfa', () => {
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

  it('on a full disk keeps the checkpoint and the plots and exits 1 naming the file; refuses changed options unless --force', async () => {
    const disk = await mountSmallDisk(1024 * KiB);
    const run = (args: string[]) =>
      spawnSync(tsx, ['examples/train-mnist-dfa.ts', ...small, '--out', disk.dir, ...args], {
        cwd: root,
        encoding: 'utf8',
      });
    try {
      expect(run(['--epochs', '1']).status).toBe(0);
      const files = ['checkpoint.bin', 'error.svg', 'alignment.svg'];
      const before = files.map((name) => readFileSync(join(disk.dir, name)));
      await disk.leaveFree(0);
      // the second epoch's checkpoint, then (nothing left to train) the plots cannot be written
      for (const [epochs, file] of [
        ['2', 'checkpoint.bin'],
        ['1', 'error.svg'],
      ]) {
        const full = run(['--epochs', epochs!, '--resume']);
        expect(full.status).toBe(1);
        expect(full.stderr).toMatch(new RegExp(`${join(disk.dir, file!)}: cannot be written \\(ENOSPC.*; 0 B free`));
        expect(files.map((name) => readFileSync(join(disk.dir, name)))).toEqual(before);
      }
      await disk.leaveFree(Number.POSITIVE_INFINITY);
      const changed = run(['--epochs', '2', '--resume', '--batch', '60']);
      expect(changed.status).toBe(2);
      expect(changed.stderr).toMatch(/saved with another configuration \(saved → now: batchSize 50 → 60\).*--force/);
      const forced = run(['--epochs', '2', '--resume', '--batch', '60', '--force']);
      expect(forced.status).toBe(0);
      expect(JSON.parse(forced.stdout.split('\n')[0]!)).toEqual({
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
      [['--epochs', 'two'], /--epochs two is not a whole number/],
      [['--hidden', '24,0'], /--hidden 0 is not a whole number ≥ 1/],
      [['--learning-rate=-1'], /--learning-rate -1 is not a positive number/],
      [['--epoch', '3'], /Unknown option '--epoch'/],
      [['--algorithm', 'magic'], /unknown --algorithm magic/],
      [['--feedback-scale', 'huge'], /unknown --feedback-scale huge/],
    ] as const) {
      const run = spawnSync(tsx, ['examples/train-mnist-dfa.ts', ...args], { cwd: root, encoding: 'utf8' });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});

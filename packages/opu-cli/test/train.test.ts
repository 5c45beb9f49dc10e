import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError, seededUniform } from 'opu-core';
import { emulateOnPseudoTerminal } from 'opu-emulator';
import { SimulatedOpuDevice } from 'opu-sim';
import { afterAll, describe, expect, it } from 'vitest';
import { trainingProgress } from '../src/progress.js';
import { resolveTrainConfig, trainConfigFromArgs } from '../src/train-config.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const main = 'packages/opu-cli/src/main.ts';

/** `opu …` as a user runs it, without blocking this process (an emulator in it must keep answering). */
function opu(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // With OPU_NATIVE=0 the kernels' one line on why the TypeScript ones run comes first.
    child.once('close', (code) =>
      resolve({ code, stdout, stderr: stderr.replace(/^opu-native: using the TypeScript.*\n/m, '') }),
    );
  });
}

type Event = { event: string; [key: string]: unknown };
const events = (stdout: string): Event[] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Event);
const temporaries: string[] = [];
const temporary = (name: string) => {
  const directory = mkdtempSync(join(tmpdir(), `opu-train-${name}-`));
  temporaries.push(directory);
  return directory;
};
afterAll(() => {
  for (const directory of temporaries) rmSync(directory, { recursive: true, force: true });
});
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** Runs `fn` and returns the ConfigurationError it throws. */
function configurationError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('no ConfigurationError thrown');
}

describe('opu train: the configuration', () => {
  it('resolves the defaults of the README run, and a resolved configuration round-trips unchanged', () => {
    const defaults = resolveTrainConfig({});
    expect(defaults).toMatchObject({
      dataset: 'mnist',
      algorithm: 'dfa',
      projector: 'opu',
      opu: 'sim://?seed=1',
      ternarize: 0.1,
      hidden: [256, 256],
      hiddenInit: 'zero',
      epochs: 2,
      batch: 128,
      optimizer: { name: 'sgd', learningRate: 0.3, momentum: 0.9, weightDecay: 0 },
      out: 'runs/mnist',
    });
    const file = {
      dataset: { trainImages: 'a', trainLabels: 'b', testImages: 'c', testLabels: 'd', classes: 3 },
      algorithm: 'bp',
      hidden: [64],
      activation: 'relu',
      optimizer: { name: 'adam', beta1: 0.8 },
      schedule: { name: 'step', decay: 0.5, every: 2 },
      seed: 7,
    };
    const resolved = resolveTrainConfig(file);
    expect(resolved.optimizer).toEqual({
      name: 'adam',
      learningRate: 0.001,
      weightDecay: 0,
      beta1: 0.8,
      beta2: 0.999,
      epsilon: 1e-8,
    });
    expect(resolved.hiddenInit).toBe('xavier');
    expect(resolved.opu).toBeUndefined(); // BP projects nothing
    expect(resolveTrainConfig(JSON.parse(JSON.stringify(resolved)))).toEqual(resolved);
  });

  it('names the field at fault, by its path in the file or by its option', () => {
    const source = { file: 'run.json' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ epochs: 0 }, /^epochs in run\.json: Too small/],
      [{ hidden: [32, -1] }, /^hidden\.1 in run\.json: Too small/],
      [
        { optimizer: { name: 'adam', momentum: 0.9 } },
        /^optimizer\.momentum in run\.json: adam has no momentum \(sgd have\)/,
      ],
      [{ schedule: { name: 'step', every: 2 } }, /^schedule\.decay in run\.json: the step schedule needs its factor/],
      [
        { algorithm: 'magic' },
        /^algorithm in run\.json: Invalid option: expected one of "bp"\|"fa"\|"dfa"\|"ifa"\|"shallow"/,
      ],
      [{ epoch: 3 }, /^run\.json: Unrecognized key: "epoch"/],
      [{ algorithm: 'bp', overlap: true }, /^overlap in run\.json: bp has no feedback projection to overlap/],
    ];
    for (const [settings, message] of cases) {
      expect(configurationError(() => resolveTrainConfig(settings, source)).message).toMatch(message);
    }
    const fromCommandLine = { optimizer: { momentum: 1.5 } };
    expect(configurationError(() => resolveTrainConfig(fromCommandLine, { ...source, fromCommandLine })).field).toBe(
      '--momentum (optimizer.momentum)',
    );
  });

  it('takes the file and lets the options override it; another optimizer replaces the file’s section', async () => {
    const dir = temporary('config');
    const file = join(dir, 'run.json');
    writeFileSync(
      file,
      JSON.stringify({ epochs: 5, hidden: [100], optimizer: { name: 'sgd', learningRate: 0.05, momentum: 0.5 } }),
    );
    const kept = await trainConfigFromArgs(['--config', file, '--epochs', '3', '--momentum', '0.7', '--resume']);
    expect(kept.config).toMatchObject({ epochs: 3, hidden: [100] });
    expect(kept.config.optimizer).toEqual({ name: 'sgd', learningRate: 0.05, momentum: 0.7, weightDecay: 0 });
    expect(kept.flags).toEqual({ resume: true, force: false, json: false });
    const switched = await trainConfigFromArgs(['--config', file, '--optimizer', 'rmsprop', '--no-overlap']);
    expect(switched.config.optimizer).toEqual({
      name: 'rmsprop',
      learningRate: 0.001,
      weightDecay: 0,
      beta2: 0.999,
      epsilon: 1e-8,
    });
    await expect(trainConfigFromArgs(['--epochs', 'two'])).rejects.toThrow('--epochs two is not a number');
    await expect(trainConfigFromArgs(['--config', file, '--batch', '0'])).rejects.toThrow(
      /^--batch \(batch\): Too small/,
    );
  });

  it('--help; an invalid file exits 2 with the field path; an absent device 1; an unwritable --out 4 before any work', async () => {
    const help = await opu('train', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: opu train \[--config FILE\] \[options\]\n/);
    for (const option of ['--opu', '--optimizer', '--schedule', '--ternarize', '--train-images', '--resume']) {
      expect(help.stdout).toContain(option);
    }
    const dir = temporary('invalid');
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ optimizer: { name: 'sgd', beta1: 0.9 } }));
    const invalid = await opu('train', '--config', file, '--json');
    expect(invalid.code).toBe(2);
    expect(JSON.parse(invalid.stdout)).toMatchObject({
      kind: 'ConfigurationError',
      field: `optimizer.beta1 in ${file}`,
    });
    const absent = await opu('train', '--opu', 'serial:///dev/no-such-opu', '--out', join(dir, 'absent'), '--json');
    expect(absent.code).toBe(1);
    expect(events(absent.stdout).at(-1)).toMatchObject({ kind: 'DeviceError', field: 'path' });
    writeFileSync(join(dir, 'a-file'), '');
    const unwritable = await opu('train', '--projector', 'digital', '--out', join(dir, 'a-file', 'run'), '--json');
    expect(unwritable.code).toBe(4);
    expect(events(unwritable.stdout)).toEqual([expect.objectContaining({ kind: 'StorageError', code: 'ENOTDIR' })]);
  });
});

describe('opu train: runs', () => {
  it('trains through the device emulator over serial://, the projections served by the device', async () => {
    const emulated = await emulateOnPseudoTerminal(new SimulatedOpuDevice({ options: { seed: 3 } }));
    const out = temporary('serial');
    try {
      const run = await opu(
        'train',
        ...['--opu', `serial://${emulated.path}`, '--train', '300', '--test', '200', '--epochs', '1'],
        ...['--hidden', '32', '--batch', '100', '--out', out, '--json'],
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const lines = events(run.stdout);
      expect(lines[0]).toMatchObject({
        event: 'start',
        device: { model: 'opu-sim', serialNumber: 'SIM-00000003' },
        config: { opu: `serial://${emulated.path}`, trainSamples: 300, testSamples: 200, ternarize: 0.1 },
      });
      expect(lines.filter((e) => e.event === 'batch').map((e) => e.done)).toEqual([100, 200, 300]);
      const epoch = lines.find((e) => e.event === 'epoch')!;
      expect(epoch).toMatchObject({ epoch: 0, alignment: [expect.objectContaining({ angleDeg: expect.any(Number) })] });
      for (const key of ['trainLoss', 'testLoss', 'trainError', 'testError']) {
        expect(Number.isFinite(epoch[key])).toBe(true);
      }
      // Three batches and the epoch's alignment probe, each one projection by the device.
      const done = lines.at(-1)!;
      const projection = done.projection as { calls: number; frames: number; deviceTimeMs: number };
      expect(done.event).toBe('done');
      expect(projection.calls).toBe(4);
      expect(projection.frames).toBeGreaterThan(0);
      expect(projection.deviceTimeMs).toBeGreaterThan(0);
      expect(emulated.emulator.stats.cameraFramesSent).toBeGreaterThanOrEqual(projection.frames);
      expect(emulated.emulator.stats.acquisitions).toBeGreaterThanOrEqual(projection.calls);
      const metrics = readJson(join(out, 'metrics.json'));
      expect(metrics.history).toEqual([epoch].map(({ event: _, ...m }) => m));
      expect(metrics.projection).toEqual(projection);
    } finally {
      await emulated.close();
    }
  });

  it('trains on IDX files (a separable problem) to well below chance, and refuses inconsistent files', async () => {
    const dir = temporary('idx');
    const files = writeSeparableProblem(dir);
    const idx = ['--train-images', files.trainImages, '--train-labels', files.trainLabels];
    const test = ['--test-images', files.testImages, '--test-labels', files.testLabels];
    const run = await opu(
      'train',
      ...[...idx, ...test, '--projector', 'digital', '--hidden', '16', '--epochs', '3', '--batch', '20'],
      ...['--out', join(dir, 'run'), '--json'],
    );
    expect(run.code).toBe(0);
    const history = readJson(join(dir, 'run', 'metrics.json')).history as { testError: number }[];
    expect(history).toHaveLength(3);
    expect(history.at(-1)!.testError).toBeLessThan(0.1); // chance: 2/3
    const { shortLabels, ...paths } = files;
    expect(readJson(join(dir, 'run', 'config.json')).dataset).toEqual(paths);

    const mismatched = await opu('train', ...idx.slice(0, 3), shortLabels, ...test, '--out', join(dir, 'x'));
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toContain(
      `opu train: --train-labels: ${shortLabels} holds 299 labels for the 300 images of ${files.trainImages}`,
    );
    const fewClasses = await opu('train', ...idx, ...test, '--classes', '2', '--out', join(dir, 'x'));
    expect(fewClasses.code).toBe(2);
    expect(fewClasses.stderr).toMatch(
      new RegExp(`--train-labels: ${files.trainLabels}: label 2 \\(sample \\d+\\) is not below 2 classes`),
    );
  });

  it('the same seed with the digital projector gives the same metrics, also from the saved config.json', async () => {
    const small = ['--projector', 'digital', '--train', '400', '--test', '200', '--hidden', '24,24', '--batch', '50'];
    const [first, second] = [temporary('seed-a'), temporary('seed-b')];
    const runs = await Promise.all([first, second].map((out) => opu('train', ...small, '--seed', '5', '--out', out)));
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const metrics = (dir: string) => readJson(join(dir, 'metrics.json')).history;
    expect(metrics(first)).toHaveLength(2);
    expect(metrics(second)).toEqual(metrics(first));
    const again = temporary('seed-c');
    expect((await opu('train', '--config', join(first, 'config.json'), '--out', again)).code).toBe(0);
    expect(metrics(again)).toEqual(metrics(first));
    expect(readJson(join(again, 'config.json'))).toEqual({ ...readJson(join(first, 'config.json')), out: again });
    const other = temporary('seed-d');
    expect((await opu('train', ...small, '--seed', '6', '--epochs', '1', '--out', other)).code).toBe(0);
    expect(metrics(other)[0]).not.toEqual(metrics(first)[0]);
  });
});

describe('opu train: progress', () => {
  it('draws a bar with the time left on a terminal, and one line per epoch', async () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WriteStream;
    const progress = trainingProgress(false, 2, tty);
    progress.onBatch(0, 100, 400);
    await new Promise((resolve) => setTimeout(resolve, 20));
    progress.onBatch(0, 400, 400);
    progress.onEpoch({ epoch: 0, trainLoss: 0.5, trainError: 0.1, testLoss: 0.4, testError: 0.08, alignment: [] });
    const clear = '\r\x1b[2K';
    expect(written.slice(0, 2).map((line) => line.startsWith(clear))).toEqual([true, true]);
    // The first batch sets the clock; the rate from it on gives the time left.
    expect(written[0]!.slice(clear.length)).toBe(`  epoch 1/2 ${'█'.repeat(6)}${'░'.repeat(18)} 100/400`);
    expect(written[1]!.slice(clear.length)).toMatch(/^ {2}epoch 1\/2 █{24} 400\/400 {2}\d+:\d\d left$/);
    expect(written.slice(2)).toEqual(['\r\x1b[2K', '  epoch 1: train error 10.00%, test error 8.00%, loss 0.500\n']);
  });
});

/**
 * Three classes of 6×6 images, each lighting its own third of the rows, under uniform noise; 300 training and 99
 * test samples, and a labels file one short of its images.
 */
function writeSeparableProblem(dir: string) {
  const random = seededUniform(11);
  const make = (count: number) => {
    const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
    const images = new Uint8Array(count * 36);
    for (let i = 0; i < count; i++) {
      for (let p = 0; p < 36; p++) {
        const lit = Math.floor(p / 12) === labels[i];
        images[i * 36 + p] = Math.round(255 * (lit ? 0.5 + 0.5 * random() : 0.6 * random()));
      }
    }
    return { images, labels };
  };
  const idx = (dims: number[], data: Uint8Array) => {
    const header = Buffer.alloc(4 + 4 * dims.length);
    header.writeUInt8(0x08, 2);
    header.writeUInt8(dims.length, 3);
    for (const [i, d] of dims.entries()) header.writeUInt32BE(d, 4 + 4 * i);
    return Buffer.concat([header, data]);
  };
  const train = make(300);
  const test = make(99);
  const files = {
    trainImages: join(dir, 'train-images-idx3-ubyte'),
    trainLabels: join(dir, 'train-labels-idx1-ubyte'),
    testImages: join(dir, 'test-images-idx3-ubyte'),
    testLabels: join(dir, 'test-labels-idx1-ubyte'),
  };
  writeFileSync(files.trainImages, idx([300, 6, 6], train.images));
  writeFileSync(files.trainLabels, idx([300], train.labels));
  writeFileSync(files.testImages, idx([99, 6, 6], test.images));
  writeFileSync(files.testLabels, idx([99], test.labels));
  const shortLabels = join(dir, 'short-labels-idx1-ubyte');
  writeFileSync(shortLabels, idx([299], train.labels.subarray(0, 299)));
  return { ...files, shortLabels };
}

/**
 * Direct feedback alignment on MNIST with the feedback projection computed by the simulated OPU (or digitally, or
 * by backpropagation for comparison). Shows a progress bar (JSON lines with --json), checkpoints every epoch
 * (--resume continues a killed run), and writes SVG plots of the error and of the alignment angle per layer.
 *
 *   npm start  (or npm run train)                   # DFA, simulated OPU, 784-256-256-10 tanh, 2 epochs
 *   npm run train -- --algorithm bp --epochs 5 --hidden 800,800
 *   npm run train -- --projector digital --json --out runs/digital
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type Algorithm,
  CheckpointMismatchError,
  type EpochMetrics,
  type FeedbackScale,
  loadMnist,
  Mlp,
  type ResumedTraining,
  runTraining,
  TernarizedProjection,
  Trainer,
} from 'dfa-nn';
import { OpuError, openOpu, writeFileAtomic } from 'opu-core';
import { plot } from 'opu-report';
import 'opu-sim';

const usageError = (message: string): never => {
  console.error(`${message}; see --help`);
  process.exit(2);
};
const options = {
  algorithm: { type: 'string', default: 'dfa' },
  projector: { type: 'string', default: 'opu' },
  hidden: { type: 'string', default: '256,256' },
  epochs: { type: 'string', default: '2' },
  batch: { type: 'string', default: '128' },
  'learning-rate': { type: 'string' },
  'feedback-scale': { type: 'string', default: 'nokland' },
  'feedback-gain': { type: 'string', default: '1' },
  overlap: { type: 'boolean', default: false },
  train: { type: 'string', default: '60000' },
  seed: { type: 'string', default: '1' },
  out: { type: 'string', default: 'runs/mnist' },
  resume: { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;
const { values } = (() => {
  try {
    return parseArgs({ options });
  } catch (error) {
    // Unknown options, missing values: node's message names the option.
    return usageError((error as Error).message.split('\n')[0]!);
  }
})();

if (values.help) {
  console.log(`usage: npm run train -- [options]
  --algorithm bp|fa|dfa|ifa|shallow   training algorithm (default dfa)
  --projector opu|digital             DFA/IFA feedback: the simulated OPU or a seeded matrix (default opu)
  --hidden 256,256                    hidden layer widths
  --epochs 2  --batch 128  --train 60000  --seed 1
  --learning-rate 0.3                 SGD rate (momentum 0.9); default 0.3 for DFA and IFA, 0.1 otherwise
  --feedback-scale nokland|tinydfa|principled-dfa   how DFA/IFA scale the projection per layer
  --feedback-gain 1                   a factor on DFA/IFA's hidden-layer feedback
  --overlap                           project batch t while batch t+1 runs forward (one-step delay)
  --out runs/mnist                    checkpoint and plots go here
  --resume                            continue from the checkpoint in --out (same options as the run that wrote it)
  --force                             with --resume: accept options that differ from the checkpoint's
  --json                              JSON lines instead of a progress bar
exit codes: 0 done, 1 a file could not be written or the checkpoint is damaged, 2 bad options or options that
differ from the checkpoint's (without --force)`);
  process.exit(0);
}
const algorithms: Algorithm[] = ['bp', 'fa', 'dfa', 'ifa', 'shallow'];
if (!algorithms.includes(values.algorithm as Algorithm) || !['opu', 'digital'].includes(values.projector)) {
  usageError(`unknown --algorithm ${values.algorithm} or --projector ${values.projector}`);
}
const scales: FeedbackScale[] = ['nokland', 'tinydfa', 'principled-dfa'];
if (!scales.includes(values['feedback-scale'] as FeedbackScale)) {
  usageError(`unknown --feedback-scale ${values['feedback-scale']}`);
}
const whole = (name: string, text: string, min: number): number => {
  const value = Number(text);
  return Number.isInteger(value) && value >= min
    ? value
    : usageError(`--${name} ${text} is not a whole number ≥ ${min}`);
};

const algorithm = values.algorithm as Algorithm;
const hidden = values.hidden.split(',').map((width) => whole('hidden', width, 1));
const epochs = whole('epochs', values.epochs, 1);
const batchSize = whole('batch', values.batch, 1);
const trainRows = whole('train', values.train, 1);
const seed = whole('seed', values.seed, 0);
// SGD rates from the sweep in docs/dfa-nn.md: DFA's feedback is weaker than BP's gradient and wants a larger rate.
const learningRate = Number(values['learning-rate'] ?? (algorithm === 'dfa' || algorithm === 'ifa' ? 0.3 : 0.1));
const feedbackGain = Number(values['feedback-gain']);
if (!(feedbackGain > 0 && Number.isFinite(feedbackGain))) {
  usageError(`--feedback-gain ${values['feedback-gain']} is not a positive number`);
}
if (!(learningRate > 0 && Number.isFinite(learningRate))) {
  usageError(`--learning-rate ${values['learning-rate']} is not a positive number`);
}
const optical = values.projector === 'opu' && (algorithm === 'dfa' || algorithm === 'ifa');
const emit = (event: object) => values.json && console.log(JSON.stringify(event));
const say = (line: string) => values.json || console.log(line);
/** A typed error (a full disk, a checkpoint of another configuration) ends the run with its message, not a stack. */
const exitOnTypedError = (error: unknown): never => {
  if (!(error instanceof OpuError)) throw error;
  console.error(error.message);
  process.exit(error instanceof CheckpointMismatchError ? 2 : 1);
};

mkdirSync(values.out, { recursive: true });
const train = loadMnist('train', trainRows);
const test = loadMnist('test');
const feedbackRows = algorithm === 'ifa' ? hidden[0]! : hidden.reduce((a, b) => a + b, 0);
await using opu = optical ? await openOpu(`sim://?inputs=10&outputs=${feedbackRows}&seed=${seed}`) : undefined;
const model = new Mlp({
  sizes: [784, ...hidden, 10],
  activation: 'tanh',
  hiddenInit: algorithm === 'dfa' ? 'zero' : 'xavier',
  seed,
});
const trainer = new Trainer(model, {
  algorithm,
  projector: opu ? new TernarizedProjection(opu, 0.1) : undefined,
  feedbackScale: values['feedback-scale'] as FeedbackScale,
  feedbackGain,
  overlapProjection: values.overlap,
  optimizer: { name: 'sgd', learningRate, momentum: 0.9 },
  seed,
});
say(
  `${algorithm.toUpperCase()} on MNIST (${train.rows} train, ${test.rows} test), ${model.sizes.join('-')} tanh, ` +
    `feedback ${optical ? `by the simulated OPU (${opu!.device.info.serialNumber})` : algorithm === 'bp' ? 'by backpropagation' : 'digital'}`,
);

const started = performance.now();
const bar = (epoch: number, done: number, total: number) => {
  emit({ event: 'batch', epoch, done, total });
  if (values.json || !process.stdout.isTTY) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stdout.write(`\r  epoch ${epoch + 1}/${epochs} [${'#'.repeat(filled).padEnd(width, '.')}] ${done}/${total}`);
};
const report = (m: EpochMetrics) => {
  emit({ event: 'epoch', ...m });
  if (process.stdout.isTTY && !values.json) process.stdout.write('\r\x1b[2K');
  say(
    `  epoch ${m.epoch + 1}: train error ${(100 * m.trainError).toFixed(2)}%, test error ${(100 * m.testError).toFixed(2)}%, ` +
      `loss ${m.trainLoss.toFixed(3)}, alignment ${m.alignment.map((a) => `${a.angleDeg.toFixed(1)}°`).join(' ')}`,
  );
};
const resumed = ({ epochsDone, changes }: ResumedTraining) => {
  emit({ event: 'resume', epochsDone, changes });
  const forced = changes.map((c) => `${c.setting} ${JSON.stringify(c.saved)} → ${JSON.stringify(c.now)}`);
  say(`  resuming after epoch ${epochsDone}${forced.length ? ` (--force: ${forced.join(', ')})` : ''}`);
};
const state = await runTraining(trainer, {
  train,
  test,
  epochs,
  batchSize,
  checkpoint: join(values.out, 'checkpoint.bin'),
  resume: values.resume,
  force: values.force,
  onBatch: bar,
  onEpoch: report,
  onResume: resumed,
}).catch(exitOnTypedError);

const epochAxis = state.history.map((m) => m.epoch + 1);
const write = (name: string, svg: string) => writeFileAtomic(join(values.out, name), svg).catch(exitOnTypedError);
await write(
  'error.svg',
  plot(
    [
      {
        label: 'train error %',
        color: '#1f77b4',
        x: epochAxis,
        y: state.history.map((m) => 100 * m.trainError),
        style: 'line',
      },
      {
        label: 'test error %',
        color: '#d62728',
        x: epochAxis,
        y: state.history.map((m) => 100 * m.testError),
        style: 'line',
      },
    ],
    { title: `${algorithm.toUpperCase()} on MNIST: error per epoch`, xLabel: 'epoch', yLabel: 'error (%)' },
  ),
);
await write(
  'alignment.svg',
  plot(
    hidden.map((_, l) => ({
      label: `hidden layer ${l + 1}`,
      color: ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'][l % 7]!,
      x: epochAxis,
      y: state.history.map((m) => m.alignment[l]!.angleDeg),
      style: 'line' as const,
    })),
    { title: 'Angle between the training signal and the BP gradient', xLabel: 'epoch', yLabel: 'degrees' },
  ),
);
const last = state.history.at(-1);
emit({ event: 'done', seconds: (performance.now() - started) / 1e3, testError: last?.testError, out: values.out });
say(
  `done in ${((performance.now() - started) / 1e3).toFixed(1)} s: test error ${last ? (100 * last.testError).toFixed(2) : '–'}%; ` +
    `plots ${join(values.out, 'error.svg')}, ${join(values.out, 'alignment.svg')}; checkpoint ${join(values.out, 'checkpoint.bin')}`,
);

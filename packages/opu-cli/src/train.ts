import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CheckpointMismatchError,
  cosineSchedule,
  type Dataset,
  Mlp,
  runTraining,
  type Schedule,
  stepSchedule,
  TernarizedProjection,
  Trainer,
  type TrainingState,
} from 'dfa-nn';
import {
  ConfigurationError,
  CostTally,
  deviceFromUrl,
  GaussianOperator,
  type Opu,
  openOpu,
  StorageError,
  writeFileAtomic,
} from 'opu-core';
import { plot } from 'opu-report';
import { EXIT } from './exit.js';
import { trainingProgress } from './progress.js';
import { inSchemaOrder, type TrainConfig, trainConfigFromArgs } from './train-config.js';
import { loadDatasets } from './train-data.js';

export const TRAIN_USAGE = `usage: opu train [--config FILE] [options]
Trains a multilayer perceptron (MNIST by default) by direct feedback alignment, its feedback projected by an OPU,
or by BP, FA, IFA or the output layer alone. Writes config.json (the effective run, reusable with --config),
checkpoint.bin after every epoch, metrics.json, error.svg and alignment.svg into --out.
  --config FILE                     the run as JSON (opu train's config.json); the options below override it
 device and feedback (DFA and IFA)
  --opu URL                         sim://… (default sim://?seed=<seed>), serial://…; inputs/outputs set here
  --calibration FILE                open the OPU with this calibration instead of calibrating it
  --projector opu|digital           the OPU, or a seeded Gaussian matrix (default opu)
  --ternarize 0.1|off               ternarize the errors at this fraction of each row's largest (default 0.1 with
                                    the OPU, off with the digital projector)
  --feedback-scale nokland|tinydfa|principled-dfa   how the projection is scaled per layer (default nokland)
  --feedback-gain 1                 a factor on the hidden layers' feedback
  --overlap                         project batch t while batch t+1 runs forward (one-step delay; --no-overlap)
 network and training
  --algorithm bp|fa|dfa|ifa|shallow (default dfa)
  --hidden 256,256                  hidden layer widths
  --activation tanh|relu|leaky-relu|sigmoid   (default tanh)
  --hidden-init xavier|he|zero      (default zero for DFA, xavier otherwise)   --output-init (default xavier)
  --loss softmax-cross-entropy|sigmoid-cross-entropy|mse   --reduction mean|sum   (defaults first)
  --epochs 2  --batch 128  --seed 1
  --optimizer sgd|adam|rmsprop      (default sgd)
  --learning-rate R                 default 0.3 for SGD under DFA/IFA, 0.1 for SGD otherwise, 0.001 for Adam/RMSprop
  --weight-decay 0                  L2 on the weights (not the biases)
  --momentum 0.9                    SGD          --beta1 0.9  Adam
  --beta2 0.999                     Adam; RMSprop's decay      --epsilon 1e-8  Adam and RMSprop
  --schedule constant|step|cosine   learning rate per epoch (default constant)
  --decay 0.5 --decay-every 2       step: rate × decay^⌊epoch / every⌋
  --final-learning-rate 0           cosine: the rate at the last epoch
 data
  --train N  --test N               at most N samples of each set (default all)
  --train-images F --train-labels F --test-images F --test-labels F   IDX files instead of MNIST (unsigned bytes,
                                    scaled to [0, 1])   --classes N (default the largest training label + 1)
  --alignment-samples 256           test samples on which the alignment with BP is measured each epoch
 output
  --out runs/mnist                  checkpoint, config, metrics and plots go here
  --resume                          continue from the checkpoint in --out (same settings as the run that wrote it)
  --force                           with --resume: accept settings that differ from the checkpoint's
  --json                            JSON lines (batch, epoch, resume, done) instead of a progress bar
exit codes: 0 done, 1 the device failed or the checkpoint is damaged, 2 bad options, configuration or data files,
or settings that differ from the checkpoint's (without --force), 4 a file in --out could not be written`;

/** `opu train`: a whole training run from the command line or a configuration file. */
export async function train(argv: string[]): Promise<number> {
  const { config: given, flags } = await trainConfigFromArgs(argv);
  const progress = trainingProgress(flags.json, given.epochs);
  // Before any work: a wrong URL or a run that cannot write its results should not read the data first.
  if (given.opu) await deviceFromUrl(given.opu).close();
  await createDirectory(given.out);
  const { name, train, test } = loadDatasets(given);
  const config = inSchemaOrder({ ...given, trainSamples: train.rows, testSamples: test.rows });
  await writeFileAtomic(join(config.out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);

  if (config.opu) progress.say(`opening ${config.opu}${config.calibration ? '' : ' and calibrating it'}…`);
  await using opu = config.opu
    ? await openOpu(config.opu, {
        inputs: train.classes,
        outputs: feedbackRows(config),
        ...(config.calibration ? { calibration: config.calibration } : {}),
      })
    : undefined;
  for (const warning of opu?.calibrationWarnings ?? []) process.stderr.write(`opu train: warning: ${warning}\n`);
  const cost = new CostTally();
  const trainer = buildTrainer(config, train, opu, cost);
  const device = opu && { model: opu.device.info.model, serialNumber: opu.device.info.serialNumber };
  progress.emit({ event: 'start', config, device });
  progress.say(
    `${config.algorithm.toUpperCase()} on ${name} (${train.rows} train, ${test.rows} test), ` +
      `${trainer.model.sizes.join('-')} ${config.activation}, feedback ${describeFeedback(config, opu)}`,
  );

  const started = performance.now();
  const state = await runTraining(trainer, {
    train,
    test,
    epochs: config.epochs,
    batchSize: config.batch,
    alignmentSamples: config.alignmentSamples,
    checkpoint: join(config.out, 'checkpoint.bin'),
    resume: flags.resume,
    force: flags.force,
    onBatch: progress.onBatch,
    onEpoch: progress.onEpoch,
    onResume: progress.onResume,
  })
    .catch((error: unknown) => {
      // Settings that differ from the checkpoint's are a configuration matter (exit 2), not a device failure.
      throw error instanceof CheckpointMismatchError ? new ConfigurationError(error.message, { cause: error }) : error;
    })
    .finally(progress.finish);
  const seconds = (performance.now() - started) / 1e3;

  const projection = {
    calls: cost.calls,
    frames: cost.frames,
    deviceTimeMs: cost.deviceTimeUs / 1e3,
    wallTimeMs: cost.wallTimeMs,
    saturationRetries: cost.saturationRetries,
    recalibrations: cost.recalibrations,
  };
  await writeFileAtomic(
    join(config.out, 'metrics.json'),
    `${JSON.stringify({ history: state.history, projection, seconds }, null, 2)}\n`,
  );
  await writePlots(config, state, name);
  const last = state.history.at(-1);
  progress.emit({ event: 'done', seconds, testError: last?.testError, projection, out: config.out });
  progress.say(
    `done in ${seconds.toFixed(1)} s: test error ${last ? (100 * last.testError).toFixed(2) : '–'}%` +
      (projection.frames ? `; ${projection.calls} projections on the OPU, ${projection.frames} frames` : '') +
      (projection.recalibrations ? `, ${projection.recalibrations} re-measurements of its drifting references` : '') +
      `; ${['config.json', 'checkpoint.bin', 'metrics.json', 'error.svg', 'alignment.svg'].join(', ')} in ${config.out}`,
  );
  return EXIT.ok;
}

async function createDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true }).catch((cause: NodeJS.ErrnoException) => {
    throw new StorageError(`cannot be created (${cause.code})`, {
      field: path,
      code: cause.code,
      fix: 'choose a writable --out directory',
      cause,
    });
  });
}

/** Rows of the feedback projection: the first hidden layer's for IFA; every layer's, or the widest one's shared. */
function feedbackRows(config: TrainConfig): number {
  const { hidden } = config;
  if (config.algorithm === 'ifa') return hidden[0]!;
  return config.feedbackScale === 'nokland' ? hidden.reduce((a, b) => a + b, 0) : Math.max(...hidden);
}

/** The network and its trainer as the configuration describes them, the feedback through `opu` when given. */
function buildTrainer(config: TrainConfig, train: Dataset, opu: Opu | undefined, cost: CostTally): Trainer {
  const model = new Mlp({
    sizes: [train.features, ...config.hidden, train.classes],
    activation: config.activation,
    hiddenInit: config.hiddenInit,
    outputInit: config.outputInit,
    seed: config.seed,
  });
  const direct = config.algorithm === 'dfa' || config.algorithm === 'ifa';
  // The digital projector is the trainer's own default, made here so that it can be ternarized like the OPU.
  const projection = direct
    ? (opu ?? new GaussianOperator(train.classes, feedbackRows(config), config.seed + 1))
    : undefined;
  const ternarize = config.ternarize;
  return new Trainer(model, {
    algorithm: config.algorithm,
    loss: config.loss,
    reduction: config.reduction,
    optimizer: config.optimizer,
    schedule: learningRateSchedule(config),
    projector: projection && ternarize !== false ? new TernarizedProjection(projection, ternarize) : projection,
    cost,
    feedbackScale: config.feedbackScale,
    feedbackGain: config.feedbackGain,
    overlapProjection: config.overlap,
    seed: config.seed,
  });
}

function learningRateSchedule(config: TrainConfig): Schedule | undefined {
  const { schedule, optimizer, epochs } = config;
  if (schedule.name === 'step') return stepSchedule(optimizer.learningRate, schedule.decay, schedule.every);
  if (schedule.name === 'cosine') return cosineSchedule(optimizer.learningRate, epochs, schedule.finalLearningRate);
  return undefined;
}

function describeFeedback(config: TrainConfig, opu: Opu | undefined): string {
  const ternarized = config.ternarize === false ? '' : `, errors ternarized at ${config.ternarize}`;
  if (opu) return `projected by ${opu.device.info.model} ${opu.device.info.serialNumber} (${config.opu})${ternarized}`;
  if (config.algorithm === 'dfa' || config.algorithm === 'ifa') return `projected digitally${ternarized}`;
  return { bp: 'by backpropagation', fa: 'through fixed random matrices', shallow: 'none (output layer only)' }[
    config.algorithm
  ];
}

const LAYER_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** error.svg (train and test error per epoch) and alignment.svg (angle to BP's δ per hidden layer). */
async function writePlots(config: TrainConfig, state: TrainingState, dataset: string): Promise<void> {
  const epochs = state.history.map((m) => m.epoch + 1);
  const percent = (key: 'trainError' | 'testError') => state.history.map((m) => 100 * m[key]);
  await writeFileAtomic(
    join(config.out, 'error.svg'),
    plot(
      [
        { label: 'train error %', color: '#1f77b4', x: epochs, y: percent('trainError'), style: 'line' },
        { label: 'test error %', color: '#d62728', x: epochs, y: percent('testError'), style: 'line' },
      ],
      {
        title: `${config.algorithm.toUpperCase()} on ${dataset}: error per epoch`,
        xLabel: 'epoch',
        yLabel: 'error (%)',
      },
    ),
  );
  await writeFileAtomic(
    join(config.out, 'alignment.svg'),
    plot(
      config.hidden.map((_, l) => ({
        label: `hidden layer ${l + 1}`,
        color: LAYER_COLORS[l % LAYER_COLORS.length]!,
        x: epochs,
        y: state.history.map((m) => m.alignment[l]!.angleDeg),
        style: 'line' as const,
      })),
      { title: 'Angle between the training signal and the BP gradient', xLabel: 'epoch', yLabel: 'degrees' },
    ),
  );
}

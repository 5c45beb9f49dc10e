import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  ACTIVATIONS,
  ALGORITHMS,
  FEEDBACK_SCALES,
  INITIALIZERS,
  type Initializer,
  LOSSES,
  OPTIMIZERS,
  type OptimizerName,
} from 'dfa-nn';
import { ConfigurationError } from 'opu-core';
import { z } from 'zod';
import { UsageError } from './exit.js';

/** The parameters each optimizer reads besides the learning rate and weight decay, with the library's defaults. */
const OPTIMIZER_PARAMETERS: Record<
  OptimizerName,
  Partial<Record<'momentum' | 'beta1' | 'beta2' | 'epsilon', number>>
> = {
  sgd: { momentum: 0.9 },
  adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  rmsprop: { beta2: 0.999, epsilon: 1e-8 },
};

const rate = z.number().positive();
const decayRate = z.number().min(0).lt(1);

const optimizerSchema = z
  .strictObject({
    name: z.enum(OPTIMIZERS).default('sgd'),
    /** Default: 0.3 for SGD under DFA and IFA (their feedback is weaker than BP's gradient), 0.1 for SGD otherwise, 0.001 for Adam and RMSprop. */
    learningRate: rate.optional(),
    weightDecay: z.number().min(0).default(0),
    momentum: decayRate.optional(),
    beta1: decayRate.optional(),
    beta2: decayRate.optional(),
    epsilon: rate.optional(),
  })
  .superRefine((optimizer, context) => {
    const known = OPTIMIZER_PARAMETERS[optimizer.name];
    for (const key of ['momentum', 'beta1', 'beta2', 'epsilon'] as const) {
      if (optimizer[key] === undefined || key in known) continue;
      const users = OPTIMIZERS.filter((name) => key in OPTIMIZER_PARAMETERS[name]).join(' and ');
      context.addIssue({
        code: 'custom',
        path: [key],
        message: `${optimizer.name} has no ${key} (${users} have): drop it or choose another optimizer`,
      });
    }
  });

const scheduleSchema = z.discriminatedUnion(
  'name',
  [
    z.strictObject({ name: z.literal('constant') }),
    /** learning rate × decay^⌊epoch / every⌋ */
    z.strictObject({
      name: z.literal('step'),
      decay: z
        .number({ error: 'the step schedule needs its factor per step in (0, 1], e.g. --decay 0.5' })
        .positive()
        .max(1),
      every: z.int({ error: 'the step schedule needs its period in whole epochs, e.g. --decay-every 2' }).positive(),
    }),
    /** from the learning rate down to finalLearningRate at the last epoch, along half a cosine */
    z.strictObject({ name: z.literal('cosine'), finalLearningRate: z.number().min(0).default(0) }),
  ],
  { error: 'choose the schedule: constant, step (with --decay and --decay-every) or cosine (--final-learning-rate)' },
);

/** Four IDX files of unsigned bytes (LeCun's MNIST format): images count × any shape, labels count. */
const idxDatasetSchema = z.strictObject({
  trainImages: z.string().min(1),
  trainLabels: z.string().min(1),
  testImages: z.string().min(1),
  testLabels: z.string().min(1),
  /** Default: the largest training label + 1. */
  classes: z.int().min(2).max(256).optional(),
});

/** A whole training run, as `--config FILE` holds it and `--out DIR/config.json` records it. */
export const trainConfigSchema = z
  .strictObject({
    dataset: z
      .union([z.literal('mnist'), idxDatasetSchema], {
        error: "'mnist', or all four IDX files (--train-images, --train-labels, --test-images, --test-labels)",
      })
      .default('mnist'),
    /** At most this many samples of each set (default all). */
    trainSamples: z.int().positive().optional(),
    testSamples: z.int().positive().optional(),
    algorithm: z.enum(ALGORITHMS).default('dfa'),
    /** DFA and IFA: the feedback projection by the OPU at `opu`, or by a seeded Gaussian matrix. */
    projector: z.enum(['opu', 'digital']).default('opu'),
    /** Default `sim://?seed=<seed>`: the simulated OPU. Its inputs and outputs are set from the network. */
    opu: z.string().min(1).optional(),
    /** A calibration file for the OPU, instead of calibrating while opening it. */
    calibration: z.string().min(1).optional(),
    /** DFA and IFA: the output errors ternarized at this fraction of each row's largest |e|, or `false`. Default 0.1 with the OPU, false with the digital projector. */
    ternarize: z.union([z.number().min(0).lt(1), z.literal(false)]).optional(),
    hidden: z.array(z.int().positive()).min(1).default([256, 256]),
    activation: z.enum(ACTIVATIONS).default('tanh'),
    /** Default 'zero' for DFA (Nøkland), 'xavier' otherwise. */
    hiddenInit: z.enum(INITIALIZERS).optional(),
    outputInit: z.enum(INITIALIZERS).default('xavier'),
    loss: z.enum(LOSSES).default('softmax-cross-entropy'),
    reduction: z.enum(['mean', 'sum']).default('mean'),
    optimizer: optimizerSchema.default({ name: 'sgd', weightDecay: 0 }),
    schedule: scheduleSchema.default({ name: 'constant' }),
    feedbackScale: z.enum(FEEDBACK_SCALES).default('nokland'),
    feedbackGain: rate.default(1),
    overlap: z.boolean().default(false),
    epochs: z.int().positive().default(2),
    batch: z.int().positive().default(128),
    alignmentSamples: z.int().positive().default(256),
    seed: z.int().nonnegative().default(1),
    out: z.string().min(1).default('runs/mnist'),
  })
  .superRefine((config, context) => {
    if (config.overlap && config.algorithm !== 'dfa' && config.algorithm !== 'ifa') {
      context.addIssue({
        code: 'custom',
        path: ['overlap'],
        message: `${config.algorithm} has no feedback projection to overlap: use it with dfa or ifa`,
      });
    }
  });

type ParsedConfig = z.output<typeof trainConfigSchema>;

/** A run with every default resolved: what `config.json` records and what the trainer gets. */
export interface TrainConfig extends Omit<ParsedConfig, 'opu' | 'ternarize' | 'hiddenInit' | 'optimizer'> {
  /** Present when the feedback is projected optically (projector 'opu', algorithm dfa or ifa). */
  opu?: string;
  ternarize: number | false;
  hiddenInit: Initializer;
  optimizer: {
    name: OptimizerName;
    learningRate: number;
    weightDecay: number;
    momentum?: number;
    beta1?: number;
    beta2?: number;
    epsilon?: number;
  };
}

/** Whether the feedback goes through the OPU. */
function isOptical(config: Pick<TrainConfig, 'projector' | 'algorithm'>): boolean {
  return config.projector === 'opu' && (config.algorithm === 'dfa' || config.algorithm === 'ifa');
}

type Kind = 'text' | 'number' | 'list' | 'threshold' | 'flag';

/** Every setting's command-line option, its place in the configuration and how its text is read. */
const SETTINGS: Record<string, { path: string[]; kind: Kind }> = {
  opu: { path: ['opu'], kind: 'text' },
  projector: { path: ['projector'], kind: 'text' },
  calibration: { path: ['calibration'], kind: 'text' },
  ternarize: { path: ['ternarize'], kind: 'threshold' },
  algorithm: { path: ['algorithm'], kind: 'text' },
  hidden: { path: ['hidden'], kind: 'list' },
  activation: { path: ['activation'], kind: 'text' },
  'hidden-init': { path: ['hiddenInit'], kind: 'text' },
  'output-init': { path: ['outputInit'], kind: 'text' },
  loss: { path: ['loss'], kind: 'text' },
  reduction: { path: ['reduction'], kind: 'text' },
  optimizer: { path: ['optimizer', 'name'], kind: 'text' },
  'learning-rate': { path: ['optimizer', 'learningRate'], kind: 'number' },
  'weight-decay': { path: ['optimizer', 'weightDecay'], kind: 'number' },
  momentum: { path: ['optimizer', 'momentum'], kind: 'number' },
  beta1: { path: ['optimizer', 'beta1'], kind: 'number' },
  beta2: { path: ['optimizer', 'beta2'], kind: 'number' },
  epsilon: { path: ['optimizer', 'epsilon'], kind: 'number' },
  schedule: { path: ['schedule', 'name'], kind: 'text' },
  decay: { path: ['schedule', 'decay'], kind: 'number' },
  'decay-every': { path: ['schedule', 'every'], kind: 'number' },
  'final-learning-rate': { path: ['schedule', 'finalLearningRate'], kind: 'number' },
  'feedback-scale': { path: ['feedbackScale'], kind: 'text' },
  'feedback-gain': { path: ['feedbackGain'], kind: 'number' },
  overlap: { path: ['overlap'], kind: 'flag' },
  epochs: { path: ['epochs'], kind: 'number' },
  batch: { path: ['batch'], kind: 'number' },
  'alignment-samples': { path: ['alignmentSamples'], kind: 'number' },
  seed: { path: ['seed'], kind: 'number' },
  train: { path: ['trainSamples'], kind: 'number' },
  test: { path: ['testSamples'], kind: 'number' },
  'train-images': { path: ['dataset', 'trainImages'], kind: 'text' },
  'train-labels': { path: ['dataset', 'trainLabels'], kind: 'text' },
  'test-images': { path: ['dataset', 'testImages'], kind: 'text' },
  'test-labels': { path: ['dataset', 'testLabels'], kind: 'text' },
  classes: { path: ['dataset', 'classes'], kind: 'number' },
  out: { path: ['out'], kind: 'text' },
};

/** The command-line option of a configuration path, e.g. `optimizer.momentum` → `momentum`. */
function optionOf(path: readonly PropertyKey[]): string | undefined {
  // A section (optimizer, schedule) is named by the option that chooses it.
  const keys = [path.join('.'), [...path, 'name'].join('.')];
  return Object.entries(SETTINGS).find(([, setting]) => keys.includes(setting.path.join('.')))?.[0];
}

/** What this invocation does with the run besides its settings. */
export interface RunFlags {
  resume: boolean;
  force: boolean;
  json: boolean;
}

type Settings = Record<string, unknown>;

/** `opu train`'s command line: the run's configuration (a --config file overridden by the options) and the flags. */
export async function trainConfigFromArgs(argv: string[]): Promise<{ config: TrainConfig; flags: RunFlags }> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    allowNegative: true,
    options: {
      ...Object.fromEntries(
        Object.entries(SETTINGS).map(([option, { kind }]) => [
          option,
          { type: kind === 'flag' ? 'boolean' : 'string' },
        ]),
      ),
      config: { type: 'string' },
      resume: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    } as const,
  });
  if (positionals.length > 0) {
    throw new UsageError(`opu train takes no device argument ('${positionals[0]}'): give it with --opu URL`);
  }
  const options = values as Record<string, string | boolean | undefined>;
  const fromCommandLine = settingsFromOptions(options);
  const file = typeof options.config === 'string' ? options.config : undefined;
  const fromFile = file === undefined ? {} : await readConfigFile(file);
  const config = resolveTrainConfig(mergeSettings(fromFile, fromCommandLine), { file, fromCommandLine });
  return {
    config,
    flags: { resume: options.resume === true, force: options.force === true, json: options.json === true },
  };
}

/** The settings the options give, nested as in the configuration; numbers read, their ranges left to the schema. */
function settingsFromOptions(values: Record<string, string | boolean | undefined>): Settings {
  const settings: Settings = {};
  for (const [option, { path, kind }] of Object.entries(SETTINGS)) {
    const text = values[option];
    if (text === undefined) continue;
    let target = settings;
    for (const key of path.slice(0, -1)) {
      target[key] ??= {};
      target = target[key] as Settings;
    }
    target[path.at(-1)!] = readOption(option, kind, text);
  }
  return settings;
}

function readOption(option: string, kind: Kind, text: string | boolean): unknown {
  if (typeof text === 'boolean' || kind === 'text') return text;
  const number = (part: string) => {
    const value = part.trim() === '' ? Number.NaN : Number(part);
    if (!Number.isFinite(value)) throw new UsageError(`--${option} ${text} is not a number`);
    return value;
  };
  if (kind === 'list') return text.split(',').map(number);
  if (kind === 'threshold') return text === 'off' ? false : number(text);
  return number(text);
}

/**
 * The file's settings overridden by the command line's; nested sections merge key by key, except that another
 * optimizer or schedule name replaces the file's section (its parameters belong to the other one).
 */
function mergeSettings(file: Settings, commandLine: Settings): Settings {
  const merged: Settings = { ...file };
  for (const [key, value] of Object.entries(commandLine)) {
    const saved = file[key];
    const section = (v: unknown): v is Settings => typeof v === 'object' && v !== null && !Array.isArray(v);
    const renamed = section(value) && section(saved) && value.name !== undefined && value.name !== saved.name;
    merged[key] = section(value) && section(saved) && !renamed ? { ...saved, ...value } : value;
  }
  return merged;
}

/**
 * Validates the settings and fills in the defaults that depend on other settings. A setting at fault is named by its
 * option when the command line gave it, else by its path in the file.
 */
export function resolveTrainConfig(
  settings: Settings,
  source: { file?: string; fromCommandLine?: Settings } = {},
): TrainConfig {
  const parsed = trainConfigSchema.safeParse(settings);
  if (!parsed.success) throw configurationError(parsed.error, source);
  const { opu, ternarize, hiddenInit, optimizer, ...rest } = parsed.data;
  const optical = isOptical(rest);
  const defaultRate =
    optimizer.name !== 'sgd' ? 0.001 : rest.algorithm === 'dfa' || rest.algorithm === 'ifa' ? 0.3 : 0.1;
  const parameters = Object.fromEntries(
    Object.entries(OPTIMIZER_PARAMETERS[optimizer.name]).map(([key, value]) => [
      key,
      optimizer[key as keyof typeof optimizer] ?? value,
    ]),
  );
  const resolved: TrainConfig = {
    ...rest,
    ...(optical ? { opu: opu ?? `sim://?seed=${rest.seed}` } : {}),
    ternarize: ternarize ?? (optical ? 0.1 : false),
    hiddenInit: hiddenInit ?? (rest.algorithm === 'dfa' ? 'zero' : 'xavier'),
    optimizer: {
      name: optimizer.name,
      learningRate: optimizer.learningRate ?? defaultRate,
      weightDecay: optimizer.weightDecay,
      ...parameters,
    },
  };
  return inSchemaOrder(resolved);
}

/** The settings in the schema's order, so that a saved config.json reads like the usage. */
export function inSchemaOrder(config: TrainConfig): TrainConfig {
  const keys = Object.keys(trainConfigSchema.shape).filter((key) => key in config);
  return Object.fromEntries(keys.map((key) => [key, config[key as keyof TrainConfig]])) as unknown as TrainConfig;
}

function configurationError(
  error: z.ZodError,
  source: { file?: string; fromCommandLine?: Settings },
): ConfigurationError {
  const label = (path: readonly PropertyKey[]) => {
    const key = path.join('.');
    // The option that gave the value or its list (hidden.1 → --hidden), if the command line gave it.
    for (let length = path.length; length > 0; length--) {
      const option = optionOf(path.slice(0, length));
      if (option && valueAt(source.fromCommandLine, path.slice(0, length)) !== undefined) return `--${option} (${key})`;
    }
    if (source.file) return key ? `${key} in ${source.file}` : source.file;
    return key || 'the configuration';
  };
  const [first, ...others] = error.issues;
  const more = others.map((issue) => `; ${label(issue.path)}: ${issue.message}`).join('');
  return new ConfigurationError(`${first!.message}${more}`, {
    field: label(first!.path),
    fix: 'correct it (opu train --help lists the settings and their ranges)',
  });
}

function valueAt(settings: Settings | undefined, path: readonly PropertyKey[]): unknown {
  let value: unknown = settings;
  for (const key of path) value = (value as Settings | undefined)?.[key as string];
  return value;
}

/** A `--config` file: JSON, one object; its settings are checked with the command line's. */
async function readConfigFile(path: string): Promise<Settings> {
  const text = await readFile(path, 'utf8').catch((cause: NodeJS.ErrnoException) => {
    throw new ConfigurationError(`cannot read ${path} (${cause.code ?? cause.message})`, {
      field: '--config',
      fix: 'give the path of a JSON file, e.g. the config.json of an earlier run',
      cause,
    });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ConfigurationError(`${path} is not JSON: ${(cause as Error).message}`, {
      field: '--config',
      fix: 'write the run as one JSON object, e.g. { "algorithm": "dfa", "epochs": 2 }',
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigurationError(`${path} does not hold one JSON object`, {
      field: '--config',
      fix: 'write the run as one JSON object, e.g. { "algorithm": "dfa", "epochs": 2 }',
    });
  }
  return parsed as Settings;
}

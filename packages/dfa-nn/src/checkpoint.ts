import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { ArgumentError, GaussianOperator, type LinearProjection, Opu, writeFileAtomic } from 'opu-core';
import { z } from 'zod';
import { TernarizedProjection } from './ternarized-projection.js';
import type { LayerAlignment, Trainer } from './trainer.js';

/** What one epoch measured. */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainError: number;
  testLoss: number;
  testError: number;
  /** Per hidden layer: the algorithm's δ against backpropagation's (mean and spread of the cosine, the angle). */
  alignment: LayerAlignment[];
  /**
   * Times the feedback projector re-measured itself during the epoch (an OPU tracking a drifting medium): each
   * changed B. 0 for digital feedback; absent in checkpoints written before it was counted.
   */
  recalibrations?: number;
}

export interface TrainingState {
  /** Epochs finished; training resumes at this epoch. */
  epochsDone: number;
  history: EpochMetrics[];
}

/** What a run decides besides the trainer: resuming with other values would train, or measure, another model. */
export interface RunSettings {
  batchSize: number;
  /** Rows of the training set. */
  trainSamples: number;
  /** Rows of the test set and of the alignment probe: the history compares epochs only if they stay the same. */
  testSamples: number;
  alignmentSamples: number;
}

const configurationSchema = z.object({
  sizes: z.array(z.number().int().positive()),
  activation: z.string(),
  algorithm: z.string(),
  seed: z.number(),
  loss: z.string(),
  reduction: z.string(),
  optimizer: z.object({
    name: z.string(),
    learningRate: z.number(),
    momentum: z.number(),
    weightDecay: z.number(),
    beta1: z.number(),
    beta2: z.number(),
    epsilon: z.number(),
  }),
  feedbackScale: z.string(),
  feedbackGain: z.number(),
  overlapProjection: z.boolean(),
  /**
   * The feedback projection: 'none'; `digital, seed 3` (a GaussianOperator); `opu <model> <serial>, real values`
   * (an Opu); `…, ternarized at 0.1` when a TernarizedProjection wraps either; another operator's class name.
   */
  projector: z.string(),
  batchSize: z.number().int().positive(),
  trainSamples: z.number().int().nonnegative(),
  testSamples: z.number().int().nonnegative(),
  alignmentSamples: z.number().int().nonnegative(),
});

/**
 * Everything that decides what a run computes, recorded in its checkpoints so that a resumed run can be checked
 * against it. A learning-rate schedule is a function and is not recorded.
 */
export type TrainingConfiguration = z.infer<typeof configurationSchema>;

/** One setting that differs between a checkpoint and the run resuming from it. */
export interface ConfigurationChange {
  /** Its path in `TrainingConfiguration`, e.g. `optimizer.learningRate`. */
  setting: string;
  saved: unknown;
  now: unknown;
}

/** A checkpoint's configuration differs from the resuming run's (`changes`); see `loadCheckpoint`'s `force`. */
export class CheckpointMismatchError extends ArgumentError {
  readonly changes: ConfigurationChange[];

  constructor(message: string, changes: ConfigurationChange[], details: { field: string; fix: string }) {
    super(message, details);
    this.changes = changes;
  }
}

/** Format 3 records the whole training configuration. */
const MAGIC = 'DFANN-CHECKPOINT-3\n';
/** Format 2 recorded only the network, algorithm, seed and optimizer's name: it loads only with `force`. */
const MAGIC_FORMAT_2 = 'DFANN-CHECKPOINT-2\n';

const stateSchema = z.object({
  epochsDone: z.number().int().nonnegative(),
  history: z.array(
    z.object({
      epoch: z.number(),
      trainLoss: z.number(),
      trainError: z.number(),
      testLoss: z.number(),
      testError: z.number(),
      alignment: z.array(z.object({ meanCosine: z.number(), stdCosine: z.number(), angleDeg: z.number() })),
      recalibrations: z.number().int().nonnegative().optional(),
    }),
  ),
  /** Float32 arrays stored after the header, in this order, with their lengths. */
  arrays: z.array(z.number().int().nonnegative()),
  steps: z.array(z.number().int().nonnegative()),
  payloadCrc32: z.number().int(),
});
const headerSchema = stateSchema.extend({ configuration: configurationSchema });
const format2HeaderSchema = stateSchema.extend({
  sizes: z.array(z.number().int().positive()),
  activation: z.string(),
  algorithm: z.string(),
  seed: z.number(),
  optimizer: z.string(),
});

/** The configuration of `trainer` running with `run`, as a checkpoint records it. */
export function trainingConfiguration(trainer: Trainer, run: RunSettings): TrainingConfiguration {
  return {
    sizes: trainer.model.sizes,
    activation: trainer.model.activation,
    algorithm: trainer.algorithm,
    seed: trainer.seed,
    loss: trainer.loss,
    reduction: trainer.reduction,
    optimizer: { ...trainer.optimizer.options },
    feedbackScale: trainer.feedbackScale,
    feedbackGain: trainer.feedbackGain,
    overlapProjection: trainer.overlapProjection,
    projector: describeProjector(trainer.projector),
    batchSize: run.batchSize,
    trainSamples: run.trainSamples,
    testSamples: run.testSamples,
    alignmentSamples: run.alignmentSamples,
  };
}

/**
 * What trained the model, as format 3 has always recorded it: a resume with another matrix (seed, device) or another
 * encoding of the errors is refused.
 */
function describeProjector(projector: LinearProjection | undefined): string {
  if (!projector) return 'none';
  const ternarized = projector instanceof TernarizedProjection;
  const operator = ternarized ? projector.inner : projector;
  const encoding = ternarized ? `ternarized at ${projector.threshold}` : undefined;
  if (operator instanceof GaussianOperator) {
    return `digital, seed ${operator.seed}${encoding ? `, ${encoding}` : ''}`;
  }
  if (operator instanceof Opu) {
    const { model, serialNumber } = operator.device.info;
    return `opu ${model} ${serialNumber}, ${encoding ?? 'real values'}`;
  }
  return `${operator.constructor.name}${encoding ? `, ${encoding}` : ''}`;
}

function parameters(trainer: Trainer): Float32Array[] {
  return trainer.model.layers.flatMap((l) => [l.weights, l.bias]);
}

/**
 * Writes the model, the optimizer's state, the training history and the whole training configuration with the one
 * atomic writer of the SDK: a crash or a full disk leaves the previous checkpoint as it was, and a failed write
 * rejects with a `StorageError` naming the path and the free space.
 */
export async function saveCheckpoint(
  path: string,
  trainer: Trainer,
  state: TrainingState,
  run: RunSettings,
): Promise<void> {
  const params = parameters(trainer);
  const optimizer = trainer.optimizer.exportState(params);
  const arrays = [...params, ...optimizer.flatMap((s) => [s.m, s.v])];
  const payload = Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  const header: z.infer<typeof headerSchema> = {
    configuration: trainingConfiguration(trainer, run),
    epochsDone: state.epochsDone,
    history: state.history,
    arrays: arrays.map((a) => a.length),
    steps: optimizer.map((s) => s.t),
    payloadCrc32: crc32(payload),
  };
  await writeFileAtomic(path, [Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`), payload]);
}

export interface LoadOptions {
  /**
   * Resume even though the configuration changed (or a format-2 checkpoint did not record it); the changes are
   * returned. A checkpoint of other layer sizes is refused all the same: its arrays cannot fit.
   */
  force?: boolean;
}

/** A restored checkpoint, and the configuration changes that `force` accepted. */
export interface LoadedCheckpoint {
  state: TrainingState;
  changes: ConfigurationChange[];
}

/**
 * Restores a checkpoint into a trainer that runs with `run`. A missing, truncated or corrupt file gets an
 * `ArgumentError`, one saved with another configuration a `CheckpointMismatchError` naming what changed; either
 * changes nothing.
 */
export function loadCheckpoint(
  path: string,
  trainer: Trainer,
  run: RunSettings,
  options: LoadOptions = {},
): LoadedCheckpoint {
  const { header, saved, format, payload } = readCheckpoint(path);
  const changes = checkConfiguration(path, saved, trainingConfiguration(trainer, run), format, options.force ?? false);
  const params = parameters(trainer);
  const corrupt = corruptError(path);
  if (header.arrays.length !== 3 * params.length) throw corrupt('wrong number of arrays');
  const arrays: Float32Array[] = [];
  let offset = 0;
  for (const length of header.arrays) {
    const copy = new Uint8Array(payload.subarray(offset, offset + 4 * length));
    arrays.push(new Float32Array(copy.buffer));
    offset += 4 * length;
  }
  params.forEach((p, i) => {
    if (arrays[i]!.length !== p.length) throw corrupt('array size does not match the model');
  });
  for (const [i, p] of params.entries()) p.set(arrays[i]!);
  trainer.optimizer.importState(
    params,
    params.map((_, i) => ({
      t: header.steps[i]!,
      m: arrays[params.length + 2 * i]!,
      v: arrays[params.length + 2 * i + 1]!,
    })),
  );
  return { state: { epochsDone: header.epochsDone, history: header.history }, changes };
}

const corruptError = (path: string) => (what: string, cause?: unknown) =>
  new ArgumentError(`is not a valid checkpoint: ${what}`, {
    field: path,
    fix: 'delete it and train from the start',
    cause,
  });

/** The header, the configuration it records (all of it in format 3, a part in format 2) and the checked payload. */
function readCheckpoint(path: string) {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new ArgumentError(`cannot be read (${(cause as Error).message})`, {
      field: path,
      fix: 'check the path',
      cause,
    });
  }
  const corrupt = corruptError(path);
  const magic = bytes.subarray(0, MAGIC.length).toString();
  if (magic !== MAGIC && magic !== MAGIC_FORMAT_2) throw corrupt('wrong magic');
  const format: 2 | 3 = magic === MAGIC ? 3 : 2;
  const newline = bytes.indexOf(10, MAGIC.length);
  if (newline < 0) throw corrupt('no header');
  let header: z.infer<typeof stateSchema>;
  let saved: object;
  try {
    const json: unknown = JSON.parse(bytes.subarray(MAGIC.length, newline).toString());
    if (format === 3) {
      const parsed = headerSchema.parse(json);
      header = parsed;
      saved = parsed.configuration;
    } else {
      const parsed = format2HeaderSchema.parse(json);
      header = parsed;
      const { sizes, activation, algorithm, seed, optimizer } = parsed;
      saved = { sizes, activation, algorithm, seed, optimizer: { name: optimizer } };
    }
  } catch (cause) {
    throw corrupt('malformed header', cause);
  }
  const payload = bytes.subarray(newline + 1);
  const expectedBytes = header.arrays.reduce((a, n) => a + 4 * n, 0);
  if (payload.length !== expectedBytes || crc32(payload) !== header.payloadCrc32) throw corrupt('checksum mismatch');
  return { header, saved, format, payload };
}

/**
 * The settings that differ between the checkpoint and this run. Refuses other layer sizes always, and any other
 * change, or a format-2 checkpoint that cannot be checked, unless `force`.
 */
function checkConfiguration(
  path: string,
  saved: object,
  now: TrainingConfiguration,
  format: 2 | 3,
  force: boolean,
): ConfigurationChange[] {
  const current = new Map(flatten(now));
  const changes = flatten(saved)
    .filter(([setting, value]) => JSON.stringify(value) !== JSON.stringify(current.get(setting)))
    .map(([setting, value]) => ({ setting, saved: value, now: current.get(setting) }));
  const listed = changes.map((c) => `${c.setting} ${JSON.stringify(c.saved)} → ${JSON.stringify(c.now)}`).join(', ');
  if (changes.some((c) => c.setting === 'sizes')) {
    throw new CheckpointMismatchError(`was saved for another network (saved → now: ${listed})`, changes, {
      field: path,
      fix: 'resume with the same layer sizes, or train from the start',
    });
  }
  if (force) return changes;
  if (format === 2) {
    throw new CheckpointMismatchError(
      'was written in format 2, which does not record the learning rate, batch size, projector, training-set size ' +
        `or feedback gain${listed ? ` (and what it records changed, saved → now: ${listed})` : ''}`,
      changes,
      { field: path, fix: 'resume with force (--force) if those are as they were, or train from the start' },
    );
  }
  if (changes.length > 0) {
    throw new CheckpointMismatchError(`was saved with another configuration (saved → now: ${listed})`, changes, {
      field: path,
      fix: 'resume with the saved settings, accept the new ones with force (--force), or train from the start',
    });
  }
  return changes;
}

/** `[path, value]` of every leaf of a configuration, e.g. `['optimizer.learningRate', 0.3]`; arrays are leaves. */
function flatten(value: object, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, child]): [string, unknown][] =>
    typeof child === 'object' && child !== null && !Array.isArray(child)
      ? flatten(child, `${prefix}${key}.`)
      : [[`${prefix}${key}`, child]],
  );
}

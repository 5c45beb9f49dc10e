import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { ArgumentError } from 'opu-core';
import { z } from 'zod';
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
}

export interface TrainingState {
  /** Epochs finished; training resumes at this epoch. */
  epochsDone: number;
  history: EpochMetrics[];
}

const MAGIC = 'DFANN-CHECKPOINT-2\n';

const headerSchema = z.object({
  sizes: z.array(z.number().int().positive()),
  activation: z.string(),
  algorithm: z.string(),
  seed: z.number(),
  optimizer: z.string(),
  epochsDone: z.number().int().nonnegative(),
  history: z.array(
    z.object({
      epoch: z.number(),
      trainLoss: z.number(),
      trainError: z.number(),
      testLoss: z.number(),
      testError: z.number(),
      alignment: z.array(z.object({ meanCosine: z.number(), stdCosine: z.number(), angleDeg: z.number() })),
    }),
  ),
  /** Float32 arrays stored after the header, in this order, with their lengths. */
  arrays: z.array(z.number().int().nonnegative()),
  steps: z.array(z.number().int().nonnegative()),
  payloadCrc32: z.number().int(),
});

function parameters(trainer: Trainer): Float32Array[] {
  return trainer.model.layers.flatMap((l) => [l.weights, l.bias]);
}

/**
 * Writes the model, the optimizer's state and the training history atomically: to a temporary file, flushed to
 * disk, then renamed over `path`, so a crash leaves either the previous checkpoint or the new one, never half.
 */
export function saveCheckpoint(path: string, trainer: Trainer, state: TrainingState): void {
  const params = parameters(trainer);
  const optimizer = trainer.optimizer.exportState(params);
  const arrays = [...params, ...optimizer.flatMap((s) => [s.m, s.v])];
  const payload = Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  const header = {
    sizes: trainer.model.sizes,
    activation: trainer.model.activation,
    algorithm: trainer.algorithm,
    seed: trainer.seed,
    optimizer: trainer.optimizer.options.name,
    epochsDone: state.epochsDone,
    history: state.history,
    arrays: arrays.map((a) => a.length),
    steps: optimizer.map((s) => s.t),
    payloadCrc32: crc32(payload),
  };
  const head = Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`);
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, payload);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/**
 * Restores a checkpoint into a trainer built with the same configuration. A missing, truncated, corrupt or
 * mismatched file gets a typed error and changes nothing.
 */
export function loadCheckpoint(path: string, trainer: Trainer): TrainingState {
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
  const corrupt = (what: string) =>
    new ArgumentError(`is not a valid checkpoint: ${what}`, { field: path, fix: 'delete it and train from the start' });
  if (bytes.subarray(0, MAGIC.length).toString() !== MAGIC) throw corrupt('wrong magic');
  const newline = bytes.indexOf(10, MAGIC.length);
  if (newline < 0) throw corrupt('no header');
  let parsed: z.infer<typeof headerSchema>;
  try {
    parsed = headerSchema.parse(JSON.parse(bytes.subarray(MAGIC.length, newline).toString()));
  } catch (cause) {
    throw new ArgumentError('is not a valid checkpoint: malformed header', {
      field: path,
      fix: 'delete it and train from the start',
      cause,
    });
  }
  const payload = bytes.subarray(newline + 1);
  const expectedBytes = parsed.arrays.reduce((a, n) => a + 4 * n, 0);
  if (payload.length !== expectedBytes || crc32(payload) !== parsed.payloadCrc32) throw corrupt('checksum mismatch');
  const mismatch = (field: string, saved: unknown, current: unknown) => {
    if (JSON.stringify(saved) !== JSON.stringify(current)) {
      throw new ArgumentError(
        `was saved with ${field} ${JSON.stringify(saved)}, this run has ${JSON.stringify(current)}`,
        {
          field: path,
          fix: `resume with the same ${field}, or train from the start`,
        },
      );
    }
  };
  mismatch('sizes', parsed.sizes, trainer.model.sizes);
  mismatch('activation', parsed.activation, trainer.model.activation);
  mismatch('algorithm', parsed.algorithm, trainer.algorithm);
  mismatch('seed', parsed.seed, trainer.seed);
  mismatch('optimizer', parsed.optimizer, trainer.optimizer.options.name);
  const params = parameters(trainer);
  if (parsed.arrays.length !== 3 * params.length) throw corrupt('wrong number of arrays');
  const arrays: Float32Array[] = [];
  let offset = 0;
  for (const length of parsed.arrays) {
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
      t: parsed.steps[i]!,
      m: arrays[params.length + 2 * i]!,
      v: arrays[params.length + 2 * i + 1]!,
    })),
  );
  return { epochsDone: parsed.epochsDone, history: parsed.history };
}

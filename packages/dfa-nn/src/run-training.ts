import { existsSync } from 'node:fs';
import {
  type ConfigurationChange,
  type EpochMetrics,
  loadCheckpoint,
  type RunSettings,
  saveCheckpoint,
  type TrainingState,
} from './checkpoint.js';
import type { Dataset } from './dataset.js';
import type { Trainer } from './trainer.js';

export interface TrainingOptions {
  train: Dataset;
  test: Dataset;
  epochs: number;
  batchSize: number;
  /**
   * Written atomically after every epoch, with the whole training configuration; with `resume`, training continues
   * from it when it exists. A write that fails (a full disk) rejects with a `StorageError` and keeps the previous one.
   */
  checkpoint?: string;
  resume?: boolean;
  /**
   * With `resume`: continue although the configuration differs from the checkpoint's (the learning rate, batch size,
   * projector, training-set size, …); without it such a checkpoint is refused with a `CheckpointMismatchError`.
   */
  force?: boolean;
  /** Samples on which the alignment with backpropagation is measured each epoch (default: the first 256 of test). */
  alignmentSamples?: number;
  onBatch?: (epoch: number, done: number, total: number) => void;
  onEpoch?: (metrics: EpochMetrics) => void;
  /** Called once when training continues from a checkpoint, with the changes that `force` accepted. */
  onResume?: (resumed: ResumedTraining) => void;
}

export interface ResumedTraining {
  epochsDone: number;
  changes: ConfigurationChange[];
}

/**
 * Trains for whole epochs with metrics (loss, train and test error, alignment angle per hidden layer) and a
 * checkpoint after each. A run killed mid-epoch resumes at the last finished epoch and ends with the same numbers as
 * an uninterrupted run with the same seed (digital feedback; an OPU's noise cannot be replayed).
 */
export async function runTraining(trainer: Trainer, options: TrainingOptions): Promise<TrainingState> {
  const probeRows = Math.min(options.alignmentSamples ?? 256, options.test.rows);
  const run: RunSettings = {
    batchSize: options.batchSize,
    trainSamples: options.train.rows,
    testSamples: options.test.rows,
    alignmentSamples: probeRows,
  };
  let state: TrainingState = { epochsDone: 0, history: [] };
  if (options.checkpoint && options.resume && existsSync(options.checkpoint)) {
    const loaded = loadCheckpoint(options.checkpoint, trainer, run, { force: options.force ?? false });
    state = loaded.state;
    options.onResume?.({ epochsDone: state.epochsDone, changes: loaded.changes });
  }
  const probeX = options.test.x.subarray(0, probeRows * options.test.features);
  const probeLabels = options.test.labels.subarray(0, probeRows);
  for (let epoch = state.epochsDone; epoch < options.epochs; epoch++) {
    const trained = await trainer.trainEpoch(options.train, epoch, options.batchSize, (done, total) =>
      options.onBatch?.(epoch, done, total),
    );
    const tested = trainer.evaluate(options.test);
    const alignment = await trainer.alignment(probeX, probeLabels);
    const metrics: EpochMetrics = {
      epoch,
      trainLoss: trained.loss,
      trainError: trained.error,
      testLoss: tested.loss,
      testError: tested.error,
      alignment,
      recalibrations: trained.recalibrations,
    };
    state = { epochsDone: epoch + 1, history: [...state.history, metrics] };
    if (options.checkpoint) await saveCheckpoint(options.checkpoint, trainer, state, run);
    options.onEpoch?.(metrics);
  }
  return state;
}

import { ArgumentError, seededUniform } from 'opu-core';

/** Row-major samples with integer class labels. */
export interface Dataset {
  x: Float32Array;
  labels: Uint8Array;
  rows: number;
  features: number;
  classes: number;
}

export function makeDataset(x: Float32Array, labels: Uint8Array, features: number, classes: number): Dataset {
  const rows = labels.length;
  if (x.length !== rows * features) {
    throw new ArgumentError(`has ${x.length} values for ${rows} labels × ${features} features`, {
      field: 'x',
      fix: 'pass one row of features per label',
    });
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      throw new ArgumentError(`${x[i]} is not finite`, {
        field: `x[${Math.floor(i / features)}][${i % features}]`,
        fix: 'clean or impute the data before training',
      });
    }
  }
  for (let r = 0; r < rows; r++) {
    if (labels[r]! >= classes) {
      throw new ArgumentError(`label ${labels[r]} is not below ${classes} classes`, {
        field: `labels[${r}]`,
        fix: 'use labels 0 … classes − 1',
      });
    }
  }
  return { x, labels, rows, features, classes };
}

/** The rows listed, in that order. */
export function subset(data: Dataset, rows: ArrayLike<number>): Dataset {
  const x = new Float32Array(rows.length * data.features);
  const labels = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    x.set(data.x.subarray(r * data.features, (r + 1) * data.features), i * data.features);
    labels[i] = data.labels[r]!;
  }
  return { x, labels, rows: rows.length, features: data.features, classes: data.classes };
}

/** A seeded permutation of 0 … n − 1 (Fisher–Yates). */
export function permutation(n: number, seed: number): Int32Array {
  const random = seededUniform(seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Splits off the last `fraction` of a seeded shuffle as validation data. */
export function trainValidationSplit(data: Dataset, fraction: number, seed: number): [Dataset, Dataset] {
  if (!(fraction > 0 && fraction < 1)) {
    throw new ArgumentError(`${fraction} is not in (0, 1)`, { field: 'fraction', fix: 'e.g. 0.1' });
  }
  const order = permutation(data.rows, seed);
  const cut = Math.round(data.rows * (1 - fraction));
  return [subset(data, order.subarray(0, cut)), subset(data, order.subarray(cut))];
}

import { ArgumentError } from '../support/errors.js';

/**
 * Input checks shared by the encoders. Every rejection names the argument at fault, so a caller can tell a bad
 * option from a bad batch without parsing the message.
 */

export function integerOption(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ArgumentError(`is ${value}, expected an integer in [${min}, ${max}]`, {
      field,
      fix: `pass an integer between ${min} and ${max}`,
    });
  }
  return value;
}

export function finiteOption(value: number, min: number, max: number, field: string): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ArgumentError(`is ${value}, expected a finite number in [${min}, ${max}]`, {
      field,
      fix: `pass a number between ${min} and ${max}`,
    });
  }
  return value;
}

export function choiceOption<T extends string>(value: T, choices: readonly T[], field: string): T {
  if (!choices.includes(value)) {
    throw new ArgumentError(`is ${JSON.stringify(value)}, expected one of ${choices.map((c) => `'${c}'`).join(', ')}`, {
      field,
      fix: `pass one of ${choices.join(', ')}`,
    });
  }
  return value;
}

/**
 * Rows of a row-major batch of `width` values per row. Rejects lengths that do not divide, and NaN or ±Infinity,
 * which would silently turn into all-zero or all-one bits downstream.
 */
export function batchRows(x: ArrayLike<number>, width: number, field = 'x', widthField = 'features'): number {
  integerOption(width, 1, Number.MAX_SAFE_INTEGER, widthField);
  const rows = x.length / width;
  if (!Number.isInteger(rows)) {
    throw new ArgumentError(`has ${x.length} values, not a multiple of ${width} per row`, {
      field,
      fix: `pass a row-major batch whose length is rows × ${width}`,
    });
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new ArgumentError(`value ${x[i]} is not finite`, {
        field: `${field}[${Math.floor(i / width)}][${i % width}]`,
        fix: 'replace NaN and ±Infinity before encoding',
      });
    }
  }
  return rows;
}

/** Like `batchRows`, for `fit`: statistics of an empty batch do not exist. */
export function fitRows(x: ArrayLike<number>, features: number): number {
  const rows = batchRows(x, features);
  if (rows === 0) {
    throw new ArgumentError('has no rows', { field: 'x', fix: 'fit on a batch of at least one row' });
  }
  return rows;
}

export function requireFitted<T>(state: T | undefined, field: string): T {
  if (state === undefined) {
    throw new ArgumentError('is not learned yet', { field, fix: 'call fit(x, features) before encode or decode' });
  }
  return state;
}

/** The batch must have the width the encoder was fitted on, or thresholds would apply to the wrong features. */
export function requireFittedFeatures(features: number, fitted: number): void {
  if (features !== fitted) {
    throw new ArgumentError(`is ${features}, but the encoder was fitted on ${fitted}`, {
      field: 'features',
      fix: 'encode batches with the same number of features as in fit, or fit again',
    });
  }
}

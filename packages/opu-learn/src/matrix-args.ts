import { ArgumentError } from 'opu-core';

/** A whole number ≥ `min`, or an ArgumentError naming `field`. */
export function countArg(value: number, field: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ArgumentError(`${String(value)} is not an integer ≥ ${min}`, { field, fix: 'pass a whole number' });
  }
  return value;
}

/** A Float32Array holding exactly `rows × cols` values, or an ArgumentError naming `field`. */
export function matrixArg(value: Float32Array, rows: number, cols: number, field: string): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new ArgumentError('is not a Float32Array', { field, fix: 'pass a row-major Float32Array' });
  }
  if (value.length !== rows * cols) {
    throw new ArgumentError(`has ${value.length} values, ${rows} rows × ${cols} columns need ${rows * cols}`, {
      field,
      fix: 'pass one row-major row per sample',
    });
  }
  return value;
}

/** A finite number in [min, ∞), or an ArgumentError naming `field`. */
export function nonNegativeArg(value: number, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ArgumentError(`${String(value)} is not a finite number ≥ ${min}`, {
      field,
      fix: `pass a number ≥ ${min}`,
    });
  }
  return value;
}

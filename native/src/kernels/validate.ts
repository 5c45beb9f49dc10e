import { KernelArgumentError } from '../errors.js';

export function integerArg(value: unknown, field: string, min = 0): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > 0x7fff_ffff) {
    throw new KernelArgumentError(`${String(value)} is not an integer ≥ ${min}`, { field, fix: 'pass a whole number' });
  }
  return value as number;
}

export function uint32Arg(value: unknown, field: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0xffff_ffff) {
    throw new KernelArgumentError(`${String(value)} is not an unsigned 32-bit integer`, {
      field,
      fix: 'pass a whole number in [0, 2^32)',
    });
  }
  return value as number;
}

export function finiteArg(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new KernelArgumentError(`${String(value)} is not a finite number`, { field, fix: 'pass a finite number' });
  }
  return value;
}

export function typedArrayArg<T extends ArrayBufferView>(
  value: unknown,
  type: new (...args: never[]) => T,
  field: string,
): T {
  if (!(value instanceof type)) {
    throw new KernelArgumentError(`is not a ${type.name}`, {
      field,
      fix: `pass a ${type.name} (a view is fine, no copy is made)`,
    });
  }
  return value;
}

/** A row-major matrix of `rows × cols` stored with leading dimension `ld` must fit in `array`. */
export function matrixArg(array: Float32Array, rows: number, cols: number, ld: number, field: string): void {
  if (rows > 0 && cols > 0 && ld < cols) {
    throw new KernelArgumentError(`leading dimension ${ld} is smaller than its ${cols} columns`, {
      field: `${field}.ld`,
      fix: `pass ld ≥ ${cols}`,
    });
  }
  const needed = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
  if (array.length < needed) {
    throw new KernelArgumentError(
      `has ${array.length} elements, a ${rows}×${cols} matrix with ld ${ld} needs ${needed}`,
      {
        field,
        fix: 'pass a larger array or smaller dimensions',
      },
    );
  }
}

/** Rejects an output that shares memory with an input: the kernels read inputs while writing the output. */
export function disjointArg(output: ArrayBufferView, input: ArrayBufferView, outputField: string, inputField: string) {
  if (output.buffer !== input.buffer) return;
  const a0 = output.byteOffset;
  const a1 = a0 + output.byteLength;
  const b0 = input.byteOffset;
  const b1 = b0 + input.byteLength;
  if (a0 < b1 && b0 < a1) {
    throw new KernelArgumentError(`overlaps ${inputField} in memory`, {
      field: outputField,
      fix: 'write the result into a separate array',
    });
  }
}

/**
 * Argument checks, each throwing a KernelArgumentError that names the argument and the fix. `kindArg` checks one
 * argument against its declared kind (signatures.ts); the rest serve the kernels' own cross-argument checks.
 */
import { KernelArgumentError } from '../errors.js';
import type { ArrayKind, ParamKind, ParamOptions } from './declaration.js';

/** Anything with a length: the shape checks need no more. */
export interface ArrayLength {
  readonly length: number;
}

const ARRAY_CLASSES: Record<ArrayKind, readonly (abstract new (...args: never[]) => ArrayBufferView)[]> = {
  Float32Array: [Float32Array],
  Float64Array: [Float64Array],
  Int32Array: [Int32Array],
  Uint8Array: [Uint8Array],
  Uint32Array: [Uint32Array],
  'Uint8Array|Uint16Array': [Uint8Array, Uint16Array],
};

/** Checks `value` against a declared kind; `field` is the name errors give it. */
export function kindArg(value: unknown, kind: ParamKind, options: ParamOptions, field: string): void {
  if (typeof kind === 'object') {
    if (typeof value !== 'object' || value === null) {
      throw new KernelArgumentError('is not an object', { field, fix: `pass the ${kind.struct.replace(/.*::/, '')}` });
    }
    for (const [name, fieldKind, fieldOptions] of kind.fields) {
      kindArg((value as Record<string, unknown>)[name], fieldKind, fieldOptions ?? {}, `${field}.${name}`);
    }
    return;
  }
  switch (kind) {
    case 'bool':
      if (typeof value !== 'boolean') {
        throw new KernelArgumentError(`${String(value)} is not a boolean`, { field, fix: 'pass true or false' });
      }
      return;
    case 'i32':
      integerArg(value, field, options.min, options.max);
      return;
    case 'u32':
      uint32Arg(value, field);
      return;
    case 'f32':
    case 'f64':
      finiteArg(value, field);
      if (options.min !== undefined && (value as number) < options.min) {
        throw new KernelArgumentError(options.min === 0 ? `${value} is negative` : `${value} is below ${options.min}`, {
          field,
          fix: `pass a value ≥ ${options.min}`,
        });
      }
      return;
    default: {
      const classes = ARRAY_CLASSES[kind];
      if (!classes.some((type) => value instanceof type)) {
        const names = classes.map((type) => type.name).join(' or ');
        throw new KernelArgumentError(`is not a ${names}`, {
          field,
          fix: `pass a ${names} (a view is fine, no copy is made)`,
        });
      }
    }
  }
}

export function integerArg(value: unknown, field: string, min = 0, max = 0x7fff_ffff): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    const range = max === 0x7fff_ffff ? `≥ ${min}` : `in [${min}, ${max}]`;
    throw new KernelArgumentError(`${String(value)} is not an integer ${range}`, { field, fix: 'pass a whole number' });
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

/** A row-major matrix of `rows × cols` stored with leading dimension `ld` must fit in `array`. */
export function matrixArg(array: ArrayLength, rows: number, cols: number, ld: number, field: string): void {
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
      { field, fix: 'pass a larger array or smaller dimensions' },
    );
  }
}

/** At least `size` elements (`what` says whose size it is). */
export function lengthArg(array: ArrayLength, size: number, field: string, what?: string): void {
  if (array.length < size) {
    throw new KernelArgumentError(`has ${array.length} elements, ${what ? `${what} ` : ''}needs ${size}`, {
      field,
      fix: 'pass a larger array',
    });
  }
}

/** [start, end) within [0, length]. */
export function rangeArg(start: number, end: number, length: number, startField: string, endField: string): void {
  if (start > end || end > length) {
    throw new KernelArgumentError(`[${start}, ${end}) is not within [0, ${length}]`, {
      field: endField,
      fix: `keep ${startField} ≤ ${endField} ≤ ${length}`,
    });
  }
}

/** array[index] within [min, max]: an index that an array argument holds (checked per element, so no string is built
 * unless it fails). */
export function elementArg(array: ArrayLike<number>, index: number, min: number, max: number, field: string): void {
  const value = array[index]!;
  if (value < min || value > max) {
    throw new KernelArgumentError(`is ${value}, outside [${min}, ${max}]`, {
      field: `${field}[${index}]`,
      fix: `keep it within [${min}, ${max}], as the other arrays' sizes allow`,
    });
  }
}

/** Arrays of one length, the first one's. */
export function sameLengthArgs(arrays: Record<string, ArrayLength>): void {
  const [[firstField, first], ...rest] = Object.entries(arrays);
  for (const [field, array] of rest) {
    if (array.length !== first!.length) {
      throw new KernelArgumentError(`has ${array.length} elements, ${firstField} has ${first!.length}`, {
        field,
        fix: 'pass arrays of the same length',
      });
    }
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

import { ArgumentError, type CostTally, type LinearProjection } from 'opu-core';

/** What every algorithm of this package takes besides its matrix and its sketch. */
export interface SketchOptions {
  /** Every projection's cost (frames, device and wall time, retries) is added to this tally. */
  cost?: CostTally;
}

/**
 * A·Bᵀ (rows × sketch.outputs) for the rows of A: the one step an algorithm hands to its sketch, an `Opu` or a
 * `GaussianOperator` alike. The host never reads B.
 */
export async function sketchRows(
  sketch: LinearProjection,
  a: Float32Array,
  options: SketchOptions,
): Promise<Float32Array> {
  const { data, meta } = await sketch.project(a);
  options.cost?.add(meta);
  return data;
}

/** Refuses a matrix whose rows the sketch cannot take, naming the fix. */
export function checkSketchInputs(sketch: LinearProjection, columns: number, field: string): void {
  if (sketch.inputs !== columns) {
    throw new ArgumentError(`has ${columns} columns but the sketch takes ${sketch.inputs} inputs`, {
      field,
      fix: `open the OPU (or build the GaussianOperator) with inputs = ${columns}`,
    });
  }
}

/** Refuses a buffer whose length is not rows × cols. */
export function checkShape(a: ArrayLike<number>, rows: number, cols: number, field: string): void {
  if (a.length !== rows * cols) {
    throw new ArgumentError(`has ${a.length} values, expected ${rows} × ${cols}`, { field });
  }
}

import { ArgumentError, type Opu, seededNormal } from 'opu-core';
import { kernels } from 'opu-native';

/**
 * A fixed Gaussian sketch seen only through its products: `project(e, rows)` returns e·Bᵀ (rows × outputs) for real
 * rows e (rows × inputs), B (outputs × inputs) with i.i.d. N(0, 1) entries that the host never reads. An OPU is
 * exactly this; dfa-nn's `OpuProjector` and `DigitalProjector` satisfy it as they are.
 */
export interface Sketch {
  readonly inputs: number;
  readonly outputs: number;
  project(e: Float32Array, rows: number): Promise<Float32Array>;
}

/** What the projections so far cost an OPU sketch, summed from each call's metadata. */
export interface SketchCost {
  calls: number;
  frames: number;
  /** Time of the modelled or real hardware, whatever the simulation costs. */
  deviceTimeUs: number;
  wallTimeMs: number;
}

/** The OPU's `project()` as a sketch, counting what it costs. */
export function opuSketch(opu: Opu): Sketch & { readonly cost: SketchCost } {
  const cost: SketchCost = { calls: 0, frames: 0, deviceTimeUs: 0, wallTimeMs: 0 };
  return {
    inputs: opu.inputs,
    outputs: opu.outputs,
    cost,
    async project(e: Float32Array) {
      const { data, meta } = await opu.project(e);
      cost.calls++;
      cost.frames += meta.frames;
      cost.deviceTimeUs += meta.deviceTimeUs;
      cost.wallTimeMs += meta.wallTimeMs;
      return data;
    },
  };
}

/** The digital baseline: B drawn from a seed and multiplied with the native sgemm. */
export function gaussianSketch(inputs: number, outputs: number, seed = 0): Sketch & { readonly matrix: Float32Array } {
  const matrix = Float32Array.from({ length: inputs * outputs }, seededNormal(seed));
  return {
    inputs,
    outputs,
    matrix,
    project(e: Float32Array, rows: number) {
      const out = new Float32Array(rows * outputs);
      kernels.sgemm(rows, outputs, inputs, e, matrix, out, { transB: true });
      return Promise.resolve(out);
    },
  };
}

/** Refuses a matrix whose rows the sketch cannot take, naming the fix. */
export function checkSketchInputs(sketch: Sketch, columns: number, field: string): void {
  if (sketch.inputs !== columns) {
    throw new ArgumentError(`has ${columns} columns but the sketch takes ${sketch.inputs} inputs`, {
      field,
      fix: `open the OPU (or build the sketch) with inputs = ${columns}`,
    });
  }
}

/** Refuses a buffer whose length is not rows × cols. */
export function checkShape(a: ArrayLike<number>, rows: number, cols: number, field: string): void {
  if (a.length !== rows * cols) {
    throw new ArgumentError(`has ${a.length} values, expected ${rows} × ${cols}`, { field });
  }
}

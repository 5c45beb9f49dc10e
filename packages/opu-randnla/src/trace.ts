import type { LinearProjection } from 'opu-core';
import { type Estimate, meanOfTerms } from './estimate.js';
import { checkShape, checkSketchInputs, type SketchOptions, sketchRows } from './sketch.js';

/**
 * Hutchinson's estimate of tr(A) for a square A (n × n, row-major) with the sketch's `outputs` Gaussian probes ωᵢ
 * (the rows of B). The host never sees B: C = project(A) = A·Bᵀ, then project(Cᵀ) = B·Aᵀ·Bᵀ, whose diagonal holds
 * the terms ωᵢᵀ·A·ωᵢ. For symmetric A their variance is 2‖A‖_F², so the standard error is √(2/p)·‖A‖_F.
 */
export async function hutchinsonTrace(
  a: Float32Array,
  n: number,
  sketch: LinearProjection,
  options: SketchOptions = {},
): Promise<Estimate> {
  checkShape(a, n, n, 'a');
  checkSketchInputs(sketch, n, 'a');
  const p = sketch.outputs;
  const c = await sketchRows(sketch, a, options);
  const ct = new Float32Array(p * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) ct[j * n + i] = c[i * p + j]!;
  const bab = await sketchRows(sketch, ct, options);
  return meanOfTerms(Float64Array.from({ length: p }, (_, i) => bab[i * p + i]!));
}

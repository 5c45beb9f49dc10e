import { type Opu, relativeError, seededNormal, seededUniform } from 'opu-core';
import { projectionErrorAgainstTruth } from 'opu-sim';

export type InputKind = 'ternary' | 'binary' | 'gaussian';

/** A batch of the kinds of vectors project() sees: ternarized DFA errors, binary frames, real vectors. */
export function inputBatch(kind: InputKind, rows: number, n: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  const g = seededNormal(seed + 1);
  const e = new Float32Array(rows * n);
  for (let i = 0; i < e.length; i++) {
    if (kind === 'gaussian') e[i] = g();
    else if (kind === 'binary') e[i] = u() < 0.5 ? 1 : 0;
    else {
      const r = u();
      e[i] = r < 0.2 ? 0.37 : r < 0.4 ? -0.37 : 0;
    }
  }
  return e;
}

/** ‖y − e·Bᵀ‖ / ‖e·Bᵀ‖ with B the simulator's ground-truth matrix for this facade's calibration. */
export function relativeErrorAgainstTruth(opu: Opu, e: Float32Array, y: Float32Array): number {
  return projectionErrorAgainstTruth(opu, e, y)!;
}

/** e (rows × n) · Bᵀ (B is m × n). */
export function matmulTransposed(e: Float32Array, B: Float32Array, n: number, m: number): Float64Array {
  const rows = e.length / n;
  const out = new Float64Array(rows * m);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += e[r * n + j]! * B[i * n + j]!;
      out[r * m + i] = s;
    }
  }
  return out;
}

export { relativeError };

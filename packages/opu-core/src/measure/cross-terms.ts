/**
 * How a binary piece's projection follows from its frames, precomputed once per set of references. With the
 * references' coefficients a_ik (y_i's component along u_i is Σ_k a_ik·(I(x + r_k) − I(x) − |b_ik|²)/2, see
 * `RungFields`) and `unit` (√(ADU/µs) → B's N(0, 1) units):
 *
 *   B·x_i = Σ_k c_ik·I(x + r_k)_i − s_i·I(x)_i − t_i,  c_ik = a_ik·unit/2,  s_i = Σ_k c_ik,  t_i = Σ_k c_ik·|b_ik|²
 *
 * so a piece costs one multiply-add per frame and pixel, in the frames' own (reference-major) order: opu-native's
 * `crossTerms` kernel does that arithmetic.
 */
export interface CrossTermCombination {
  references: number;
  outputs: number;
  /** c_ik, references × outputs. */
  coefficients: Float64Array;
  /** s_i, outputs. */
  plainCoefficient: Float64Array;
  /** t_i, outputs. */
  offset: Float64Array;
}

/**
 * The combination of `references` references whose coefficient a_ik is `coefficient(i, k)` and whose |b_ik|² are
 * `referenceIntensity` (references × outputs).
 */
export function crossTermCombination(
  references: number,
  referenceIntensity: Float32Array,
  coefficient: (i: number, k: number) => number,
  unit: number,
): CrossTermCombination {
  const m = referenceIntensity.length / references;
  const coefficients = new Float64Array(references * m);
  const plainCoefficient = new Float64Array(m);
  const offset = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < references; k++) {
      const c = (coefficient(i, k) * unit) / 2;
      coefficients[k * m + i] = c;
      plainCoefficient[i]! += c;
      offset[i]! += c * referenceIntensity[k * m + i]!;
    }
  }
  return { references, outputs: m, coefficients, plainCoefficient, offset };
}

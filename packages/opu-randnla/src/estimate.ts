/** A Monte Carlo estimate from independent probes. */
export interface Estimate {
  value: number;
  /** Sample standard deviation of the per-probe terms over √probes: the estimate's own error bar. */
  standardError: number;
  probes: number;
}

/** Mean of the per-probe terms, scaled, with its standard error. */
export function meanOfTerms(terms: ArrayLike<number>, scale = 1): Estimate {
  const p = terms.length;
  let sum = 0;
  for (let i = 0; i < p; i++) sum += terms[i]!;
  const mean = sum / p;
  let squares = 0;
  for (let i = 0; i < p; i++) squares += (terms[i]! - mean) ** 2;
  const std = p > 1 ? Math.sqrt(squares / (p - 1)) : Number.NaN;
  return { value: scale * mean, standardError: (Math.abs(scale) * std) / Math.sqrt(p), probes: p };
}

/**
 * Per-feature quantiles with linear interpolation between order statistics (numpy's default, so thresholds match
 * lightonml's). Result is probability-major: entry `i * features + f` is quantile `probabilities[i]` of feature `f`.
 */
export function featureQuantiles(
  x: Float32Array,
  features: number,
  rows: number,
  probabilities: readonly number[],
): Float64Array {
  const out = new Float64Array(probabilities.length * features);
  const column = new Float64Array(rows);
  for (let f = 0; f < features; f++) {
    for (let r = 0; r < rows; r++) column[r] = x[r * features + f]!;
    column.sort();
    for (let i = 0; i < probabilities.length; i++) {
      const position = probabilities[i]! * (rows - 1);
      const below = Math.floor(position);
      const above = Math.min(below + 1, rows - 1);
      out[i * features + f] = column[below]! + (position - below) * (column[above]! - column[below]!);
    }
  }
  return out;
}

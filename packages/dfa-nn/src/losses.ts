/**
 * Output losses. Each turns the output layer's pre-activation into a loss and the error e = ∂loss/∂a_L per sample
 * (before the batch reduction): for softmax + cross-entropy and sigmoid + binary cross-entropy that is ŷ − y.
 */
export const LOSSES = ['softmax-cross-entropy', 'sigmoid-cross-entropy', 'mse'] as const;
export type LossName = (typeof LOSSES)[number];

export interface LossResult {
  /** Sum over the batch of the per-sample loss. */
  total: number;
  /** rows × classes: ∂(per-sample loss)/∂a_L. */
  error: Float32Array;
}

export function computeLoss(name: LossName, logits: Float32Array, labels: Uint8Array, classes: number): LossResult {
  const rows = labels.length;
  const error = new Float32Array(rows * classes);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const label = labels[r]!;
    if (name === 'softmax-cross-entropy') {
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[base + c]!);
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[base + c]! - max);
      total += Math.log(sum) + max - logits[base + label]!;
      for (let c = 0; c < classes; c++)
        error[base + c] = Math.exp(logits[base + c]! - max) / sum - (c === label ? 1 : 0);
    } else if (name === 'sigmoid-cross-entropy') {
      for (let c = 0; c < classes; c++) {
        const a = logits[base + c]!;
        const y = c === label ? 1 : 0;
        // log(1 + e^a) − y·a, computed without overflow.
        total += Math.max(a, 0) - y * a + Math.log1p(Math.exp(-Math.abs(a)));
        error[base + c] = 1 / (1 + Math.exp(-a)) - y;
      }
    } else {
      for (let c = 0; c < classes; c++) {
        const d = logits[base + c]! - (c === label ? 1 : 0);
        total += 0.5 * d * d;
        error[base + c] = d;
      }
    }
  }
  return { total, error };
}

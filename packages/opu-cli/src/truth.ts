import type { Opu } from 'opu-core';
import { expectedProjectionMatrix, SimulatedOpuDevice } from 'opu-sim';

/**
 * On a simulator, ‖P − e·Bᵀ‖ / ‖e·Bᵀ‖ of a projection P of rows e against the matrix B the facade realizes on the
 * true medium; undefined on hardware, which has no ground truth.
 */
export function relativeErrorAgainstTruth(opu: Opu, e: Float32Array, projected: Float32Array): number | undefined {
  const device = opu.device;
  if (!(device instanceof SimulatedOpuDevice) || !opu.calibration) return undefined;
  const B = expectedProjectionMatrix(device, opu.layout, opu.calibration);
  const n = opu.inputs;
  const m = opu.outputs;
  const rows = e.length / n;
  let residual = 0;
  let norm = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < m; i++) {
      let exact = 0;
      for (let j = 0; j < n; j++) exact += e[r * n + j]! * B[i * n + j]!;
      residual += (projected[r * m + i]! - exact) ** 2;
      norm += exact * exact;
    }
  }
  return Math.sqrt(residual / norm);
}

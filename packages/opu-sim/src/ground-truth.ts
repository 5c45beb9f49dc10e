import { type DmdLayout, type LinearCalibration, referenceStart } from 'opu-core';
import type { SimulatedOpuDevice } from './simulated-opu.js';

/**
 * The matrix B (outputs × inputs, row-major) that `Opu.project()` should realize on this simulated device:
 * B_ij = √2·Re(ū_i·R_ij)/|u_i| with u_i = Σ_k w_ik·(R·r_k)_i, from the true transmission matrix and the weights the
 * facade calibrated. Entries are i.i.d. N(0, 1) because u depends only on the reference mirrors' columns.
 */
export function expectedProjectionMatrix(
  device: SimulatedOpuDevice,
  layout: DmdLayout,
  calibration: LinearCalibration,
): Float32Array {
  const R = device.groundTruth.transmissionMatrix();
  const cols = device.inputSize;
  const n = layout.inputs;
  const m = calibration.outputs;
  const K = calibration.referenceCount;
  const B = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    let ur = 0;
    let ui = 0;
    for (let k = 0; k < K; k++) {
      const w = calibration.weights[i * K + k]!;
      const start = referenceStart(layout, k);
      for (let j = start; j < start + layout.referenceMirrors; j++) {
        ur += w * R.re[i * cols + j]!;
        ui += w * R.im[i * cols + j]!;
      }
    }
    const norm = Math.hypot(ur, ui);
    for (let j = 0; j < n; j++) {
      // Re(ū·R) = Re(u)·Re(R) + Im(u)·Im(R)
      B[i * n + j] = (Math.SQRT2 * (ur * R.re[i * cols + j]! + ui * R.im[i * cols + j]!)) / norm;
    }
  }
  return B;
}

import { type DmdLayout, type LinearCalibration, referenceStart } from 'opu-core';
import type { SimulatedOpuDevice } from './simulated-opu.js';

/**
 * The matrix B (outputs × inputs, row-major) that `Opu.project()` should realize on this simulated device:
 * B_ij = √2·Re(ū_i·R̃_ij)/(|u_i|·√s), where R̃_ij sums the true matrix over element j's s mirrors and
 * u_i = Σ_k w_ik·(field of reference k)_i uses the weights the facade calibrated. Entries are i.i.d. N(0, 1) because u
 * depends only on the reference mirrors' columns.
 */
export function expectedProjectionMatrix(
  device: SimulatedOpuDevice,
  layout: DmdLayout,
  calibration: LinearCalibration,
): Float32Array {
  const R = device.groundTruth.transmissionMatrix();
  const cols = device.inputSize;
  const s = layout.mirrorsPerElement;
  const n = layout.inputs;
  const m = calibration.outputs;
  const K = calibration.referenceCount;
  /** Field of elements [first, end) at output i. */
  const field = (i: number, first: number, end: number): [number, number] => {
    let re = 0;
    let im = 0;
    for (let q = first * s; q < end * s; q++) {
      re += R.re[i * cols + q]!;
      im += R.im[i * cols + q]!;
    }
    return [re, im];
  };
  const B = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    let ur = 0;
    let ui = 0;
    for (let k = 0; k < K; k++) {
      const w = calibration.weights[i * K + k]!;
      const start = referenceStart(layout, k);
      const [re, im] = field(i, start, start + layout.referenceElements);
      ur += w * re;
      ui += w * im;
    }
    const scale = Math.SQRT2 / (Math.hypot(ur, ui) * Math.sqrt(s));
    for (let j = 0; j < n; j++) {
      const [re, im] = field(i, j, j + 1);
      // Re(ū·R̃) = Re(u)·Re(R̃) + Im(u)·Im(R̃)
      B[i * n + j] = scale * (ur * re + ui * im);
    }
  }
  return B;
}

import {
  ArgumentError,
  type DmdLayout,
  minFrameTimeUs,
  type Opu,
  type ReferenceMeasurement,
  referenceStart,
  relativeError,
  type TransmissionMatrix,
} from 'opu-core';
import { SimulatedOpuDevice } from './simulated-opu.js';

/**
 * The matrix B (outputs × inputs, row-major) that `Opu.project()` should realize on this simulated device:
 * B_ij = √2·Re(ū_i·R̃_ij)/(|u_i|·√s), where R̃_ij sums the true matrix over element j's s mirrors and
 * u_i = Σ_k w_ik·(field of reference k)_i uses the weights the facade calibrated. Entries are i.i.d. N(0, 1) because u
 * depends only on the reference mirrors' columns.
 */
export function expectedProjectionMatrix(
  device: SimulatedOpuDevice,
  layout: DmdLayout,
  calibration: ReferenceMeasurement,
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

/** How far a retrieved transmission matrix is from the simulator's true one, after its harmless ambiguities. */
export interface TransmissionMatrixError {
  /**
   * ‖Ã/scale − T‖/‖T‖ (Frobenius), where T is the true matrix of the layout's data elements (each the sum of its
   * mirrors' columns) over the first `rows` ROI pixels, and Ã is the retrieved matrix with each row turned by its
   * best phase and conjugated where that fits better.
   */
  relativeError: number;
  /**
   * The global real scale minimizing that error, in the retrieved matrix's units per unit of true field:
   * √(ADU/µs), so scale² ≈ the responsivity (ADU/µs per lit mirror).
   */
  scale: number;
  /** Rows that fit the truth better conjugated (the anchor geometry's reflection, drawn per row). */
  conjugatedRows: number;
}

/**
 * Compares a retrieved transmission matrix with `device.groundTruth.transmissionMatrix()`, which must be configured
 * with the matrix's layout (region and ROI): rows may differ by a phase and a conjugation, the whole matrix by its
 * units, and neither counts as error.
 */
export function transmissionMatrixError(tm: TransmissionMatrix, device: SimulatedOpuDevice): TransmissionMatrixError {
  const truth = elementMatrix(tm, device);
  const n = tm.cols;
  let retrievedPower = 0;
  let truePower = 0;
  let overlap = 0;
  let conjugatedRows = 0;
  for (let i = 0; i < tm.rows; i++) {
    // Σ_j conj(A_ij)·T_ij and Σ_j A_ij·T_ij: the best phase leaves the modulus of whichever is larger.
    let plainRe = 0;
    let plainIm = 0;
    let conjugateRe = 0;
    let conjugateIm = 0;
    for (let j = 0; j < n; j++) {
      const ar = tm.re[i * n + j]!;
      const ai = tm.im[i * n + j]!;
      const tr = truth.re[i * n + j]!;
      const ti = truth.im[i * n + j]!;
      plainRe += ar * tr + ai * ti;
      plainIm += ar * ti - ai * tr;
      conjugateRe += ar * tr - ai * ti;
      conjugateIm += ar * ti + ai * tr;
      retrievedPower += ar * ar + ai * ai;
      truePower += tr * tr + ti * ti;
    }
    const plain = Math.hypot(plainRe, plainIm);
    const conjugate = Math.hypot(conjugateRe, conjugateIm);
    if (conjugate > plain) conjugatedRows++;
    overlap += Math.max(plain, conjugate);
  }
  // min over s of ‖s·Ã − T‖² = ‖T‖² − overlap²/‖Ã‖², at s = overlap/‖Ã‖².
  const cosine = overlap / Math.sqrt(retrievedPower * truePower);
  return {
    relativeError: Math.sqrt(Math.max(0, 1 - cosine * cosine)),
    scale: retrievedPower / overlap,
    conjugatedRows,
  };
}

/** The device's true field of each data element of the matrix's layout, rows × cols, row-major. */
function elementMatrix(tm: TransmissionMatrix, device: SimulatedOpuDevice): { re: Float64Array; im: Float64Array } {
  const { layout, rows, cols } = tm;
  if (JSON.stringify(device.settings.inputRegion) !== JSON.stringify(layout.region)) {
    throw new ArgumentError('the device’s input region is not the one the matrix was retrieved on', {
      field: 'device.settings.inputRegion',
      fix: 'configure the device with tm.layout.region and tm.layout.roi before comparing',
    });
  }
  if (rows > device.outputSize || cols !== layout.inputs) {
    throw new ArgumentError(`a ${rows} × ${cols} matrix does not fit the device’s ROI and the layout`, {
      field: 'tm',
      fix: 'configure the device with tm.layout.roi before comparing',
    });
  }
  const R = device.groundTruth.transmissionMatrix();
  const mirrors = device.inputSize;
  const s = layout.mirrorsPerElement;
  const re = new Float64Array(rows * cols);
  const im = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      for (let q = j * s; q < (j + 1) * s; q++) {
        re[i * cols + j]! += R.re[i * mirrors + q]!;
        im[i * cols + j]! += R.im[i * mirrors + q]!;
      }
    }
  }
  return { re, im };
}

/**
 * `transmissionMatrixError` on the matrix's own layout: the device is configured with its region and ROI for the
 * comparison (frame time as the ROI needs) and restored afterwards.
 */
export async function transmissionMatrixErrorOnItsLayout(
  tm: TransmissionMatrix,
  device: SimulatedOpuDevice,
): Promise<TransmissionMatrixError> {
  const restore = { ...device.settings };
  const { region, roi } = tm.layout;
  const frameTimeUs = Math.max(
    restore.frameTimeUs,
    Math.ceil(minFrameTimeUs(device.info, restore.exposureUs, roi.height)),
  );
  await device.configure({ inputRegion: region, outputRoi: roi, frameTimeUs });
  try {
    return transmissionMatrixError(tm, device);
  } finally {
    await device.configure(restore);
  }
}

/**
 * ‖P − e·Bᵀ‖ / ‖e·Bᵀ‖ of a projection P of rows e (rows × inputs) against the matrix B the facade realizes on the
 * simulator's true medium; undefined when the facade's device is not a simulator (hardware has no ground truth).
 */
export function projectionErrorAgainstTruth(opu: Opu, e: Float32Array, projected: Float32Array): number | undefined {
  const device = opu.device;
  if (!(device instanceof SimulatedOpuDevice) || !opu.calibration) return undefined;
  const B = expectedProjectionMatrix(device, opu.layout, opu.calibration);
  const n = opu.inputs;
  const m = opu.outputs;
  const rows = e.length / n;
  const exact = new Float64Array(rows * m);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < m; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += e[r * n + j]! * B[i * n + j]!;
      exact[r * m + i] = sum;
    }
  }
  return relativeError(exact, projected);
}

/** Figures of merit shared by the calibration's checks and the tests that hold them to ground truth. */

/** Pearson correlation of two equally long series. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const count = a.length;
  let meanA = 0;
  let meanB = 0;
  for (let q = 0; q < count; q++) {
    meanA += a[q]! / count;
    meanB += b[q]! / count;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let q = 0; q < count; q++) {
    const da = a[q]! - meanA;
    const db = b[q]! - meanB;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return ab / Math.sqrt(aa * bb);
}

/** ‖estimate − reference‖ / ‖reference‖. */
export function relativeError(reference: ArrayLike<number>, estimate: ArrayLike<number>): number {
  let difference = 0;
  let norm = 0;
  for (let q = 0; q < reference.length; q++) {
    difference += (estimate[q]! - reference[q]!) ** 2;
    norm += reference[q]! ** 2;
  }
  return Math.sqrt(difference / norm);
}

/**
 * The facade's per-pixel measurement arithmetic, TypeScript implementation (addon/src/measure/cross-terms.cc is the
 * C++ one, the same float64 operations in the same order): camera frames to dark-subtracted intensity per µs, and a
 * batch of binary pieces' projections from their frames' cross terms (opu-core's measure/cross-terms.ts derives
 * the coefficients).
 */
import type { KernelFunction } from '../kernels/signatures.js';

export const darkSubtractTs: KernelFunction<'darkSubtract'> = (
  adu,
  pixelsPerFrame,
  frames,
  dark,
  exposureUs,
  destination,
  out,
) => {
  const m = dark.length;
  for (let f = 0; f < frames; f++) {
    const to = destination[f]!;
    if (to < 0) continue;
    const from = f * pixelsPerFrame;
    for (let i = 0; i < m; i++) out[to * m + i] = (adu[from + i]! - dark[i]!) / exposureUs;
  }
};

export const crossTermsTs: KernelFunction<'crossTerms'> = (
  references,
  coefficients,
  plainCoefficient,
  offset,
  intensity,
  firstFrame,
  plainFrames,
  weights,
  sumRows,
  sums,
) => {
  const m = plainCoefficient.length;
  const plain = new Float64Array(m);
  const work = new Float64Array(m);
  for (let p = 0; p < firstFrame.length; p++) {
    const first = firstFrame[p]! * m;
    const count = plainFrames[p]!;
    plain.fill(0);
    for (let q = 0; q < count; q++) for (let i = 0; i < m; i++) plain[i]! += intensity[first + q * m + i]! / count;
    for (let i = 0; i < m; i++) work[i] = -plainCoefficient[i]! * plain[i]! - offset[i]!;
    for (let k = 0; k < references; k++) {
      const frame = first + (count + k) * m;
      for (let i = 0; i < m; i++) work[i]! += coefficients[k * m + i]! * intensity[frame + i]!;
    }
    const row = sumRows[p]! * m;
    const w = weights[p]!;
    for (let i = 0; i < m; i++) sums[row + i]! += w * work[i]!;
  }
};

/**
 * How far the simulator's quantized medium (entries q/4096, q of 16 bits) is from the unquantized CN(0, 1) matrix it
 * rounds: relative error of the fields and of the intensities of half-lit binary frames.
 */

import { seededUniform } from 'opu-core';
import { complexNormal, kernels, philox4x32, Stream } from 'opu-native';

export function mediumQuantizationError(n = 1024, m = 512, frames = 64): { field: number; intensity: number } {
  const seed = 1;
  const pixels = Int32Array.from({ length: m }, (_, i) => i);
  const mirrors = Int32Array.from({ length: n }, (_, i) => i);
  // The unquantized entries, as fillMediumTile draws them before rounding, column-major.
  const exactRe = new Float64Array(n * m);
  const exactIm = new Float64Array(n * m);
  const words = new Uint32Array(4);
  const z = new Float64Array(2);
  for (let q = 0; q < n; q++) {
    for (let p = 0; p < m; p++) {
      philox4x32(p, q >>> 1, 0, 0, seed, Stream.medium, words);
      complexNormal(words[(q & 1) * 2]!, words[(q & 1) * 2 + 1]!, z);
      exactRe[q * m + p] = z[0]!;
      exactIm[q * m + p] = z[1]!;
    }
  }
  const u = seededUniform(4);
  const bits = Uint8Array.from({ length: frames * n }, () => (u() < 0.5 ? 1 : 0));
  const packed = new Uint8Array((frames * n) / 8);
  bits.forEach((b, i) => {
    packed[i >> 3]! |= b << (i & 7);
  });
  const re = new Float32Array(frames * m);
  const im = new Float32Array(frames * m);
  kernels.mediumFields({ seed, epoch: 0, pixels, mirrors, packed, frames, outRe: re, outIm: im });
  let fieldError = 0;
  let fieldNorm = 0;
  let intensityError = 0;
  let intensityNorm = 0;
  for (let f = 0; f < frames; f++) {
    const sumRe = new Float64Array(m);
    const sumIm = new Float64Array(m);
    for (let q = 0; q < n; q++) {
      if (!bits[f * n + q]) continue;
      for (let p = 0; p < m; p++) {
        sumRe[p]! += exactRe[q * m + p]!;
        sumIm[p]! += exactIm[q * m + p]!;
      }
    }
    for (let p = 0; p < m; p++) {
      const qRe = re[f * m + p]!;
      const qIm = im[f * m + p]!;
      fieldError += (qRe - sumRe[p]!) ** 2 + (qIm - sumIm[p]!) ** 2;
      fieldNorm += sumRe[p]! ** 2 + sumIm[p]! ** 2;
      const intensity = sumRe[p]! ** 2 + sumIm[p]! ** 2;
      intensityError += (qRe * qRe + qIm * qIm - intensity) ** 2;
      intensityNorm += intensity ** 2;
    }
  }
  return { field: Math.sqrt(fieldError / fieldNorm), intensity: Math.sqrt(intensityError / intensityNorm) };
}

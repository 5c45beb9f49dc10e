/**
 * Small, independent statistics helpers for the simulator's physics tests. Nothing here reuses simulator code, so a
 * bug in the simulator cannot cancel out in the checks.
 */
import { type DmdFrames, packDmdFrames } from 'opu-core';

/** mulberry32: a tiny seeded PRNG, unrelated to the simulator's Philox, for test inputs. */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Row-major 0/1 values of `count` frames of `mirrors` mirrors, each with exactly `lit` mirrors on, chosen at random. */
export function randomBits(count: number, mirrors: number, lit: number, seed: number): Uint8Array {
  const next = uniform(seed);
  const bits = new Uint8Array(count * mirrors);
  const order = Int32Array.from({ length: mirrors }, (_, i) => i);
  for (let f = 0; f < count; f++) {
    // Partial Fisher–Yates: the first `lit` entries are a uniform random subset.
    for (let i = 0; i < lit; i++) {
      const j = i + Math.floor(next() * (mirrors - i));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
      bits[f * mirrors + order[i]!] = 1;
    }
  }
  return bits;
}

/** Packed DMD frames with exactly `lit` mirrors on in each frame. */
export function randomFrames(count: number, mirrors: number, lit: number, seed: number): DmdFrames {
  return packDmdFrames(randomBits(count, mirrors, lit, seed), count, mirrors);
}

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

/** Unbiased sample variance. */
export function variance(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
  return s / (a.length - 1);
}

/** Pearson correlation of two equally long samples. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Ordinary least squares y = slope·x + intercept, with the coefficient of determination R². */
export function linearFit(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
): { slope: number; intercept: number; r2: number } {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < x.length; i++) ssRes += (y[i]! - slope * x[i]! - intercept) ** 2;
  return { slope, intercept, r2: 1 - ssRes / syy };
}

/** |field|² in float64. */
export function intensities(field: { re: Float32Array; im: Float32Array }): Float64Array {
  const out = new Float64Array(field.re.length);
  for (let i = 0; i < out.length; i++) out[i] = field.re[i]! ** 2 + field.im[i]! ** 2;
  return out;
}

/** Mean of `data` over frame `f` of `pixels` values. */
export function frameMean(data: ArrayLike<number>, f: number, pixels: number): number {
  let s = 0;
  for (let i = f * pixels; i < (f + 1) * pixels; i++) s += data[i]!;
  return s / pixels;
}

/** Prints a measured statistic when OPU_SIM_REPORT is set (for reviewing the margins), silent otherwise. */
export function report(label: string, value: number | string): void {
  if (process.env['OPU_SIM_REPORT']) console.log(`[measured] ${label}: ${value}`);
}

import { describe, expect, it } from 'vitest';
import { CounterRng, lnUniform, philox4x32, Stream, turnCosSin, uniform01 } from '../src/index.js';
import { seededUniform } from './helpers.js';

const hex = (words: ArrayLike<number>) => Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, '0')).join(' ');

function block(c: number[], k: number[]): Uint32Array {
  const out = new Uint32Array(4);
  philox4x32(c[0]!, c[1]!, c[2]!, c[3]!, k[0]!, k[1]!, out);
  return out;
}

/** Philox4x32-10 written independently with exact BigInt products (no float64 high-word trick). */
function philoxBigInt(c: number[], k: number[]): string {
  const mask = 0xffffffffn;
  let [x0, x1, x2, x3] = c.map((v) => BigInt(v >>> 0)) as [bigint, bigint, bigint, bigint];
  let [k0, k1] = k.map((v) => BigInt(v >>> 0)) as [bigint, bigint];
  for (let round = 0; round < 10; round++) {
    const p0 = 0xd2511f53n * x0;
    const p1 = 0xcd9e8d57n * x2;
    [x0, x1, x2, x3] = [((p1 >> 32n) ^ x1 ^ k0) & mask, p1 & mask, ((p0 >> 32n) ^ x3 ^ k1) & mask, p0 & mask];
    k0 = (k0 + 0x9e3779b9n) & mask;
    k1 = (k1 + 0xbb67ae85n) & mask;
  }
  return [x0, x1, x2, x3].map((v) => v.toString(16).padStart(8, '0')).join(' ');
}

describe('Philox4x32-10', () => {
  // Random123 kat_vectors, lines "philox4x32 10 <ctr0..3> <key0..1> <out0..3>".
  it.each([
    {
      ctr: [0, 0, 0, 0],
      key: [0, 0],
      out: '6627e8d5 e169c58d bc57ac4c 9b00dbd8',
    },
    {
      ctr: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      key: [0xffffffff, 0xffffffff],
      out: '408f276d 41c83b0e a20bc7c6 6d5451fd',
    },
    {
      ctr: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      key: [0xa4093822, 0x299f31d0],
      out: 'd16cfe09 94fdcceb 5001e420 24126ea1',
    },
  ])('matches the Random123 known answer for counter $ctr', ({ ctr, key, out }) => {
    expect(hex(block(ctr, key))).toBe(out);
    expect(philoxBigInt(ctr, key)).toBe(out);
  });

  it('agrees with an exact BigInt implementation on 2000 random counters and keys', () => {
    const next = seededUniform(99);
    const word = () => Math.floor(next() * 2 ** 32) >>> 0;
    // Include the extremes of the 32-bit range, where a float64 high-word product would lose bits first.
    const extremes = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    for (let i = 0; i < 2000; i++) {
      const pick = () => (i % 4 === 0 ? extremes[Math.floor(next() * extremes.length)]! : word());
      const ctr = [pick(), pick(), pick(), pick()];
      const key = [pick(), pick()];
      expect(hex(block(ctr, key))).toBe(philoxBigInt(ctr, key));
    }
  });

  it('accepts counters given as signed 32-bit integers (the same bits)', () => {
    expect(hex(block([-1, -1, -1, -1], [-1, -1]))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
  });
});

describe('uniform01', () => {
  it('maps every 32-bit word into the open interval (0, 1), monotonically', () => {
    expect(uniform01(0)).toBeGreaterThan(0);
    expect(uniform01(0)).toBe(0.5 / 2 ** 32);
    expect(uniform01(0xffffffff)).toBeLessThan(1);
    expect(uniform01(0xffffffff)).toBe(1 - 0.5 / 2 ** 32);
    expect(uniform01(-1)).toBe(uniform01(0xffffffff));
    expect(Math.log(uniform01(0))).toBeGreaterThan(-23);
    expect(uniform01(0x80000000)).toBeCloseTo(0.5, 9);
    expect(uniform01(1)).toBeGreaterThan(uniform01(0));
    expect(uniform01(0x80000001)).toBeGreaterThan(uniform01(0x80000000));
  });

  it('is uniform over Philox output: 64-bin chi-square on 400 000 values', () => {
    const rng = new CounterRng(2024);
    const bins = new Float64Array(64);
    const n = 100_000;
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const w = rng.block(Stream.medium, i, 0);
      for (let j = 0; j < 4; j++) {
        const u = uniform01(w[j]!);
        if (!(u > 0 && u < 1)) outside++;
        sum += u;
        bins[Math.floor(u * 64)]!++;
      }
    }
    expect(outside).toBe(0);
    const total = 4 * n;
    const expected = total / 64;
    let chi2 = 0;
    for (const b of bins) chi2 += (b - expected) ** 2 / expected;
    // chi² with 63 degrees of freedom: mean 63, sd √126 ≈ 11.2; 5 sd above the mean is 119.
    expect(chi2).toBeLessThan(119);
    // Mean of U(0,1): 0.5 ± 5·(1/√12)/√400000 = 0.5 ± 0.0023.
    expect(Math.abs(sum / total - 0.5)).toBeLessThan(0.0023);
  });
});

describe('CounterRng', () => {
  it('is a pure function of (seed, stream, counter): same coordinates, same bits', () => {
    const a = new CounterRng(7);
    const b = new CounterRng(7);
    const first = Array.from(a.block(Stream.cameraNoise, 12, 34, 5));
    a.block(Stream.laser, 1, 2, 3); // unrelated draws in between change nothing
    expect(Array.from(a.block(Stream.cameraNoise, 12, 34, 5))).toEqual(first);
    expect(Array.from(b.block(Stream.cameraNoise, 12, 34, 5))).toEqual(first);
    // The key is (seed, stream) and the counter (a, b, c, 0): exactly the raw Philox block.
    expect(first).toEqual(Array.from(block([12, 34, 5, 0], [7, Stream.cameraNoise])));
  });

  it('gives different blocks for a different seed, stream or counter', () => {
    const words = (rng: CounterRng, s: number, a: number, b: number, c = 0) => hex(rng.block(s, a, b, c));
    const rng = new CounterRng(7);
    const base = words(rng, Stream.medium, 3, 4);
    const others = [
      words(new CounterRng(8), Stream.medium, 3, 4),
      words(rng, Stream.driftPhase, 3, 4),
      words(rng, Stream.medium, 4, 4),
      words(rng, Stream.medium, 3, 5),
      words(rng, Stream.medium, 3, 4, 1),
    ];
    for (const o of others) expect(o).not.toBe(base);
    expect(new Set(others).size).toBe(others.length);
  });

  it('normalPair gives independent standard normals (200 000 values)', () => {
    const rng = new CounterRng(5);
    const n = 100_000;
    const z = new Float64Array(2);
    let s0 = 0;
    let s1 = 0;
    let s00 = 0;
    let s11 = 0;
    let s01 = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) {
      rng.normalPair(Stream.pixelResponse, i, 0, 0, z);
      s0 += z[0]!;
      s1 += z[1]!;
      s00 += z[0]! ** 2;
      s11 += z[1]! ** 2;
      s01 += z[0]! * z[1]!;
      if (Math.abs(z[0]!) > 2) tail++;
    }
    // Bounds are 5 standard errors: mean 1/√n, variance √(2/n), product 1/√n, P(|z|>2) = 0.0455 ± √(p(1−p)/n).
    const se = 1 / Math.sqrt(n);
    expect(Math.abs(s0 / n)).toBeLessThan(5 * se);
    expect(Math.abs(s1 / n)).toBeLessThan(5 * se);
    expect(Math.abs(s00 / n - 1)).toBeLessThan(5 * Math.SQRT2 * se);
    expect(Math.abs(s11 / n - 1)).toBeLessThan(5 * Math.SQRT2 * se);
    expect(Math.abs(s01 / n)).toBeLessThan(5 * se);
    const p = 0.0455003;
    expect(Math.abs(tail / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  });
});

describe('deterministic transcendental functions', () => {
  const samples = [0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xb504f333, 0xb504f334, 0xfffffffe, 0xffffffff];
  const next = seededUniform(7);
  for (let i = 0; i < 20_000; i++) samples.push(Math.floor(next() * 2 ** 32) >>> 0);

  it('lnUniform(bits) = ln(uniform01(bits)) to within 2 ulp', () => {
    let worst = 0;
    for (const bits of samples) {
      const exact = Math.log(uniform01(bits));
      worst = Math.max(worst, Math.abs(lnUniform(bits) - exact) / Math.abs(exact));
    }
    expect(worst).toBeLessThan(4.5e-16);
  });

  it('turnCosSin(bits) = cos, sin of 2π·uniform01(bits) to within 1e-15', () => {
    const out = new Float64Array(2);
    let worst = 0;
    for (const bits of samples) {
      const theta = 2 * Math.PI * uniform01(bits);
      turnCosSin(bits, out);
      worst = Math.max(worst, Math.abs(out[0]! - Math.cos(theta)), Math.abs(out[1]! - Math.sin(theta)));
      expect(out[0]! ** 2 + out[1]! ** 2).toBeCloseTo(1, 14);
    }
    expect(worst).toBeLessThan(1e-15);
  });
});

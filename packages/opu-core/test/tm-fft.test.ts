import { describe, expect, it } from 'vitest';
import { Dft } from '../src/calibration/fft.js';
import { seededNormal } from '../src/support/random.js';

/** The O(n²) definition, X_k = Σ_t x_t·e^{−2πi·kt/n}, with the angle reduced exactly (kt mod n). */
function directDft(re: Float64Array, im: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const out = { re: new Float64Array(n), im: new Float64Array(n) };
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < n; t++) {
      const angle = (-2 * Math.PI * ((k * t) % n)) / n;
      out.re[k]! += re[t]! * Math.cos(angle) - im[t]! * Math.sin(angle);
      out.im[k]! += re[t]! * Math.sin(angle) + im[t]! * Math.cos(angle);
    }
  }
  return out;
}

function randomSignal(n: number, seed: number): { re: Float64Array; im: Float64Array } {
  const g = seededNormal(seed);
  return { re: Float64Array.from({ length: n }, g), im: Float64Array.from({ length: n }, g) };
}

/** ‖a − b‖ / ‖b‖ over both parts. */
function distance(a: { re: Float64Array; im: Float64Array }, b: { re: Float64Array; im: Float64Array }): number {
  let difference = 0;
  let norm = 0;
  for (let k = 0; k < b.re.length; k++) {
    difference += (a.re[k]! - b.re[k]!) ** 2 + (a.im[k]! - b.im[k]!) ** 2;
    norm += b.re[k]! ** 2 + b.im[k]! ** 2;
  }
  return Math.sqrt(difference / norm);
}

// Powers of two take the radix-2 path; the rest (primes, 1100 = the benchmark's columns) Bluestein's.
const LENGTHS = [1, 2, 3, 5, 8, 12, 64, 97, 128, 255, 1100];

describe('Dft', () => {
  it.each(LENGTHS)('matches the direct DFT at length %i', (n) => {
    const x = randomSignal(n, n);
    const expected = directDft(x.re, x.im);
    const y = { re: Float64Array.from(x.re), im: Float64Array.from(x.im) };
    new Dft(n).forward(y.re, y.im);
    expect(distance(y, expected)).toBeLessThan(1e-12);
  });

  it.each(LENGTHS)('inverts its forward transform at length %i', (n) => {
    const x = randomSignal(n, 1000 + n);
    const y = { re: Float64Array.from(x.re), im: Float64Array.from(x.im) };
    const dft = new Dft(n);
    dft.forward(y.re, y.im);
    dft.inverse(y.re, y.im);
    expect(distance(y, x)).toBeLessThan(1e-12);
  });

  it('transforms a unit impulse at t = 1 into the twiddles e^{−2πik/n} (checks the sign convention)', () => {
    const n = 10;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    re[1] = 1;
    new Dft(n).forward(re, im);
    for (let k = 0; k < n; k++) {
      expect(re[k]).toBeCloseTo(Math.cos((2 * Math.PI * k) / n), 12);
      expect(im[k]).toBeCloseTo(-Math.sin((2 * Math.PI * k) / n), 12);
    }
  });

  it('can be reused: the plan keeps no state between transforms', () => {
    const dft = new Dft(97);
    const a = randomSignal(97, 1);
    const b = randomSignal(97, 2);
    const first = { re: Float64Array.from(b.re), im: Float64Array.from(b.im) };
    dft.forward(first.re, first.im);
    dft.forward(a.re, a.im);
    const second = { re: Float64Array.from(b.re), im: Float64Array.from(b.im) };
    dft.forward(second.re, second.im);
    expect(second).toEqual(first);
  });

  it('rejects lengths that are not positive integers', () => {
    expect(() => new Dft(0)).toThrow(RangeError);
    expect(() => new Dft(2.5)).toThrow(RangeError);
  });
});

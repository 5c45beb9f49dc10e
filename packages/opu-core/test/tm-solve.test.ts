import { describe, expect, it } from 'vitest';
import { LeastSquaresDesign } from '../src/calibration/tm-retrieval.js';
import {
  anchorGeometry,
  anchorPairs,
  CirculantSolver,
  circulantShift,
  placeSignals,
} from '../src/calibration/tm-solve.js';
import { ArgumentError } from '../src/support/errors.js';
import { seededNormal, seededUniform } from '../src/support/random.js';
import { caught } from './helpers/fake-device.js';

function binaryPatterns(count: number, n: number, seed: number): Uint8Array {
  const random = seededUniform(seed);
  return Uint8Array.from({ length: count * n }, () => (random() < 0.5 ? 1 : 0));
}

function normals(length: number, seed: number): Float64Array {
  return Float64Array.from({ length }, seededNormal(seed));
}

/** Solves a·x = b (n × n, several right-hand sides as columns of b, n × width) by Gaussian elimination. */
function gaussianSolve(a: Float64Array, n: number, b: Float64Array, width: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[pivot * n + c]!)) pivot = r;
    for (let q = 0; q < n; q++) [m[c * n + q], m[pivot * n + q]] = [m[pivot * n + q]!, m[c * n + q]!];
    for (let q = 0; q < width; q++)
      [x[c * width + q], x[pivot * width + q]] = [x[pivot * width + q]!, x[c * width + q]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c]! / m[c * n + c]!;
      for (let q = 0; q < n; q++) m[r * n + q]! -= f * m[c * n + q]!;
      for (let q = 0; q < width; q++) x[r * width + q]! -= f * x[c * width + q]!;
    }
  }
  for (let r = 0; r < n; r++) for (let q = 0; q < width; q++) x[r * width + q]! /= m[r * n + r]!;
  return x;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('LeastSquaresDesign', () => {
  /** The fields the design's signals give through `matrix` (outputs × n, re and im), as placeSignals lays them out. */
  function placedFields(design: LeastSquaresDesign, n: number, matrix: { re: Float64Array; im: Float64Array }) {
    const outputs = matrix.re.length / n;
    const placed = new Float64Array(design.signals * 2 * outputs);
    for (let t = 0; t < design.signals; t++) {
      for (let i = 0; i < outputs; i++) {
        for (let j = 0; j < n; j++) {
          if (!design.lights(t, j)) continue;
          placed[t * 2 * outputs + i] += matrix.re[i * n + j]!;
          placed[t * 2 * outputs + outputs + i] += matrix.im[i * n + j]!;
        }
      }
    }
    return placed;
  }

  it('recovers every row of a matrix from its noise-free signals, fed in uneven chunks', async () => {
    const [n, outputs] = [60, 7];
    const design = await LeastSquaresDesign.create({ inputs: n }, { oversampling: 2.5 }, seededUniform(3));
    expect(design.signals).toBe(150);
    const matrix = { re: normals(outputs * n, 4), im: normals(outputs * n, 5) };
    const placed = placedFields(design, n, matrix);
    const width = 2 * outputs;
    for (const [t0, count] of [
      [0, 1],
      [1, 64],
      [65, 85],
    ] as const) {
      design.accumulate(placed.slice(t0 * width, (t0 + count) * width), t0, count, outputs);
    }
    const { re, im } = await design.solve(outputs);
    // Float32 results of an exact float64 solve.
    expect(maxAbsDifference(re, matrix.re)).toBeLessThan(1e-5);
    expect(maxAbsDifference(im, matrix.im)).toBeLessThan(1e-5);
  });

  it('solves noisy signals in the least-squares sense, as Gaussian elimination of the normal equations does', async () => {
    const [n, outputs] = [40, 3];
    const design = await LeastSquaresDesign.create({ inputs: n }, { oversampling: 2 }, seededUniform(6));
    const placed = normals(design.signals * 2 * outputs, 7);
    design.accumulate(placed, 0, design.signals, outputs);
    const { re, im } = await design.solve(outputs);
    const xi = new Float64Array(design.signals * n);
    for (let t = 0; t < design.signals; t++) for (let j = 0; j < n; j++) xi[t * n + j] = design.lights(t, j) ? 1 : 0;
    const width = 2 * outputs;
    const gram = new Float64Array(n * n);
    const projected = new Float64Array(n * width);
    for (let t = 0; t < design.signals; t++) {
      for (let j = 0; j < n; j++) {
        if (!xi[t * n + j]) continue;
        for (let l = 0; l < n; l++) gram[j * n + l]! += xi[t * n + l]!;
        for (let q = 0; q < width; q++) projected[j * width + q]! += placed[t * width + q]!;
      }
    }
    const expected = gaussianSolve(gram, n, projected, width);
    for (let i = 0; i < outputs; i++) {
      for (let j = 0; j < n; j++) {
        expect(re[i * n + j]).toBeCloseTo(expected[j * width + i]!, 5);
        expect(im[i * n + j]).toBeCloseTo(expected[j * width + outputs + i]!, 5);
      }
    }
  });

  it('reports the signals summed into ΞᵀΞ and the rows solved, in blocks up to all of them', async () => {
    const [n, outputs] = [100, 130];
    const signals: [number, number][] = [];
    const design = await LeastSquaresDesign.create(
      { inputs: n },
      { oversampling: 2 },
      seededUniform(8),
      (done, planned) => signals.push([done, planned]),
    );
    expect(signals.length).toBeGreaterThan(10);
    expect(signals.every(([, planned]) => planned === 200)).toBe(true);
    expect(signals.map(([done]) => done)).toEqual([...signals.map(([done]) => done)].sort((a, b) => a - b));
    expect(signals.at(-1)).toEqual([200, 200]);
    const matrix = { re: normals(outputs * n, 9), im: normals(outputs * n, 10) };
    design.accumulate(placedFields(design, n, matrix), 0, design.signals, outputs);
    const rows: number[] = [];
    const { re } = await design.solve(outputs, (done, planned) => {
      expect(planned).toBe(outputs);
      rows.push(done);
    });
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.at(-1)).toBe(outputs);
    // solved a block of rows at a time, every row is still the exact solution
    expect(maxAbsDifference(re, matrix.re)).toBeLessThan(1e-4);
  });

  it('refuses a design whose random signals leave columns undetermined', async () => {
    // Draws below 1/2 light every element of every signal: ΞᵀΞ is all ones, singular for 8 columns, every attempt.
    const error = await caught(LeastSquaresDesign.create({ inputs: 8 }, { oversampling: 2 }, () => 0.25));
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as ArgumentError).field).toBe('oversampling');
  });
});

describe('CirculantSolver', () => {
  /** y_t = Σ_j a_j·ξ_t[j] for every cyclic shift t of the pattern. */
  function measure(pattern: Uint8Array, re: Float64Array, im: Float64Array) {
    const n = pattern.length;
    const y = { re: new Float64Array(n), im: new Float64Array(n) };
    for (let t = 0; t < n; t++) {
      for (let j = 0; j < n; j++) {
        if (!circulantShift(pattern, t, j)) continue;
        y.re[t]! += re[j]!;
        y.im[t]! += im[j]!;
      }
    }
    return y;
  }

  it.each([7, 16, 96, 97])('recovers a row from its %i shifted measurements, as a direct solve does', (n) => {
    const pattern = binaryPatterns(1, n, n);
    pattern[0] = 1;
    const row = { re: normals(n, 1), im: normals(n, 2) };
    const y = measure(pattern, row.re, row.im);
    // The direct solve of Ξ·a = y: Ξ's rows are the shifts, real and imaginary parts as two right-hand sides.
    const xi = new Float64Array(n * n);
    for (let t = 0; t < n; t++) for (let j = 0; j < n; j++) xi[t * n + j] = circulantShift(pattern, t, j);
    const both = new Float64Array(n * 2);
    for (let t = 0; t < n; t++) [both[2 * t], both[2 * t + 1]] = [y.re[t]!, y.im[t]!];
    const direct = gaussianSolve(xi, n, both, 2);
    const solver = new CirculantSolver(pattern);
    solver.solve(y.re, y.im);
    for (let j = 0; j < n; j++) {
      expect(y.re[j]).toBeCloseTo(row.re[j]!, 8);
      expect(y.im[j]).toBeCloseTo(row.im[j]!, 8);
      expect(y.re[j]).toBeCloseTo(direct[2 * j]!, 8);
      expect(y.im[j]).toBeCloseTo(direct[2 * j + 1]!, 8);
    }
  });

  it('reports trace((ΞᵀΞ)⁻¹)/n as its noise gain, Infinity for a pattern whose shifts are dependent', () => {
    const pattern = Uint8Array.from([1, 1, 0, 1, 0, 0, 0]);
    const n = pattern.length;
    const xi = new Float64Array(n * n);
    for (let t = 0; t < n; t++) for (let j = 0; j < n; j++) xi[t * n + j] = circulantShift(pattern, t, j);
    const normal = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      for (let l = 0; l < n; l++) for (let t = 0; t < n; t++) normal[j * n + l]! += xi[t * n + j]! * xi[t * n + l]!;
    }
    const identity = Float64Array.from({ length: n * n }, (_, q) => (q % (n + 1) === 0 ? 1 : 0));
    const inverse = gaussianSolve(normal, n, identity, n);
    let trace = 0;
    for (let j = 0; j < n; j++) trace += inverse[j * n + j]!;
    expect(new CirculantSolver(pattern).noiseGain).toBeCloseTo(trace / n, 12);
    // 1010…: every shift is one of two patterns.
    expect(new CirculantSolver(Uint8Array.from([1, 0, 1, 0, 1, 0])).noiseGain).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('anchorGeometry and placeSignals', () => {
  /** Intensities of anchors z_k alone and in pairs, as the measurement would average them (outputs = 1). */
  function anchorIntensities(z: [number, number][]) {
    const single = Float64Array.from(z, ([r, i]) => r * r + i * i);
    const pair = Float64Array.from(anchorPairs(z.length), ([k, l]) => {
      const [r, i] = [z[k]![0] + z[l]![0], z[k]![1] + z[l]![1]];
      return r * r + i * i;
    });
    return { single, pair };
  }

  /** |y|² then |y + z_k|² for each signal. */
  function signalFrames(z: [number, number][], y: [number, number][]): Float32Array {
    const frames: number[] = [];
    for (const [yr, yi] of y) {
      frames.push(yr * yr + yi * yi);
      for (const [zr, zi] of z) frames.push((yr + zr) ** 2 + (yi + zi) ** 2);
    }
    return Float32Array.from(frames);
  }

  function points(count: number, seed: number): [number, number][] {
    const g = seededNormal(seed);
    return Array.from({ length: count }, () => [g(), g()]);
  }

  it('places signals up to one rotation or reflection: every inner product and modulus survives', () => {
    const z = points(8, 1);
    const y = points(20, 2);
    const { single, pair } = anchorIntensities(z);
    const geometry = anchorGeometry(single, pair, z.length);
    const placed = new Float64Array(y.length * 2);
    placeSignals(geometry, signalFrames(z, y), y.length, placed);
    const dot = (a: [number, number], b: [number, number]) => a[0] * b[0] + a[1] * b[1];
    const cross = (a: [number, number], b: [number, number]) => a[0] * b[1] - a[1] * b[0];
    const got = y.map((_, s): [number, number] => [placed[2 * s]!, placed[2 * s + 1]!]);
    // An orthogonal map keeps dot products and keeps (rotation) or flips (reflection) every cross product.
    const orientation = Math.sign(cross(got[0]!, got[1]!) * cross(y[0]!, y[1]!));
    for (let s = 0; s < y.length; s++) {
      for (let t = 0; t < y.length; t++) {
        expect(dot(got[s]!, got[t]!)).toBeCloseTo(dot(y[s]!, y[t]!), 4);
        expect(orientation * cross(got[s]!, got[t]!)).toBeCloseTo(cross(y[s]!, y[t]!), 4);
      }
    }
  });

  it('reports λ₁/λ₂ of the anchors’ scatter matrix Σ_k z_k·z_kᵀ as the condition number', () => {
    const z = points(6, 3).map(([r, i]): [number, number] => [3 * r, 0.5 * i]);
    const { single, pair } = anchorIntensities(z);
    const [a, b, d] = z.reduce(([a, b, d], [r, i]) => [a + r * r, b + r * i, d + i * i], [0, 0, 0]);
    const spread = Math.hypot((a - d) / 2, b);
    const expected = ((a + d) / 2 + spread) / ((a + d) / 2 - spread);
    expect(anchorGeometry(single, pair, z.length).condition[0]).toBeCloseTo(expected, 6);
  });

  it('flags anchors on one line (every field in phase): they cannot place a signal in the plane', () => {
    const z: [number, number][] = [0.5, 1, 2, -1.5].map((s) => [s * 0.6, s * 0.8]);
    const { single, pair } = anchorIntensities(z);
    expect(anchorGeometry(single, pair, z.length).condition[0]).toBeGreaterThan(1e8);
  });

  it('handles several outputs at once, each with its own anchors and its own rotation or reflection', () => {
    const signals = 6;
    const zs = [points(5, 4), points(5, 5)];
    const y = [points(signals, 6), points(signals, 7)];
    const intensities = zs.map(anchorIntensities);
    // Interleave the two outputs: value (pattern p, output i) at p·2 + i.
    const interleave = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Float64Array.from({ length: 2 * a.length }, (_, q) => (q % 2 ? b[q >> 1]! : a[q >> 1]!));
    const geometry = anchorGeometry(
      interleave(intensities[0]!.single, intensities[1]!.single),
      interleave(intensities[0]!.pair, intensities[1]!.pair),
      5,
    );
    const frames = Float32Array.from(interleave(signalFrames(zs[0]!, y[0]!), signalFrames(zs[1]!, y[1]!)));
    const placed = new Float64Array(signals * 2 * 2);
    placeSignals(geometry, frames, signals, placed);
    const dot = (a: [number, number], b: [number, number]) => a[0] * b[0] + a[1] * b[1];
    const cross = (a: [number, number], b: [number, number]) => a[0] * b[1] - a[1] * b[0];
    for (let i = 0; i < 2; i++) {
      // Signal s of output i: real part at s·4 + i, imaginary part at s·4 + 2 + i.
      const truth = y[i]!;
      const got = truth.map((_, s): [number, number] => [placed[s * 4 + i]!, placed[s * 4 + 2 + i]!]);
      // Each output has its own orthogonal map: the Gram matrix Re(conj(z_s)·z_t) = z_s·z_t (moduli on its diagonal)
      // survives, the cross products Im(conj(z_s)·z_t) survive up to this output's one sign.
      const orientation = Math.sign(cross(got[0]!, got[1]!) * cross(truth[0]!, truth[1]!));
      for (let s = 0; s < signals; s++) {
        expect(Math.hypot(...got[s]!)).toBeCloseTo(Math.hypot(...truth[s]!), 4);
        for (let t = 0; t < signals; t++) {
          expect(dot(got[s]!, got[t]!)).toBeCloseTo(dot(truth[s]!, truth[t]!), 4);
          expect(orientation * cross(got[s]!, got[t]!)).toBeCloseTo(cross(truth[s]!, truth[t]!), 4);
        }
      }
    }
  });
});

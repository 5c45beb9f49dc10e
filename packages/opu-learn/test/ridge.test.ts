import { ArgumentError, seededNormal } from 'opu-core';
import { describe, expect, it } from 'vitest';
import {
  classificationError,
  FeatureGramAccumulator,
  fitRidge,
  fitRidgeOnGram,
  oneHot,
  predictRidge,
  type RidgeOptions,
  standardizeGram,
} from '../src/index.js';

/** A regression problem whose features have large, unequal means and scales, so centring and the bias matter. */
function problem(rows: number, features: number, targets: number, seed: number) {
  const g = seededNormal(seed);
  const x = new Float32Array(rows * features);
  for (let i = 0; i < x.length; i++) x[i] = 3 + (i % features) * 0.1 + g() * (1 + (i % 3));
  const y = new Float32Array(rows * targets);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < targets; c++) {
      let s = 5 * c - 2 + 0.3 * g();
      for (let j = 0; j < features; j++) s += x[r * features + j]! * Math.sin(j + 3 * c);
      y[r * targets + c] = s;
    }
  }
  return { x, y };
}

/**
 * The reference, written independently of the code under test: augment X with a ones column, form the normal
 * equations [XᵀX + λD] [W; b] = Xᵀy in Float64 (D = I except 0 for the bias), and solve by Gaussian elimination.
 */
function referenceRidge(x: Float32Array, rows: number, f: number, y: Float32Array, t: number, lambda: number) {
  const n = f + 1;
  const at = (r: number, j: number) => (j === f ? 1 : x[r * f + j]!);
  const a = Array.from({ length: n }, () => new Float64Array(n + t));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += at(r, i) * at(r, j);
      a[i]![j] = s + (i === j && i < f ? lambda : 0);
    }
    for (let c = 0; c < t; c++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += at(r, i) * y[r * t + c]!;
      a[i]![n + c] = s;
    }
  }
  for (let p = 0; p < n; p++) {
    let pivot = p;
    for (let i = p + 1; i < n; i++) if (Math.abs(a[i]![p]!) > Math.abs(a[pivot]![p]!)) pivot = i;
    [a[p], a[pivot]] = [a[pivot]!, a[p]!];
    for (let i = 0; i < n; i++) {
      if (i === p) continue;
      const factor = a[i]![p]! / a[p]![p]!;
      for (let j = p; j < n + t; j++) a[i]![j]! -= factor * a[p]![j]!;
    }
  }
  const solution = a.map((row, i) => Array.from({ length: t }, (_, c) => row[n + c]! / row[i]!));
  return { weights: solution.slice(0, f).flat(), bias: solution[f]! };
}

function relativeDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    s += b[i]! ** 2;
  }
  return Math.sqrt(d / s);
}

describe('fitRidge', () => {
  const cases: [string, number, number, RidgeOptions, number][] = [
    ['primal Cholesky (rows > features)', 200, 30, { solver: 'direct' }, 1e-4],
    ['dual Cholesky (features > rows)', 40, 60, { solver: 'direct' }, 1e-4],
    // Float32 products bound the attainable CG accuracy near 1e-6 relative; 1e-4 leaves margin.
    ['conjugate gradient', 200, 30, { solver: 'cg', tolerance: 1e-7, maxIterations: 200 }, 1e-4],
    ['conjugate gradient (features > rows)', 40, 60, { solver: 'cg', tolerance: 1e-7, maxIterations: 300 }, 1e-4],
  ];
  for (const [name, rows, features, options, bound] of cases) {
    it(`matches an independent Float64 normal-equations solve: ${name}`, () => {
      const targets = 3;
      const lambda = 5;
      const { x, y } = problem(rows, features, targets, rows + features);
      const fit = fitRidge(x, rows, features, y, targets, lambda, options);
      const reference = referenceRidge(x, rows, features, y, targets, lambda);
      expect(relativeDistance(fit.weights, reference.weights)).toBeLessThan(bound);
      expect(relativeDistance(fit.bias, reference.bias)).toBeLessThan(bound * 10);
      const expectedSolver = options.solver === 'cg' ? 'cg' : features <= rows ? 'primal' : 'dual';
      expect(fit.diagnostics?.solver).toBe(expectedSolver);
      const predictions = predictRidge(fit, x, rows);
      const referencePredictions = new Float64Array(rows * targets);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < targets; c++) {
          let s = reference.bias[c]!;
          for (let j = 0; j < features; j++) s += x[r * features + j]! * reference.weights[j * targets + c]!;
          referencePredictions[r * targets + c] = s;
        }
      }
      expect(relativeDistance(predictions, referencePredictions)).toBeLessThan(bound);
    });
  }

  it('reports CG that ran out of iterations instead of failing', () => {
    const { x, y } = problem(100, 40, 2, 9);
    const fit = fitRidge(x, 100, 40, y, 2, 1e-3, { solver: 'cg', maxIterations: 2, tolerance: 1e-12 });
    expect(fit.diagnostics).toMatchObject({ solver: 'cg', iterations: 2 });
    expect(fit.diagnostics!.relativeResidual).toBeGreaterThan(1e-12);
  });

  it('names the field at fault', () => {
    const x = new Float32Array(6);
    const y = new Float32Array(3);
    expect(() => fitRidge(x, 3, 2, y, 1, -1)).toThrow(/lambda/);
    expect(() => fitRidge(x, 3, 3, y, 1, 1)).toThrow(ArgumentError);
    expect(() => fitRidge(x, 3, 3, y, 1, 1)).toThrow(/^x:/);
    expect(() => fitRidge(x, 3, 2, new Float32Array(4), 1, 1)).toThrow(/^y:/);
    expect(() => fitRidge(x, 3, 2, y, 1, 1, { maxIterations: 0 })).toThrow(/options\.maxIterations/);
    expect(() => fitRidge(Float32Array.of(1, 2, 3, Number.NaN, 5, 6), 3, 2, y, 1, 1)).toThrow(/^x\[1\]\[1\]:/);
    // Two identical columns (integers: the float32 Gram is exact) make XᵀX singular without regularization.
    const duplicated = Float32Array.of(1, 1, 2, 2, 2, 5, 4, 4, 0);
    expect(() => fitRidge(duplicated, 3, 3, y, 1, 0, { solver: 'direct' })).toThrow(/^lambda:/);
    expect(() => fitRidge(duplicated, 3, 3, y, 1, 0.1, { solver: 'direct' })).not.toThrow();
    const fit = fitRidge(
      x.map((_, i) => i * i),
      3,
      2,
      y,
      1,
      1,
    );
    expect(() => predictRidge(fit, new Float32Array(5), 2)).toThrow(/^x:/);
  });
});

/** The centred Gram of the first `features` of `stride` columns, streamed in blocks of the given row counts. */
function streamedGram(x: Float32Array, stride: number, features: number, y: Float32Array, t: number, blocks: number[]) {
  const rows = blocks.reduce((a, b) => a + b, 0);
  const yMeans = new Float64Array(t);
  for (let i = 0; i < rows * t; i++) yMeans[i % t]! += y[i]! / rows;
  const accumulator = new FeatureGramAccumulator(features, t, yMeans);
  let r0 = 0;
  for (const b of blocks) {
    accumulator.add(x.subarray(r0 * stride, (r0 + b) * stride), b, stride, y.subarray(r0 * t, (r0 + b) * t));
    r0 += b;
  }
  return accumulator.finish();
}

describe('FeatureGramAccumulator', () => {
  it('streams row blocks into the centred Gram and X̃ᵀỸ that Float64 sums over the whole matrix give', () => {
    // More than 2048 features: the Gram's off-diagonal column blocks (computed above, mirrored below) are covered.
    const rows = 40;
    const stride = 2150;
    const features = 2100;
    const t = 2;
    const { x, y } = problem(rows, stride, t, 4);
    const g = streamedGram(x, stride, features, y, t, [7, 20, 13]);
    const means = new Float64Array(features);
    for (let r = 0; r < rows; r++) for (let j = 0; j < features; j++) means[j]! += x[r * stride + j]! / rows;
    const yMeans = [0, 1].map(
      (c) => Array.from({ length: rows }, (_, r) => y[r * t + c]!).reduce((a, b) => a + b) / rows,
    );
    const centred = (r: number, j: number) => x[r * stride + j]! - means[j]!;
    const gram = new Float64Array(features * features);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < features; i++) {
        const a = centred(r, i);
        for (let j = 0; j < features; j++) gram[i * features + j]! += a * centred(r, j);
      }
    }
    const xty = new Float64Array(features * t);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < features; i++)
        for (let c = 0; c < t; c++) xty[i * t + c]! += centred(r, i) * (y[r * t + c]! - yMeans[c]!);
    expect(relativeDistance(g.means, means)).toBeLessThan(1e-7);
    expect(relativeDistance(g.gram, gram)).toBeLessThan(1e-5);
    expect(relativeDistance(g.xty, xty)).toBeLessThan(1e-5);
    for (let i = 0; i < features; i += 97)
      for (let j = 0; j < i; j += 89) expect(g.gram[i * features + j]).toBe(g.gram[j * features + i]);
    expect(g.rows).toBe(rows);
    expect(() => new FeatureGramAccumulator(3, 2, new Float64Array(1))).toThrow(/^yMeans:/);
  });

  it('standardizeGram gives the Gram of fitStandardization’s standardized rows', () => {
    const rows = 60;
    const features = 12;
    const { x, y } = problem(rows, features, 1, 6);
    const g = streamedGram(x, features, features, y, 1, [60]);
    const s = standardizeGram(g);
    const z = x.map((v, i) => (v - s.means[i % features]!) * s.scales[i % features]!);
    for (let j = 0; j < features; j++) {
      let sum = 0;
      let squares = 0;
      for (let r = 0; r < rows; r++) {
        sum += z[r * features + j]!;
        squares += z[r * features + j]! ** 2;
      }
      expect(Math.abs(sum / rows)).toBeLessThan(1e-5);
      expect(squares / rows).toBeCloseTo(1, 5);
      expect(g.gram[j * features + j]! / rows).toBeCloseTo(1, 5);
    }
  });
});

describe('fitRidgeOnGram', () => {
  const cases: [string, number, number, number, RidgeOptions][] = [
    ['Cholesky on the leading block', 200, 40, 30, {}],
    ['CG on the leading block', 200, 40, 30, { solver: 'cg', tolerance: 1e-7, maxIterations: 200 }],
    ['CG with more features than rows', 40, 60, 60, { solver: 'cg', tolerance: 1e-7, maxIterations: 300 }],
  ];
  for (const [name, rows, stride, features, options] of cases) {
    it(`matches an independent Float64 normal-equations solve on the materialized features: ${name}`, () => {
      const targets = 3;
      const lambda = 5;
      const { x, y } = problem(rows, stride, targets, rows + stride);
      const g = streamedGram(x, stride, stride, y, targets, [Math.floor(rows / 3), rows - Math.floor(rows / 3)]);
      const fit = fitRidgeOnGram(g, features, lambda, options);
      const leading = new Float32Array(rows * features);
      for (let r = 0; r < rows; r++) leading.set(x.subarray(r * stride, r * stride + features), r * features);
      const reference = referenceRidge(leading, rows, features, y, targets, lambda);
      expect(relativeDistance(fit.weights, reference.weights)).toBeLessThan(1e-4);
      expect(relativeDistance(fit.bias, reference.bias)).toBeLessThan(1e-3);
      expect(fit.diagnostics?.solver).toBe(options.solver === 'cg' ? 'cg' : 'primal');
    });
  }

  it('names the field at fault', () => {
    const { x, y } = problem(20, 5, 1, 3);
    const g = streamedGram(x, 5, 5, y, 1, [20]);
    expect(() => fitRidgeOnGram(g, 6, 1)).toThrow(/^features:/);
    expect(() => fitRidgeOnGram(g, 5, -1)).toThrow(/^lambda:/);
    expect(() => fitRidgeOnGram(g, 5, 1, { solver: 'qr' as 'cg' })).toThrow(/^options\.solver:/);
  });
});

describe('oneHot and classificationError', () => {
  it('codes labels as {0, 1} rows and counts argmax mistakes', () => {
    const y = oneHot(Uint8Array.of(2, 0), 3);
    expect(Array.from(y)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(classificationError(Float32Array.of(0, 0.1, 0.9, 0.2, 0.8, 0), Uint8Array.of(2, 0), 3)).toBe(0.5);
    expect(() => oneHot(Uint8Array.of(3), 3)).toThrow(/labels\[0\]/);
  });
});

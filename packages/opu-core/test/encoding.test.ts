import { describe, expect, it } from 'vitest';
import {
  BinaryThresholdEncoder,
  type Encoder,
  type FittedEncoder,
  planeWeights,
  SeparatedBitPlaneDecoder,
  SeparatedBitPlaneEncoder,
  SequentialBaseTwoEncoder,
  TernaryEncoder,
  ThermometerEncoder,
} from '../src/encoding/index.js';
import { ArgumentError } from '../src/support/errors.js';

/** mulberry32: a tiny seeded PRNG, so every figure below is reproducible. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Box-Muller over `uniform(seed)`. */
function gaussian(length: number, seed: number): Float32Array {
  const next = uniform(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return out;
}

function column(x: Float32Array, features: number, f: number): number[] {
  return Array.from({ length: x.length / features }, (_, r) => x[r * features + f]!);
}

/** numpy's default (linear) quantile, from a sorted copy. */
function quantile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `a (rows × inner) · b (inner × cols)`, both row-major, in float64. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, inner: number, cols: number): Float64Array {
  const rows = a.length / inner;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < inner; k++) {
      const v = a[r * inner + k]!;
      if (v === 0) continue;
      for (let c = 0; c < cols; c++) out[r * cols + c]! += v * b[k * cols + c]!;
    }
  }
  return out;
}

/** x rounded the way the bit-plane code should: sign-separated, `round(|x| / s · (2^p − 1))` levels of `s`. */
function quantizeRows(x: Float32Array, features: number, p: number, scale: 'row' | 'batch'): Float64Array {
  const top = 2 ** p - 1;
  const rowMax = (r: number) => Math.max(...Array.from(x.subarray(r * features, (r + 1) * features), Math.abs));
  const batchMax = Math.max(...Array.from(x, Math.abs));
  return Float64Array.from(x, (v, i) => {
    const s = scale === 'batch' ? batchMax : rowMax(Math.floor(i / features));
    return s === 0 ? 0 : (Math.sign(v) * Math.round((Math.abs(v) / s) * top) * s) / top;
  });
}

function norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! ** 2;
  return Math.sqrt(sum);
}

function expectArgumentError(call: () => unknown, field: string): void {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ArgumentError);
  expect((caught as ArgumentError).field).toBe(field);
}

describe('BinaryThresholdEncoder', () => {
  it('learns per-feature medians on a hand-checked batch', () => {
    // Feature 0: {1, 5, 3} → 3; feature 1: {10, 30, 20} → 20. Values equal to the median are not above it.
    const x = Float32Array.of(1, 10, 5, 30, 3, 20);
    const encoder = new BinaryThresholdEncoder().fit(x, 2);
    expect(Array.from(encoder.medians!)).toEqual([3, 20]);
    expect(Array.from(encoder.encode(x, 2))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(Array.from(encoder.encode(Float32Array.of(3.5, 19), 2))).toEqual([1, 0]);
  });

  it('averages the two middle values for an even row count', () => {
    const encoder = new BinaryThresholdEncoder().fit(Float32Array.of(4, 1, 3, 2), 1);
    expect(encoder.medians![0]).toBe(2.5);
  });

  it('matches a sorted-copy median on random data', () => {
    for (const rows of [101, 100]) {
      const features = 7;
      const x = gaussian(rows * features, rows);
      const encoder = new BinaryThresholdEncoder().fit(x, features);
      const medians = Array.from({ length: features }, (_, f) => median(column(x, features, f)));
      expect(Array.from(encoder.medians!)).toEqual(medians);
      const expected = Array.from(x, (v, i) => (v > medians[i % features]! ? 1 : 0));
      expect(Array.from(encoder.encode(x, features))).toEqual(expected);
      // Half the values of each feature are above its median (exactly, for an even count of distinct values).
      if (rows % 2 === 0) expect(expected.reduce<number>((a, b) => a + b, 0)).toBe((rows / 2) * features);
    }
  });

  it('uses an explicit threshold without fit', () => {
    const encoder = new BinaryThresholdEncoder({ threshold: 0.5 });
    expect(Array.from(encoder.encode(Float32Array.of(0.2, 0.5, 0.7, -3), 2))).toEqual([0, 0, 1, 0]);
    encoder.fit(Float32Array.of(100, 200), 2);
    expect(encoder.medians).toBeUndefined();
    expect(Array.from(encoder.encode(Float32Array.of(0.6), 1))).toEqual([1]);
  });
});

describe('ThermometerEncoder', () => {
  it('places linspace thresholds strictly inside [min, max] and lays columns out threshold-major', () => {
    // Feature 0 spans [0, 4] → thresholds 1, 2, 3; feature 1 spans [10, 30] → 15, 20, 25.
    const encoder = new ThermometerEncoder({ levels: 4 }).fit(Float32Array.of(0, 30, 4, 10), 2);
    expect(Array.from(encoder.thresholds!)).toEqual([1, 15, 2, 20, 3, 25]);
    // Column t·2 + f: 1.5 exceeds only threshold 0 of feature 0; 26 exceeds all three of feature 1.
    expect(Array.from(encoder.encode(Float32Array.of(1.5, 26, 3.5, 12), 2))).toEqual([
      1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0,
    ]);
  });

  it('counts, per value, the thresholds below it, and quantile thresholds split the data into equal counts', () => {
    const rows = 200;
    const features = 3;
    const levels = 5;
    const x = gaussian(rows * features, 7);
    for (const spacing of ['linspace', 'quantile'] as const) {
      const encoder = new ThermometerEncoder({ levels, spacing }).fit(x, features);
      const thresholds = encoder.thresholds!;
      const out = encoder.encode(x, features);
      const width = features * (levels - 1);
      expect(out.length).toBe(rows * width);
      for (let f = 0; f < features; f++) {
        const values = column(x, features, f);
        const lo = Math.min(...values);
        const hi = Math.max(...values);
        for (let t = 0; t < levels - 1; t++) {
          const expected =
            spacing === 'quantile' ? quantile(values, (t + 1) / levels) : lo + ((t + 1) / levels) * (hi - lo);
          expect(thresholds[t * features + f]).toBeCloseTo(expected, 12);
          let ones = 0;
          for (let r = 0; r < rows; r++) ones += out[r * width + t * features + f]!;
          expect(ones).toBe(values.filter((v) => v > expected).length);
          if (spacing === 'quantile') expect(Math.abs(ones - rows * (1 - (t + 1) / levels))).toBeLessThanOrEqual(1);
        }
        for (let r = 0; r < rows; r++) {
          // A thermometer: the bits of one value never switch back on once off.
          const bits = Array.from({ length: levels - 1 }, (_, t) => out[r * width + t * features + f]!);
          const ones = bits.reduce((a, b) => a + b, 0);
          expect(bits).toEqual(bits.map((_, t) => (t < ones ? 1 : 0)));
        }
      }
    }
  });
});

describe('SequentialBaseTwoEncoder', () => {
  it('repeats bit k of the level 2^k times, feature-major', () => {
    // Range [0, 7] with 3 bits: 5 = 0b101 → bit 0 once, bit 1 twice, bit 2 four times; 2 = 0b010.
    const encoder = new SequentialBaseTwoEncoder({ bits: 3 }).fit(Float32Array.of(0, 7), 2);
    expect(encoder.range).toEqual({ min: 0, max: 7 });
    expect(Array.from(encoder.encode(Float32Array.of(5, 2), 2))).toEqual([
      1, 0, 0, 1, 1, 1, 1, /* feature 1 */ 0, 1, 1, 0, 0, 0, 0,
    ]);
    // Outside the fitted range clips to the end levels.
    expect(Array.from(encoder.encode(Float32Array.of(-3, 9), 2))).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('gives the level as a plain sum and decodes within half a step', () => {
    const rows = 50;
    const features = 4;
    const x = gaussian(rows * features, 11);
    const min = Math.min(...x);
    const max = Math.max(...x);
    for (let bits = 1; bits <= 8; bits++) {
      const top = 2 ** bits - 1;
      const encoder = new SequentialBaseTwoEncoder({ bits }).fit(x, features);
      const code = encoder.encode(x, features);
      expect(code.length).toBe(x.length * top);
      for (let i = 0; i < x.length; i++) {
        const sum = code.subarray(i * top, (i + 1) * top).reduce((a, b) => a + b, 0);
        expect(sum).toBe(Math.round(((x[i]! - min) / (max - min)) * top));
      }
      const decoded = encoder.decode(code, features);
      const halfStep = (max - min) / top / 2;
      for (let i = 0; i < x.length; i++) expect(Math.abs(decoded[i]! - x[i]!)).toBeLessThanOrEqual(halfStep + 1e-6);
      // Real-valued group sums (the code after a linear map) decode the same way: a weight of 0.5 halves the level.
      const halved = encoder.decode(
        Float32Array.from(code, (v) => v * 0.5),
        features,
      );
      for (let i = 0; i < x.length; i++) expect(halved[i]).toBeCloseTo(min + (decoded[i]! - min) / 2, 5);
    }
  });
});

describe('SeparatedBitPlaneEncoder', () => {
  it('writes MSB-first positive then negative planes on a hand-checked row', () => {
    // s = 1, 2 bits: 1 → q⁺ = 3 (11), −0.5 → q⁻ = round(1.5) = 2 (10), 0.25 → q⁺ = round(0.75) = 1 (01).
    const encoded = new SeparatedBitPlaneEncoder({ precisionBits: 2 }).encode(Float32Array.of(1, -0.5, 0.25, 0), 4);
    expect(encoded).toMatchObject({ rows: 1, features: 4, precisionBits: 2 });
    expect(Array.from(encoded.scales)).toEqual([1]);
    expect(Array.from(encoded.planes)).toEqual([1, 0, 0, 0, 1, 0, 1, 0, /* negative */ 0, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('keeps one scale per row, shared under batch scaling, and zero rows all-zero', () => {
    const x = Float32Array.of(0.5, -2, 0, 0, 1, 0.25);
    const byRow = new SeparatedBitPlaneEncoder({ precisionBits: 3, scale: 'row' }).encode(x, 2);
    expect(Array.from(byRow.scales)).toEqual([2, 0, 1]);
    expect(byRow.planes.subarray(6 * 2, 12 * 2).every((b) => b === 0)).toBe(true);
    const byBatch = new SeparatedBitPlaneEncoder({ precisionBits: 3 }).encode(x, 2);
    expect(Array.from(byBatch.scales)).toEqual([2, 2, 2]);
    expect(new SeparatedBitPlaneEncoder({ scale: 'row' }).encode(new Float32Array(3), 3).planes.some((b) => b)).toBe(
      false,
    );
  });

  it('has plane weights 2^(p−1−b) / (2^p − 1)', () => {
    expect(Array.from(planeWeights(3))).toEqual([4 / 7, 2 / 7, 1 / 7]);
    expect(new SeparatedBitPlaneEncoder().precisionBits).toBe(6);
  });

  it('decodes a linear map of the planes to exactly that map of the quantized rows', () => {
    const rows = 6;
    const features = 64;
    const outputs = 16;
    const x = gaussian(rows * features, 3);
    x.fill(0, features, 2 * features);
    const w = gaussian(features * outputs, 4);
    for (const scale of ['row', 'batch'] as const) {
      for (const precisionBits of [1, 3, 6, 16]) {
        const encoded = new SeparatedBitPlaneEncoder({ precisionBits, scale }).encode(x, features);
        const y = Float32Array.from(matmul(encoded.planes, w, features, outputs));
        const decoded = new SeparatedBitPlaneDecoder().decode(y, encoded, outputs);
        const expected = matmul(quantizeRows(x, features, precisionBits, scale), w, features, outputs);
        const tolerance = 1e-5 * norm(expected);
        for (let i = 0; i < expected.length; i++) expect(Math.abs(decoded[i]! - expected[i]!)).toBeLessThan(tolerance);
      }
    }
  });

  it('round-trips a Gaussian linear map within the reference errors, lower with per-row scaling', () => {
    const rows = 200;
    const features = 1024;
    const outputs = 256;
    // Under batch scaling the step, hence the error, is proportional to the batch's max |x|: this seed's is 4.68,
    // typical of 204,800 draws (an unlucky 5.4 raises every batch figure by about 15%).
    const x = gaussian(rows * features, 1);
    const w = gaussian(features * outputs, 2);
    const exact = matmul(x, w, features, outputs);
    const reference = new Map([
      [2, 0.46],
      [4, 0.091],
      [6, 0.022],
      [8, 0.0055],
    ]);
    for (const [precisionBits, figure] of reference) {
      const errors = (['batch', 'row'] as const).map((scale) => {
        const encoded = new SeparatedBitPlaneEncoder({ precisionBits, scale }).encode(x, features);
        const y = Float32Array.from(matmul(encoded.planes, w, features, outputs));
        const decoded = new SeparatedBitPlaneDecoder().decode(y, encoded, outputs);
        return norm(decoded.map((v, i) => v - exact[i]!)) / norm(exact);
      });
      const [batch, row] = errors as [number, number];
      expect(batch).toBeGreaterThan(figure * 0.8);
      expect(batch).toBeLessThan(figure * 1.2);
      expect(row).toBeLessThan(batch);
    }
  });
});

describe('TernaryEncoder', () => {
  it('zeroes magnitudes at or below a fraction of the row max and keeps signs above it', () => {
    const x = Float32Array.of(1, -0.05, 0.2, -0.5, 0.09, 10, -0.5, 2, -5, 0.9, 0, 0, 0, 0, 0);
    const out = new TernaryEncoder().encode(x, 5);
    expect(Array.from(out)).toEqual([1, 0, 1, -1, 0, 1, 0, 1, -1, 0, 0, 0, 0, 0, 0]);
    const strict = new TernaryEncoder({ threshold: 0.4 }).encode(x, 5);
    expect(Array.from(strict)).toEqual([1, 0, 0, -1, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 0]);
  });

  it('uses the threshold as is with relativeTo absolute', () => {
    const x = Float32Array.of(1, -0.05, 0.2, -0.5, 0.09, 10, -0.5, 2, -5, 0.9);
    const out = new TernaryEncoder({ threshold: 0.3, relativeTo: 'absolute' }).encode(x, 5);
    expect(Array.from(out)).toEqual([1, 0, 0, -1, 0, 1, -1, 1, -1, 1]);
  });

  it('matches sign(x)·[|x| > t·max|x_r|] on random rows', () => {
    const features = 33;
    const x = gaussian(20 * features, 5);
    const out = new TernaryEncoder({ threshold: 0.5 }).encode(x, features);
    for (let r = 0; r < 20; r++) {
      const row = Array.from(x.subarray(r * features, (r + 1) * features));
      const cutoff = 0.5 * Math.max(...row.map(Math.abs));
      const expected = row.map((v) => (Math.abs(v) > cutoff ? Math.sign(v) : 0));
      expect(Array.from(out.subarray(r * features, (r + 1) * features))).toEqual(expected);
      // The row's largest magnitude always survives.
      expect(expected.some((v) => v !== 0)).toBe(true);
    }
  });
});

describe('Encoder', () => {
  it('is what every encoder is: one encode(x, features) per code, after fit for the fitted ones', () => {
    const x = Float32Array.of(-1, 0.25, 2, 0.5, -0.75, 1);
    const fitted: FittedEncoder[] = [
      new BinaryThresholdEncoder(),
      new ThermometerEncoder({ levels: 3 }),
      new SequentialBaseTwoEncoder({ bits: 2 }),
    ];
    const widths = fitted.map((encoder) => encoder.fit(x, 2).encode(x, 2).length / x.length);
    expect(widths).toEqual([1, 2, 3]);
    const planes: Encoder<{ planes: Uint8Array }> = new SeparatedBitPlaneEncoder({ precisionBits: 2 });
    expect(planes.encode(x, 2).planes.length).toBe(x.length * 2 * 2);
    const ternary: Encoder<Int8Array> = new TernaryEncoder();
    expect(Array.from(ternary.encode(x, 2))).toEqual([-1, 1, 1, 1, -1, 1]);
  });
});

describe('bad input', () => {
  const batch = Float32Array.of(1, 2, 3, 4, 5, 6);

  it('rejects lengths that are not rows × features, and bad feature counts', () => {
    expectArgumentError(() => new BinaryThresholdEncoder().fit(batch, 4), 'x');
    expectArgumentError(() => new ThermometerEncoder({ levels: 3 }).fit(batch, 5), 'x');
    expectArgumentError(() => new SequentialBaseTwoEncoder({ bits: 2 }).fit(batch, 4), 'x');
    expectArgumentError(() => new SeparatedBitPlaneEncoder().encode(batch, 4), 'x');
    expectArgumentError(() => new TernaryEncoder().encode(batch, 4), 'x');
    expectArgumentError(() => new TernaryEncoder().encode(batch, 0), 'features');
    expectArgumentError(() => new TernaryEncoder().encode(batch, 1.5), 'features');
    expectArgumentError(() => new BinaryThresholdEncoder().fit(new Float32Array(0), 3), 'x');
  });

  it('names the NaN or Infinity by row and column', () => {
    const nan = Float32Array.of(1, 2, 3, 4, Number.NaN, 6);
    const inf = Float32Array.of(1, 2, Number.POSITIVE_INFINITY, 4, 5, 6);
    expectArgumentError(() => new BinaryThresholdEncoder().fit(nan, 3), 'x[1][1]');
    expectArgumentError(() => new BinaryThresholdEncoder({ threshold: 0 }).encode(inf, 3), 'x[0][2]');
    expectArgumentError(() => new ThermometerEncoder({ levels: 3 }).fit(inf, 2), 'x[1][0]');
    expectArgumentError(() => new SequentialBaseTwoEncoder({ bits: 2 }).fit(nan, 2), 'x[2][0]');
    expectArgumentError(() => new SeparatedBitPlaneEncoder().encode(inf, 3), 'x[0][2]');
    expectArgumentError(() => new TernaryEncoder().encode(nan, 3), 'x[1][1]');
    expectArgumentError(() => new TernaryEncoder().encode(inf, 6), 'x[0][2]');
  });

  it('rejects out-of-range options', () => {
    expectArgumentError(() => new BinaryThresholdEncoder({ threshold: Number.NaN }), 'options.threshold');
    expectArgumentError(() => new ThermometerEncoder({ levels: 1 }), 'options.levels');
    expectArgumentError(() => new ThermometerEncoder({ levels: 2.5 }), 'options.levels');
    expectArgumentError(() => new ThermometerEncoder({ levels: 3, spacing: 'log' as 'quantile' }), 'options.spacing');
    expectArgumentError(() => new SequentialBaseTwoEncoder({ bits: 0 }), 'options.bits');
    expectArgumentError(() => new SequentialBaseTwoEncoder({ bits: 9 }), 'options.bits');
    expectArgumentError(() => new SeparatedBitPlaneEncoder({ precisionBits: 0 }), 'options.precisionBits');
    expectArgumentError(() => new SeparatedBitPlaneEncoder({ precisionBits: 17 }), 'options.precisionBits');
    expectArgumentError(() => new SeparatedBitPlaneEncoder({ scale: 'column' as 'row' }), 'options.scale');
    expectArgumentError(() => planeWeights(0), 'precisionBits');
    expectArgumentError(() => new TernaryEncoder({ threshold: -0.1 }), 'options.threshold');
    expectArgumentError(() => new TernaryEncoder({ threshold: Number.POSITIVE_INFINITY }), 'options.threshold');
    expectArgumentError(() => new TernaryEncoder({ threshold: 1.5 }), 'options.threshold');
    expectArgumentError(() => new TernaryEncoder({ relativeTo: 'mean' as 'absolute' }), 'options.relativeTo');
    expect(new TernaryEncoder({ threshold: 1.5, relativeTo: 'absolute' }).threshold).toBe(1.5);
  });

  it('rejects encode or decode before fit, and a feature count other than the fitted one', () => {
    expectArgumentError(() => new BinaryThresholdEncoder().encode(batch, 2), 'BinaryThresholdEncoder.medians');
    expectArgumentError(() => new ThermometerEncoder({ levels: 3 }).encode(batch, 2), 'ThermometerEncoder.thresholds');
    expectArgumentError(
      () => new SequentialBaseTwoEncoder({ bits: 2 }).encode(batch, 2),
      'SequentialBaseTwoEncoder.range',
    );
    expectArgumentError(
      () => new SequentialBaseTwoEncoder({ bits: 2 }).decode(new Uint8Array(6), 2),
      'SequentialBaseTwoEncoder.range',
    );
    expectArgumentError(() => new BinaryThresholdEncoder().fit(batch, 2).encode(batch, 3), 'features');
    expectArgumentError(() => new ThermometerEncoder({ levels: 3 }).fit(batch, 2).encode(batch, 3), 'features');
  });

  it('rejects decoder inputs whose shape does not match the planes', () => {
    const sequential = new SequentialBaseTwoEncoder({ bits: 2 }).fit(batch, 2);
    expectArgumentError(() => sequential.decode(new Uint8Array(7), 2), 'bits');
    expectArgumentError(() => sequential.decode(new Uint8Array(6), 0), 'features');
    const encoded = new SeparatedBitPlaneEncoder({ precisionBits: 2 }).encode(batch, 3);
    const decoder = new SeparatedBitPlaneDecoder();
    expectArgumentError(() => decoder.decode(new Float32Array(2 * 4 * 5 + 1), encoded, 5), 'y');
    expectArgumentError(() => decoder.decode(new Float32Array(2 * 3 * 5), encoded, 5), 'y');
    expectArgumentError(() => decoder.decode(new Float32Array(2 * 4 * 5), encoded, 0), 'outputs');
    expectArgumentError(
      () => decoder.decode(new Float32Array(2 * 4 * 5), { ...encoded, scales: new Float32Array(1) }, 5),
      'planes.scales',
    );
    expectArgumentError(
      () => decoder.decode(Float32Array.of(Number.NaN, ...new Float32Array(39)), encoded, 5),
      'y[0][0]',
    );
  });
});

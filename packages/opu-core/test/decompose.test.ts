import { describe, expect, it } from 'vitest';
import { SeparatedBitPlaneEncoder } from '../src/encoding/separated-bit-planes.js';
import {
  type BinaryPieces,
  countPieceFrames,
  decomposeInPasses,
  decompositionBytesPerRow,
  type ProjectionEncoding,
  planDecomposition,
} from '../src/measure/decompose.js';
import { ArgumentError } from '../src/support/errors.js';
import { caughtSync, gaussians } from './helpers/fake-device.js';

/** Every piece of the batch, passes concatenated (copied: a pass's buffers are reused by the next). */
interface AllPieces {
  vectors: Uint8Array;
  weights: Float64Array;
  rows: Int32Array;
  count: number;
  encoding: 'ternary' | 'bitplanes';
  maxPiecesPerRow: number;
}

function decompose(
  x: Float32Array,
  features: number,
  encoding: ProjectionEncoding,
  precisionBits: number,
  rowsPerPass = x.length / features,
): AllPieces {
  const plan = planDecomposition(x, features, encoding, precisionBits);
  const vectors: number[] = [];
  const weights: number[] = [];
  const rows: number[] = [];
  for (const pass of decomposeInPasses(x, plan, rowsPerPass)) {
    vectors.push(...pass.vectors.subarray(0, pass.count * features));
    weights.push(...pass.weights.subarray(0, pass.count));
    rows.push(...pass.rows.subarray(0, pass.count));
  }
  return {
    vectors: Uint8Array.from(vectors),
    weights: Float64Array.from(weights),
    rows: Int32Array.from(rows),
    count: weights.length,
    encoding: plan.encoding,
    maxPiecesPerRow: plan.maxPiecesPerRow,
  };
}

/**
 * The decomposition as the SDK computed it before passes (one batch, every piece at once), written out plainly: the
 * passes must reproduce it bit for bit.
 */
function referenceDecompose(
  x: Float32Array,
  features: number,
  precisionBits: number,
): Omit<AllPieces, 'maxPiecesPerRow'> {
  const rowCount = x.length / features;
  const levels: [number, number][] = [];
  for (let r = 0; r < rowCount; r++) {
    let a = 0;
    let b = 0;
    let ternary = true;
    for (const v of x.subarray(r * features, (r + 1) * features)) {
      if (v > 0 && a === 0) a = v;
      else if (v > 0 && Math.abs(v - a) > 1e-6 * a) ternary = false;
      if (v < 0 && b === 0) b = -v;
      else if (v < 0 && Math.abs(-v - b) > 1e-6 * b) ternary = false;
    }
    if (ternary) levels.push([a, b]);
  }
  const vectors: number[] = [];
  const weights: number[] = [];
  const rows: number[] = [];
  const keep = (bits: number[], weight: number, row: number) => {
    if (weight === 0 || !bits.includes(1)) return;
    vectors.push(...bits);
    weights.push(weight);
    rows.push(row);
  };
  const ternary = levels.length === rowCount;
  const top = 2 ** precisionBits - 1;
  for (let r = 0; r < rowCount; r++) {
    const row = Array.from(x.subarray(r * features, (r + 1) * features));
    if (ternary) {
      keep(
        row.map((v) => (v > 0 ? 1 : 0)),
        levels[r]![0],
        r,
      );
      keep(
        row.map((v) => (v < 0 ? 1 : 0)),
        -levels[r]![1],
        r,
      );
      continue;
    }
    const s = Math.max(...row.map(Math.abs));
    const q = row.map((v) => (s === 0 ? 0 : Math.round((Math.abs(v) / s) * top)));
    for (let b = 0; b < precisionBits; b++) {
      const w = s * (2 ** (precisionBits - 1 - b) / top); // the scale times the plane's weight
      const bit = (j: number) => (q[j]! >> (precisionBits - 1 - b)) & 1;
      keep(
        row.map((v, j) => (v > 0 ? bit(j) : 0)),
        w,
        r,
      );
      keep(
        row.map((v, j) => (v < 0 ? bit(j) : 0)),
        -w,
        r,
      );
    }
  }
  return {
    vectors: Uint8Array.from(vectors),
    weights: Float64Array.from(weights),
    rows: Int32Array.from(rows),
    count: weights.length,
    encoding: ternary ? 'ternary' : 'bitplanes',
  };
}

/** Σ_p weight_p · vector_p for each row, in float64. */
function reconstruct(pieces: AllPieces, rows: number, features: number): Float64Array {
  const out = new Float64Array(rows * features);
  for (let p = 0; p < pieces.count; p++) {
    const row = pieces.rows[p]!;
    for (let j = 0; j < features; j++)
      out[row * features + j]! += pieces.weights[p]! * pieces.vectors[p * features + j]!;
  }
  return out;
}

/** Every piece is a non-empty 0/1 vector with a non-zero weight, listed row by row, at most maxPiecesPerRow a row. */
function expectWellFormed(pieces: AllPieces, rows: number, features: number): void {
  expect(pieces.vectors.length).toBe(pieces.count * features);
  expect(pieces.weights.length).toBe(pieces.count);
  expect(pieces.rows.length).toBe(pieces.count);
  const perRow = new Array<number>(rows).fill(0);
  for (let p = 0; p < pieces.count; p++) {
    const v = pieces.vectors.subarray(p * features, (p + 1) * features);
    expect(v.every((b) => b === 0 || b === 1)).toBe(true);
    expect(v.some((b) => b === 1)).toBe(true);
    expect(pieces.weights[p]).not.toBe(0);
    expect(pieces.rows[p]).toBeGreaterThanOrEqual(0);
    expect(pieces.rows[p]).toBeLessThan(rows);
    if (p > 0) expect(pieces.rows[p]).toBeGreaterThanOrEqual(pieces.rows[p - 1]!);
    perRow[pieces.rows[p]!]!++;
  }
  expect(Math.max(0, ...perRow)).toBeLessThanOrEqual(pieces.maxPiecesPerRow);
}

function randomTernary(rows: number, features: number, seed: number): Float32Array {
  const g = gaussians(rows * (features + 1), seed);
  const x = new Float32Array(rows * features);
  for (let r = 0; r < rows; r++) {
    const a = Math.exp(g[rows * features + r]!);
    for (let j = 0; j < features; j++) {
      const t = g[r * features + j]!;
      x[r * features + j] = t > 0.5 ? a : t < -0.5 ? -a : 0;
    }
  }
  return x;
}

describe('decompose: ternary rows', () => {
  it('detects rows a·{−1, 0, 1}, zero rows included, and splits each into at most two pieces', () => {
    const x = Float32Array.of(0.5, -0.5, 0, 0.5, /**/ 0, 0, 0, 0, /**/ -2, 0, 0, 0, /**/ 3, 3, 3, 3);
    for (const encoding of ['auto', 'ternary'] as const) {
      const pieces = decompose(x, 4, encoding, 8);
      expect(pieces.encoding).toBe('ternary');
      expectWellFormed(pieces, 4, 4);
      expect(Array.from(pieces.rows)).toEqual([0, 0, 2, 3]);
      expect(Array.from(pieces.weights)).toEqual([0.5, -0.5, -2, 3]);
      expect(Array.from(pieces.vectors)).toEqual([1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]);
      expect(pieces.maxPiecesPerRow).toBe(2);
      expect(reconstruct(pieces, 4, 4)).toEqual(Float64Array.from(x));
    }
  });

  it('reconstructs random ternary rows exactly', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rows = 1 + (seed % 5);
      const features = 3 + seed;
      const x = randomTernary(rows, features, seed);
      const pieces = decompose(x, features, 'auto', 6);
      expect(pieces.encoding).toBe('ternary');
      expectWellFormed(pieces, rows, features);
      expect(pieces.maxPiecesPerRow).toBeLessThanOrEqual(2);
      expect(reconstruct(pieces, rows, features)).toEqual(Float64Array.from(x));
    }
  });

  it('takes an all-zero batch as ternary with no pieces', () => {
    const pieces = decompose(new Float32Array(12), 4, 'auto', 8);
    expect(pieces.encoding).toBe('ternary');
    expect(pieces.count).toBe(0);
    expect(pieces.vectors.length).toBe(0);
  });

  it("rejects 'ternary' on a non-ternary row, naming it", () => {
    const x = Float32Array.of(1, -1, 0, /**/ 0, 0, 0, /**/ 1, 0.5, 0, /**/ 0.1, 0.2, 0.3);
    const error = caughtSync(() => decompose(x, 3, 'ternary', 8)) as ArgumentError;
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.field).toBe('e[2]');
    expect(error.fix).toMatch(/bitplanes/);
    expect(error.message).toMatch(/not ternary/);
  });

  it("falls back to bit planes for the whole batch under 'auto' when one row is not ternary", () => {
    const x = Float32Array.of(1, -1, 0, /**/ 1, 0.5, 0);
    const pieces = decompose(x, 3, 'auto', 4);
    expect(pieces.encoding).toBe('bitplanes');
    expectWellFormed(pieces, 2, 3);
  });
});

describe('decompose: bit planes', () => {
  it('keeps only the non-empty planes of a hand-made row', () => {
    // p = 4, 15 levels, scale 0.5: 0.5 → 15 = 1111₂, 0.25 → round(7.5) = 8 = 1000₂; no negative entries.
    const pieces = decompose(Float32Array.of(0.5, 0.25, 0, 0), 4, 'bitplanes', 4);
    expect(pieces.encoding).toBe('bitplanes');
    expectWellFormed(pieces, 1, 4);
    expect(pieces.count).toBe(4);
    expect(Array.from(pieces.weights)).toEqual([8 / 30, 4 / 30, 2 / 30, 1 / 30]);
    expect(Array.from(pieces.vectors)).toEqual([1, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    const back = reconstruct(pieces, 1, 4);
    expect(back[0]).toBeCloseTo(0.5, 15);
    expect(back[1]).toBeCloseTo(8 / 30, 15);
    // 0.25 sits exactly half a step from both neighbours: the error is exactly the bound.
    expect(Math.abs(back[1]! - 0.25)).toBeLessThanOrEqual((0.5 / 15 / 2) * 1.0001);
  });

  it('reconstructs real rows within half a quantization step of each row’s own scale', () => {
    let seed = 50;
    for (const precision of [1, 2, 3, 4, 6, 8, 12, 16]) {
      const rows = 5;
      const features = 37;
      const g = gaussians(rows * features, seed++);
      const x = new Float32Array(rows * features);
      // Rows of very different magnitudes, one all-zero, one all-positive: each is quantized against its own max.
      const magnitudes = [1, 1e-4, 0, 250, 3];
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < features; j++) {
          const v = g[r * features + j]! * magnitudes[r]!;
          x[r * features + j] = r === 4 ? Math.abs(v) : v;
        }
      }
      const pieces = decompose(x, features, 'auto', precision);
      expect(pieces.encoding).toBe('bitplanes');
      expectWellFormed(pieces, rows, features);
      expect(pieces.maxPiecesPerRow).toBeLessThanOrEqual(2 * precision);
      const back = reconstruct(pieces, rows, features);
      for (let r = 0; r < rows; r++) {
        let scale = 0;
        for (let j = 0; j < features; j++) scale = Math.max(scale, Math.abs(x[r * features + j]!));
        const bound = (scale / (2 ** precision - 1) / 2) * 1.0001;
        for (let j = 0; j < features; j++) {
          const i = r * features + j;
          expect(Math.abs(back[i]! - x[i]!), `p=${precision} row ${r} entry ${j}`).toBeLessThanOrEqual(bound);
        }
      }
      // The zero row has no pieces; the all-positive row has no negative pieces.
      expect(Array.from(pieces.rows).includes(2)).toBe(false);
      for (let p = 0; p < pieces.count; p++) if (pieces.rows[p] === 4) expect(pieces.weights[p]).toBeGreaterThan(0);
    }
  });

  it('uses bit planes when asked, even for ternary rows, and reconstructs them exactly', () => {
    const x = Float32Array.of(0.75, -0.75, 0, 0.75);
    const pieces = decompose(x, 4, 'bitplanes', 3);
    expect(pieces.encoding).toBe('bitplanes');
    expectWellFormed(pieces, 1, 4);
    // |x| = scale everywhere it is non-zero, so only the planes of 7 = 111₂ appear: 3 positive + 3 negative.
    expect(pieces.count).toBe(6);
    const back = reconstruct(pieces, 1, 4);
    for (let j = 0; j < 4; j++) expect(back[j]).toBeCloseTo(x[j]!, 14);
  });
});

describe('decompose: two-level ternary rows', () => {
  it('takes the fast path for a·t⁺ − b·t⁻ with different magnitudes per sign, exactly', () => {
    const x = Float32Array.of(0.5, -0.2, 0, 0.5, -0.2, 0, 0, 0.3, -0.3, 0);
    const pieces = decompose(x, 5, 'auto', 8);
    expect(pieces.encoding).toBe('ternary');
    expect(pieces.count).toBe(4);
    const back = new Float64Array(10);
    for (let p = 0; p < pieces.count; p++) {
      for (let j = 0; j < 5; j++) back[pieces.rows[p]! * 5 + j]! += pieces.weights[p]! * pieces.vectors[p * 5 + j]!;
    }
    for (let i = 0; i < 10; i++) expect(back[i]).toBeCloseTo(x[i]!, 6);
    expect(decompose(Float32Array.of(0.5, 0.4, -0.2), 3, 'auto', 8).encoding).toBe('bitplanes');
  });
});

/** Real rows whose max |x| runs over the float32 range, from subnormal to its maximum, zero included. */
function mixedRows(rows: number, features: number, seed: number): Float32Array {
  const g = gaussians(rows * features, seed);
  const magnitudes = [1, 3e38, 1e-40, 0, 250, 1e-4, 3.4e38];
  const x = new Float32Array(rows * features);
  for (let r = 0; r < rows; r++) {
    const row = g.subarray(r * features, (r + 1) * features);
    const max = Math.max(...row.map(Math.abs));
    for (let j = 0; j < features; j++) x[r * features + j] = (row[j]! / max) * magnitudes[r % magnitudes.length]!;
  }
  return x;
}

describe('decompose: pass by pass', () => {
  it('gives the pieces of the one-batch decomposition bit for bit, whatever the pass size', () => {
    let seed = 100;
    for (const precision of [1, 4, 8, 16]) {
      const batches = [mixedRows(9, 13, seed++), randomTernary(7, 11, seed++), new Float32Array(3 * 5)];
      for (const x of batches) {
        const features = x.length === 15 ? 5 : x.length / (x.length === 117 ? 9 : 7);
        const expected = referenceDecompose(x, features, precision);
        for (const rowsPerPass of [1, 2, 3, 7, 1000]) {
          const pieces = decompose(x, features, 'auto', precision, rowsPerPass);
          const label = `p=${precision} features=${features} rowsPerPass=${rowsPerPass}`;
          expect(pieces.encoding, label).toBe(expected.encoding);
          expect(pieces.count, label).toBe(expected.count);
          expect(pieces.rows, label).toEqual(expected.rows);
          expect(pieces.weights, label).toEqual(expected.weights);
          expect(pieces.vectors, label).toEqual(expected.vectors);
        }
      }
    }
  });

  it('holds one pass of pieces at a time, in buffers it reuses, within its stated bytes per row', () => {
    const features = 16;
    const x = mixedRows(20, features, 7);
    const plan = planDecomposition(x, features, 'auto', 8);
    let buffers: BinaryPieces | undefined;
    let rowsSeen = 0;
    for (const pass of decomposeInPasses(x, plan, 3)) {
      buffers ??= { ...pass };
      expect(pass.vectors).toBe(buffers.vectors);
      expect(pass.weights).toBe(buffers.weights);
      expect(pass.firstRow).toBe(rowsSeen);
      rowsSeen = pass.endRow;
      expect(pass.endRow - pass.firstRow).toBeLessThanOrEqual(3);
    }
    expect(rowsSeen).toBe(20);
    const held = buffers!.vectors.byteLength + buffers!.weights.byteLength + buffers!.rows.byteLength;
    expect(held).toBe(3 * plan.maxPiecesPerRow * (features + 12));
    // The bit-plane encoder's planes sit beside the pieces.
    expect(3 * decompositionBytesPerRow(plan)).toBe(held + 3 * plan.maxPiecesPerRow * features);
  });

  it("takes the 'auto' decision for the whole batch before the first pass", () => {
    // Ternary rows first, a real row last: even one-row passes encode every row as bit planes.
    const x = Float32Array.of(1, -1, 0, /**/ 0.5, 0, 0.5, /**/ 1, 0.5, 0);
    const pieces = decompose(x, 3, 'auto', 8, 1);
    expect(pieces.encoding).toBe('bitplanes');
    expect(Array.from(pieces.rows).filter((r) => r === 0)).toHaveLength(16);
    const error = caughtSync(() => decompose(x, 3, 'ternary', 8, 1)) as ArgumentError;
    expect(error.field).toBe('e[2]');
  });

  it('counts the pieces a progress bar plans for', () => {
    const x = mixedRows(12, 9, 8);
    for (const encoding of ['auto', 'bitplanes'] as const) {
      const plan = planDecomposition(x, 9, encoding, 6);
      for (const rowsPerPass of [1, 5, 12]) {
        expect(countPieceFrames(x, plan, rowsPerPass, () => 1)).toBe(referenceDecompose(x, 9, 6).count);
      }
    }
  });

  it('encodes bit planes into a reused buffer exactly as into a new one', () => {
    const encoder = new SeparatedBitPlaneEncoder({ precisionBits: 5, scale: 'row' });
    const x = mixedRows(4, 6, 9);
    const into = new Uint8Array(4 * 2 * 5 * 6 + 3).fill(1);
    expect(encoder.encode(x, 6, into)).toEqual(encoder.encode(x, 6));
    const error = caughtSync(() => encoder.encode(x, 6, new Uint8Array(10))) as ArgumentError;
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.field).toBe('into');
  });
});

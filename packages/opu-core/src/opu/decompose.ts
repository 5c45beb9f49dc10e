import { planeWeights, SeparatedBitPlaneEncoder } from '../encoding/separated-bit-planes.js';
import { ArgumentError } from '../errors.js';

/** Binary vectors whose weighted sum is the batch: `Σ_p weight_p · vector_p` gives row `row_p`. */
export interface BinaryPieces {
  /** pieces × features, 0/1. */
  vectors: Uint8Array;
  weights: Float64Array;
  rows: Int32Array;
  count: number;
  encoding: 'ternary' | 'bitplanes';
  /** Most pieces any row needed: 2 for ternary rows, up to 2·precision for bit planes. */
  maxPiecesPerRow: number;
}

export type ProjectionEncoding = 'auto' | 'ternary' | 'bitplanes';

/**
 * The two magnitudes of a row whose positive entries all equal a and negative entries all equal −b: the row is
 * a·t⁺ − b·t⁻ with t± binary, two pieces. Undefined when the row has more levels.
 */
function signedLevels(x: Float32Array, start: number, features: number): [number, number] | undefined {
  let a = 0;
  let b = 0;
  for (let j = start; j < start + features; j++) {
    const v = x[j]!;
    if (v > 0) {
      if (a === 0) a = v;
      else if (Math.abs(v - a) > 1e-6 * a) return undefined;
    } else if (v < 0) {
      if (b === 0) b = -v;
      else if (Math.abs(-v - b) > 1e-6 * b) return undefined;
    }
  }
  return [a, b];
}

/**
 * Splits real rows into binary vectors that a DMD can show. Ternary rows a·t⁺ − b·t⁻ (one magnitude per sign) need
 * two pieces (the fast path for DFA errors); other rows use separated bit planes, 2·precision pieces, with a per-row scale.
 * All-zero pieces are dropped: they cost frames and contribute nothing.
 */
export function decompose(
  x: Float32Array,
  features: number,
  encoding: ProjectionEncoding,
  precisionBits: number,
): BinaryPieces {
  const rows = x.length / features;
  const levels = new Float64Array(2 * rows);
  let ternary = encoding !== 'bitplanes';
  for (let r = 0; r < rows && ternary; r++) {
    const ab = signedLevels(x, r * features, features);
    if (ab === undefined) {
      if (encoding === 'ternary') {
        throw new ArgumentError('row is not ternary (its entries of one sign differ in magnitude)', {
          field: `e[${r}]`,
          fix: "ternarize the error first (TernaryEncoder) or use encoding: 'bitplanes' or 'auto'",
        });
      }
      ternary = false;
    } else levels.set(ab, 2 * r);
  }
  const vectors: number[][] = [];
  const weights: number[] = [];
  const owners: number[] = [];
  const keep = (bits: Uint8Array, start: number, weight: number, row: number) => {
    const v = bits.subarray(start, start + features);
    if (weight === 0 || !v.some((b) => b !== 0)) return;
    vectors.push(Array.from(v));
    weights.push(weight);
    owners.push(row);
  };
  if (ternary) {
    const pos = new Uint8Array(features);
    const neg = new Uint8Array(features);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < features; j++) {
        const v = x[r * features + j]!;
        pos[j] = v > 0 ? 1 : 0;
        neg[j] = v < 0 ? 1 : 0;
      }
      keep(pos, 0, levels[2 * r]!, r);
      keep(neg, 0, -levels[2 * r + 1]!, r);
    }
  } else {
    const planes = new SeparatedBitPlaneEncoder({ precisionBits, scale: 'row' }).encode(x, features);
    const p = precisionBits;
    const weightOf = planeWeights(p);
    for (let r = 0; r < rows; r++) {
      const s = planes.scales[r]!;
      for (let b = 0; b < p; b++) {
        const w = s * weightOf[b]!;
        keep(planes.planes, (r * 2 * p + b) * features, w, r);
        keep(planes.planes, (r * 2 * p + p + b) * features, -w, r);
      }
    }
  }
  const count = weights.length;
  const flat = new Uint8Array(count * features);
  for (const [i, v] of vectors.entries()) flat.set(v, i * features);
  let maxPiecesPerRow = 0;
  const perRow = new Int32Array(rows);
  for (const r of owners) maxPiecesPerRow = Math.max(maxPiecesPerRow, ++perRow[r]!);
  return {
    vectors: flat,
    weights: Float64Array.from(weights),
    rows: Int32Array.from(owners),
    count,
    encoding: ternary ? 'ternary' : 'bitplanes',
    maxPiecesPerRow,
  };
}

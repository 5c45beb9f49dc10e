import { planeWeights, SeparatedBitPlaneEncoder } from '../encoding/separated-bit-planes.js';
import { ArgumentError } from '../support/errors.js';

export type ProjectionEncoding = 'auto' | 'ternary' | 'bitplanes';

/** How a whole batch splits into binary pieces, decided once so that every pass of the batch agrees. */
export interface Decomposition {
  encoding: 'ternary' | 'bitplanes';
  features: number;
  precisionBits: number;
  /** Most pieces one row can need: 2 for a ternary row, 2·precision for bit planes. */
  maxPiecesPerRow: number;
  /** For a ternary batch, each row's two magnitudes a and b (row r: a·t⁺ − b·t⁻), found while choosing. */
  levels?: Float64Array;
}

/**
 * Binary vectors whose weighted sum is rows [firstRow, endRow) of the batch: `Σ_p weight_p · vector_p` over the
 * pieces with `rows[p] = r` gives row r. Pieces come row by row.
 */
export interface BinaryPieces {
  firstRow: number;
  endRow: number;
  /** count × features, 0/1. */
  vectors: Uint8Array;
  weights: Float64Array;
  /** The batch row of each piece. */
  rows: Int32Array;
  count: number;
}

/**
 * Chooses the encoding of the whole batch: ternary when every row is a·t⁺ − b·t⁻ (one magnitude per sign, t±
 * binary: the fast path for DFA errors, two pieces per row), separated bit planes with a per-row scale otherwise.
 * Decided before any piece is measured, so that a non-ternary last row cannot switch a batch half-way.
 */
export function planDecomposition(
  x: Float32Array,
  features: number,
  encoding: ProjectionEncoding,
  precisionBits: number,
): Decomposition {
  const levels = encoding === 'bitplanes' ? undefined : ternaryLevels(x, features, encoding === 'ternary');
  if (levels) return { encoding: 'ternary', features, precisionBits, maxPiecesPerRow: 2, levels };
  return { encoding: 'bitplanes', features, precisionBits, maxPiecesPerRow: 2 * precisionBits };
}

/**
 * Each row's two magnitudes when every row has one magnitude per sign, else undefined; with `required`, a row that
 * has more is an error naming it. 16 bytes a row, against the row's own 4 per feature.
 */
function ternaryLevels(x: Float32Array, features: number, required: boolean): Float64Array | undefined {
  const rows = x.length / features;
  const levels = new Float64Array(2 * rows);
  for (let r = 0; r < rows; r++) {
    const ab = signedLevels(x, r * features, features);
    if (ab !== undefined) {
      levels.set(ab, 2 * r);
      continue;
    }
    if (!required) return undefined;
    throw new ArgumentError('row is not ternary (its entries of one sign differ in magnitude)', {
      field: `e[${r}]`,
      fix: "ternarize the error first (TernaryEncoder) or use encoding: 'bitplanes' or 'auto'",
    });
  }
  return levels;
}

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

/** Bytes that decomposing one row holds at most: its pieces, and for bit planes the encoder's planes beside them. */
export function decompositionBytesPerRow(plan: Decomposition): number {
  const vectorBytes = plan.encoding === 'bitplanes' ? 2 * plan.features : plan.features;
  return plan.maxPiecesPerRow * (vectorBytes + Float64Array.BYTES_PER_ELEMENT + Int32Array.BYTES_PER_ELEMENT);
}

/**
 * Splits the batch into binary pieces `rowsPerPass` rows at a time. Every pass reuses the same buffers, so the
 * batch never holds more than one pass of pieces: consume a pass before asking for the next. All-zero pieces are
 * dropped: they cost frames and contribute nothing.
 */
export function* decomposeInPasses(x: Float32Array, plan: Decomposition, rowsPerPass: number): Generator<BinaryPieces> {
  const rows = x.length / plan.features;
  const capacity = Math.min(rows, rowsPerPass) * plan.maxPiecesPerRow;
  const pieces: BinaryPieces = {
    firstRow: 0,
    endRow: 0,
    vectors: new Uint8Array(capacity * plan.features),
    weights: new Float64Array(capacity),
    rows: new Int32Array(capacity),
    count: 0,
  };
  const split = plan.levels ? ternaryPieces(plan.levels) : bitPlanePieces(plan, capacity);
  for (let first = 0; first < rows; first += rowsPerPass) {
    pieces.firstRow = first;
    pieces.endRow = Math.min(rows, first + rowsPerPass);
    pieces.count = 0;
    split(x, plan.features, pieces);
    yield pieces;
  }
}

/**
 * Frames the whole batch takes, `framesOf` each piece: what a progress bar plans for, counted pass by pass in
 * bounded memory.
 */
export function countPieceFrames(
  x: Float32Array,
  plan: Decomposition,
  rowsPerPass: number,
  framesOf: (vector: Uint8Array) => number,
): number {
  let frames = 0;
  for (const pieces of decomposeInPasses(x, plan, rowsPerPass)) {
    for (let p = 0; p < pieces.count; p++) {
      frames += framesOf(pieces.vectors.subarray(p * plan.features, (p + 1) * plan.features));
    }
  }
  return frames;
}

/** Writes the rows [pieces.firstRow, pieces.endRow) of `x` into `pieces`. */
type RowSplitter = (x: Float32Array, features: number, pieces: BinaryPieces) => void;

/** Each row a·t⁺ − b·t⁻ as the pieces (t⁺, a) and (t⁻, −b), with the magnitudes the plan found. */
function ternaryPieces(levels: Float64Array): RowSplitter {
  return (x, features, pieces) => {
    for (let r = pieces.firstRow; r < pieces.endRow; r++) {
      signPiece(x, features, r, 1, levels[2 * r]!, pieces);
      signPiece(x, features, r, -1, -levels[2 * r + 1]!, pieces);
    }
  };
}

/** Appends the indicator of row r's entries of this sign as a piece of this weight. */
function signPiece(
  x: Float32Array,
  features: number,
  r: number,
  sign: 1 | -1,
  weight: number,
  pieces: BinaryPieces,
): void {
  const v = pieces.vectors.subarray(pieces.count * features, (pieces.count + 1) * features);
  for (let j = 0; j < features; j++) v[j] = Math.sign(x[r * features + j]!) === sign ? 1 : 0;
  keepPiece(pieces, v, weight, r);
}

/**
 * Each row's separated bit planes, against its own max |x| (so a slice of rows encodes exactly as it would within
 * the whole batch): plane b of the positive part weighs s·w_b, of the negative part −s·w_b.
 */
function bitPlanePieces(plan: Decomposition, capacity: number): RowSplitter {
  const p = plan.precisionBits;
  const encoder = new SeparatedBitPlaneEncoder({ precisionBits: p, scale: 'row' });
  const weightOf = planeWeights(p);
  const planes = new Uint8Array(capacity * plan.features);
  return (x, features, pieces) => {
    const { firstRow, endRow } = pieces;
    const encoded = encoder.encode(x.subarray(firstRow * features, endRow * features), features, planes);
    for (let r = firstRow; r < endRow; r++) {
      const s = encoded.scales[r - firstRow]!;
      const rowPlanes = (r - firstRow) * 2 * p;
      for (let b = 0; b < p; b++) {
        const w = s * weightOf[b]!;
        copyPiece(encoded.planes, features, rowPlanes + b, w, r, pieces);
        copyPiece(encoded.planes, features, rowPlanes + p + b, -w, r, pieces);
      }
    }
  };
}

/** Appends plane `index` of `planes` as a piece, unless it contributes nothing. */
function copyPiece(
  planes: Uint8Array,
  features: number,
  index: number,
  weight: number,
  row: number,
  pieces: BinaryPieces,
): void {
  const v = pieces.vectors.subarray(pieces.count * features, (pieces.count + 1) * features);
  v.set(planes.subarray(index * features, (index + 1) * features));
  keepPiece(pieces, v, weight, row);
}

/** Counts the vector just written at the end of `pieces` as a piece, unless it is empty or weighs nothing. */
function keepPiece(pieces: BinaryPieces, v: Uint8Array, weight: number, row: number): void {
  if (weight === 0 || !v.includes(1)) return;
  pieces.weights[pieces.count] = weight;
  pieces.rows[pieces.count] = row;
  pieces.count++;
}

import type { DmdFrames } from '../device/frames.js';
import type { AcquisitionStats, ExposureControlledAcquirer, FramesAcquired } from './acquisition.js';
import { type DmdLayout, darkenElements, lightElements, lightReference, referenceStart } from './layout.js';
import { planeCoordinates } from './top-eigenpair.js';

/**
 * Dimmer references for sparse pieces. The cross term of a piece x with a reference r is 2·Re(b̄·y); the shot noise
 * of the frame x + r grows with |b|², so a reference much brighter than the piece drowns it: a one-hot row against
 * the default reference (inputs/4 elements) had 33% error at 1024 inputs, against 4–5% for dense rows. The error
 * per frame is smallest for |b|² ≈ √2·|y|² (reference §4 and docs/physics.md, "Optical fidelity").
 *
 * Rungs below the top references (the layout's `referenceCount` blocks of `referenceElements`) are 16 times dimmer
 * each, down to a few mirrors. Each rung has six references of its size, placed inside the top blocks (no extra DMD
 * area), so that it places a piece's field y in the plane (two unknowns from six cross terms, well conditioned
 * for almost every output, which three references are not). B stays one matrix: every rung's references are located
 * in the top references' plane, and every rung reports y's component along the same u, the top references' combined
 * field. A rung is located by its own Gram matrix (shape, up to a rotation and reflection), then turned onto the rung
 * above by their cross terms.
 */

/** References per rung: enough that the plane of y is well conditioned for nearly every output. */
export const RUNG_REFERENCES = 6;
/** Brightness ratio between rungs: pieces are then served within a factor 4 of the best reference, about 1.24× the
 * best error at worst. */
const RUNG_RATIO = 16;
/** Rungs stop once a one-hot piece is at most this much dimmer than the dimmest references. */
const MAX_ONE_HOT_RATIO = 4;
/** The last rung is kept only if it is at least this much dimmer than the one above. */
const MIN_RUNG_RATIO = 2;
/** Dimmer references than this many mirrors starve the camera of light: frames would need the longest exposures. */
const MIN_REFERENCE_MIRRORS = 4;

/** A rung below the top references: `RUNG_REFERENCES` references of `elements` elements each. */
export interface Rung {
  elements: number;
  /** First element of this rung's segments within each top reference block. */
  offset: number;
}

/**
 * The rungs below the top references, brightest first: sizes `referenceElements`/16, /256, … down to about
 * `MIN_REFERENCE_MIRRORS` mirrors. Derived from the layout alone, so a saved calibration needs no new layout field.
 */
export function referenceLadder(layout: DmdLayout): Rung[] {
  const minElements = Math.ceil(MIN_REFERENCE_MIRRORS / layout.mirrorsPerElement);
  const segmentsPerBlock = Math.ceil(RUNG_REFERENCES / layout.referenceCount);
  const rungs: Rung[] = [];
  let above = layout.referenceElements;
  let offset = 0;
  // A one-hot piece on the dimmest rung so far has β = its size: up to 4 that costs at most 16% of error over the best
  // reference, less than another rung's 7 frames a piece and its calibration would be worth.
  while (above > MAX_ONE_HOT_RATIO) {
    const elements = Math.max(minElements, Math.round(above / RUNG_RATIO));
    if (above / elements < MIN_RUNG_RATIO) break;
    if (offset + segmentsPerBlock * elements > layout.referenceElements) break;
    rungs.push({ elements, offset });
    offset += segmentsPerBlock * elements;
    above = elements;
  }
  return rungs;
}

/** Top reference block holding reference k of a rung, and the element where it starts. */
function rungReferenceStart(layout: DmdLayout, rung: Rung, k: number): { block: number; first: number } {
  const block = k % layout.referenceCount;
  const segment = Math.floor(k / layout.referenceCount);
  return { block, first: referenceStart(layout, block) + rung.offset + segment * rung.elements };
}

/** Turns on reference k of a rung in frame f. */
export function lightRungReference(frames: DmdFrames, f: number, layout: DmdLayout, rung: Rung, k: number): void {
  const { first } = rungReferenceStart(layout, rung, k);
  lightElements(frames, f, layout, first, first + rung.elements);
}

/**
 * Index of the rung that serves a piece with `litElements` elements on: the one whose references are nearest
 * √2·litElements in ratio. 0 is the top references, r ≥ 1 is `rungs[r − 1]`.
 */
export function rungFor(layout: DmdLayout, rungs: readonly Rung[], litElements: number): number {
  const target = Math.SQRT2 * Math.max(1, litElements);
  let best = 0;
  let bestDistance = Math.abs(Math.log(layout.referenceElements / target));
  rungs.forEach((rung, r) => {
    const distance = Math.abs(Math.log(rung.elements / target));
    if (distance < bestDistance) {
      best = r + 1;
      bestDistance = distance;
    }
  });
  return best;
}

/** What `project()` needs of one rung, per output. */
export interface RungFields {
  elements: number;
  /** Dark-subtracted |b_k|² per µs, RUNG_REFERENCES × outputs. */
  referenceIntensity: Float32Array;
  /**
   * a_ik, outputs × RUNG_REFERENCES: Σ_k a_ik·(I(x + r_k) − I(x) − |b_ik|²)/2 is y_i's component along u_i, in
   * √(ADU/µs), the quantity the top references measure as Σ_k w_ik·(…)/(2|u_i|).
   */
  coefficients: Float32Array;
  /** Each reference's field in the top references' plane (u along the first axis), outputs × RUNG_REFERENCES × 2. */
  coordinates: Float32Array;
}

/** A rung's fields, or the top references' (their weights and |u| give the same estimate, see `RungFields`). */
export interface PlaneReferences {
  count: number;
  /** Dark-subtracted |b_k|² per µs, count × outputs. */
  referenceIntensity: Float32Array;
  /** Each reference's field in the plane, outputs × count × 2. */
  coordinates: Float32Array;
}

/**
 * Measures rung `r` (≥ 1), averaged over `averagedFrames` frames per pattern, and places its references in the top
 * references' plane (see `placeRung`).
 */
export async function measureRung(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  rungs: readonly Rung[],
  r: number,
  above: PlaneReferences,
  averagedFrames: number,
  stats: AcquisitionStats,
  onAcquired?: FramesAcquired,
): Promise<RungFields> {
  const fields = await placeRung(acquirer, layout, rungs, r, above, averagedFrames, stats, onAcquired);
  const m = acquirer.outputs;
  const K = RUNG_REFERENCES;
  const coefficients = new Float32Array(m * K);
  for (let i = 0; i < m; i++) {
    alongFirstAxis(
      fields.coordinates.subarray(i * K * 2, (i + 1) * K * 2),
      K,
      coefficients.subarray(i * K, (i + 1) * K),
    );
  }
  return { elements: rungs[r - 1]!.elements, ...fields, coefficients };
}

/**
 * A rung's shape from each of its references alone and each pair (their Gram matrix: the plane up to a rotation and
 * a reflection), turned onto the rung above by their cross terms with all of its references. All of them: partners
 * near one line (as three often are at some outputs) cannot tell a reflection of the rung across that line, which put
 * 4% of error on the second rung's fields; for the three top references such a line is u's axis, where the
 * reflection is harmless. The dim references are shown alone on purpose: a fit of |b'|² from frames with a partner
 * 16 times brighter inherits the partner's error sixteenfold.
 */
async function placeRung(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  rungs: readonly Rung[],
  r: number,
  above: PlaneReferences,
  averagedFrames: number,
  stats: AcquisitionStats,
  onAcquired?: FramesAcquired,
): Promise<Pick<RungFields, 'referenceIntensity' | 'coordinates'>> {
  const rung = rungs[r - 1]!;
  const K = RUNG_REFERENCES;
  const m = acquirer.outputs;
  const partners = above.count;
  const pairs: [number, number][] = [];
  for (let k = 0; k < K; k++) for (let l = k + 1; l < K; l++) pairs.push([k, l]);
  const links: [number, number][] = [];
  for (let k = 0; k < K; k++) for (let l = 0; l < partners; l++) links.push([k, l]);
  const own = (frames: DmdFrames, f: number, k: number) => lightRungReference(frames, f, layout, rung, k);
  // A top reference contains the rung's references that sit in its block: it is shown without them (field b − b').
  const nested = (k: number, l: number) => r === 1 && rungReferenceStart(layout, rung, k).block === l;
  const patterns = [
    ...Array.from({ length: K }, (_, k) => (frames: DmdFrames, f: number) => own(frames, f, k)),
    ...pairs.map(([k, l]) => (frames: DmdFrames, f: number) => {
      own(frames, f, k);
      own(frames, f, l);
    }),
    ...links.map(([k, l]) => (frames: DmdFrames, f: number) => {
      if (r > 1) lightRungReference(frames, f, layout, rungs[r - 2]!, l);
      else lightReference(frames, f, layout, l);
      const { first } = rungReferenceStart(layout, rung, k);
      if (nested(k, l)) darkenElements(frames, f, layout, first, first + rung.elements);
      else own(frames, f, k);
    }),
  ];
  const { mean } = await acquirer.averagePatterns(patterns, averagedFrames, stats, onAcquired);

  const referenceIntensity = new Float32Array(K * m);
  const coordinates = new Float32Array(m * K * 2);
  const gram = new Float64Array(K * K);
  const shape = new Float64Array(K * 2);
  const placed = new Float64Array(K * 2);
  const dot = new Float64Array(K * partners);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < K; k++) {
      gram[k * K + k] = mean[k * m + i]!;
      referenceIntensity[k * m + i] = mean[k * m + i]!;
    }
    pairs.forEach(([k, l], p) => {
      const cross = (mean[(K + p) * m + i]! - mean[k * m + i]! - mean[l * m + i]!) / 2;
      gram[k * K + l] = cross;
      gram[l * K + k] = cross;
    });
    planeCoordinates(gram, K, shape);
    links.forEach(([k, l], p) => {
      const together = mean[(K + pairs.length + p) * m + i]!;
      const bright = above.referenceIntensity[l * m + i]!;
      const dim = mean[k * m + i]!;
      // |b + b'|² = |b|² + |b'|² + 2b·b'; the nested pattern shows b − b'.
      dot[k * partners + l] = nested(k, l) ? (bright + dim - together) / 2 : (together - bright - dim) / 2;
    });
    turnOnto(shape, above.coordinates.subarray(i * partners * 2), partners, dot, placed);
    coordinates.set(placed, i * K * 2);
  }
  return { referenceIntensity, coordinates };
}

/** The references rung r is placed through: the top ones for the first rung, else rung r − 1 (measured). */
export function referencesAbove(
  top: PlaneReferences,
  measured: readonly (RungFields | undefined)[],
  r: number,
): PlaneReferences {
  return r === 1 ? top : { count: RUNG_REFERENCES, ...measured[r - 2]! };
}

/**
 * Frames per pattern a full calibration averages for the rungs at most, whatever the top references needed: the
 * rungs' placement limits only pieces averaged many times (one-hot rows level off at 1.8% with 32 frames, 1.2% with
 * 256), and each frame of a dim rung is a long exposure.
 */
export const MAX_RUNG_FRAMES = 128;

/** Every rung of the layout, brightest first, each placed through the one above: what a full calibration stores. */
export async function measureLadder(
  acquirer: ExposureControlledAcquirer,
  layout: DmdLayout,
  top: PlaneReferences,
  averagedFrames: number,
  stats: AcquisitionStats,
  onAcquired?: FramesAcquired,
): Promise<RungFields[]> {
  const rungs = referenceLadder(layout);
  const fields: RungFields[] = [];
  for (let r = 1; r <= rungs.length; r++) {
    const above = referencesAbove(top, fields, r);
    const frames = Math.min(averagedFrames, MAX_RUNG_FRAMES);
    fields.push(await measureRung(acquirer, layout, rungs, r, above, frames, stats, onAcquired));
  }
  return fields;
}

/** Frames `measureLadder` shows: per rung, each reference alone, each pair, and each with every reference above. */
export function ladderFrames(layout: DmdLayout, averagedFrames: number): number {
  const K = RUNG_REFERENCES;
  return referenceLadder(layout).reduce((frames, _, index) => {
    const partners = index === 0 ? layout.referenceCount : K;
    return frames + (K + (K * (K - 1)) / 2 + K * partners) * Math.min(averagedFrames, MAX_RUNG_FRAMES);
  }, 0);
}

/**
 * Rotates (or reflects and rotates) the points `own` (K × 2) so that their dot products with the partners' points
 * `partner` (first `partners` of them, × 2) best match the measured `dot` (K × partners): a least-squares fit of
 * (cos θ, sin θ) for each handedness, the better one kept.
 */
function turnOnto(
  own: Float64Array,
  partner: Float32Array,
  partners: number,
  dot: Float64Array,
  out: Float64Array,
): void {
  const K = own.length / 2;
  let best = { residual: Number.POSITIVE_INFINITY, c: 1, s: 0, flip: 1 };
  for (const flip of [1, -1]) {
    // g ≈ c·A + s·C with A = U·p, C = U × p (p reflected by `flip`)
    let aa = 0;
    let ac = 0;
    let cc = 0;
    let ag = 0;
    let cg = 0;
    for (let k = 0; k < K; k++) {
      const px = own[2 * k]!;
      const py = flip * own[2 * k + 1]!;
      for (let l = 0; l < partners; l++) {
        const ux = partner[2 * l]!;
        const uy = partner[2 * l + 1]!;
        const a = ux * px + uy * py;
        const c = uy * px - ux * py;
        const g = dot[k * partners + l]!;
        aa += a * a;
        ac += a * c;
        cc += c * c;
        ag += a * g;
        cg += c * g;
      }
    }
    const det = aa * cc - ac * ac;
    if (!(det > 0)) continue;
    let c = (cc * ag - ac * cg) / det;
    let s = (aa * cg - ac * ag) / det;
    const norm = Math.hypot(c, s) || 1;
    c /= norm;
    s /= norm;
    let residual = 0;
    for (let k = 0; k < K; k++) {
      const px = own[2 * k]!;
      const py = flip * own[2 * k + 1]!;
      for (let l = 0; l < partners; l++) {
        const ux = partner[2 * l]!;
        const uy = partner[2 * l + 1]!;
        residual += (c * (ux * px + uy * py) + s * (uy * px - ux * py) - dot[k * partners + l]!) ** 2;
      }
    }
    if (residual < best.residual) best = { residual, c, s, flip };
  }
  for (let k = 0; k < K; k++) {
    const px = own[2 * k]!;
    const py = best.flip * own[2 * k + 1]!;
    out[2 * k] = best.c * px - best.s * py;
    out[2 * k + 1] = best.s * px + best.c * py;
  }
}

/**
 * a_k = v_kᵀ·M⁻¹·(1, 0) with M = Σ v_k·v_kᵀ: then Σ_k a_k·(v_k·y) = y's first coordinate for every y, the
 * least-squares estimate of y along u from the K cross terms.
 */
function alongFirstAxis(points: ArrayLike<number>, K: number, out: Float32Array): void {
  let xx = 0;
  let xy = 0;
  let yy = 0;
  for (let k = 0; k < K; k++) {
    const x = points[2 * k]!;
    const y = points[2 * k + 1]!;
    xx += x * x;
    xy += x * y;
    yy += y * y;
  }
  const det = xx * yy - xy * xy;
  if (!(det > 0)) {
    out.fill(0);
    return;
  }
  // M⁻¹·(1, 0) = (yy, −xy) / det
  const mx = yy / det;
  const my = -xy / det;
  for (let k = 0; k < K; k++) out[k] = points[2 * k]! * mx + points[2 * k + 1]! * my;
}

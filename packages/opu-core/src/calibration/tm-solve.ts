import { kernels } from 'opu-native';
import { Dft } from './fft.js';

/**
 * Where each output's anchors sit in the complex plane, from intensities only (classical MDS, reference §4).
 * With z_k the field of anchor k at output i, the Gram matrix G_kl = Re(z̄_k·z_l) has rank 2; its top eigenpairs
 * (λ₁, v₁), (λ₂, v₂) give coordinates Z = [v₁√λ₁, v₂√λ₂], the z_k up to a rotation and a reflection of that
 * output (a row phase and a conjugation: harmless). A signal y then satisfies Z·(Re y, Im y) = b with
 * b_k = Re(z̄_k·y), and since ZᵀZ = diag(λ₁, λ₂) its least-squares solution is (v₁·b/√λ₁, v₂·b/√λ₂).
 */
export interface AnchorGeometry {
  anchors: number;
  outputs: number;
  /** |z_k|², anchors × outputs (the averaged single-anchor intensities). */
  intensity: Float64Array;
  /** Per output, 2 × anchors: v₁/√λ₁ then v₂/√λ₂; all zero when the anchors span no plane. */
  weights: Float64Array;
  /** λ₁/λ₂ per output: the condition number of the 2 × 2 multilateration normal matrix (Infinity if λ₂ ≤ 0). */
  condition: Float64Array;
}

/** Anchor pairs (k, l), k < l, in the order their intensities are measured. */
export function anchorPairs(anchors: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let k = 0; k < anchors; k++) for (let l = k + 1; l < anchors; l++) pairs.push([k, l]);
  return pairs;
}

/**
 * `single` holds |z_k|² (anchors × outputs), `pair` |z_k + z_l|² in `anchorPairs` order (pairs × outputs), both
 * averaged; G_kl = (|z_k + z_l|² − |z_k|² − |z_l|²)/2.
 */
export function anchorGeometry(single: Float64Array, pair: Float64Array, anchors: number): AnchorGeometry {
  const S = anchors;
  const m = single.length / S;
  const pairs = anchorPairs(S);
  const weights = new Float64Array(m * 2 * S);
  const condition = new Float64Array(m);
  const gram = new Float64Array(S * S);
  const values = new Float64Array(S);
  const vectors = new Float64Array(S * S);
  for (let i = 0; i < m; i++) {
    let trace = 0;
    for (let k = 0; k < S; k++) trace += single[k * m + i]!;
    if (!(trace > 0)) {
      condition[i] = Number.POSITIVE_INFINITY;
      continue;
    }
    // Scaled to unit trace: every output's eigenproblem has the same scale.
    for (let k = 0; k < S; k++) gram[k * S + k] = single[k * m + i]! / trace;
    pairs.forEach(([k, l], p) => {
      const cross = (pair[p * m + i]! - single[k * m + i]! - single[l * m + i]!) / (2 * trace);
      gram[k * S + l] = cross;
      gram[l * S + k] = cross;
    });
    // The two largest eigenpairs: values descend, vectors' column c belongs to values[c].
    kernels.symmetricEigen(gram, S, values, vectors);
    const [lambda1, lambda2] = [values[0]!, S > 1 ? values[1]! : 0];
    condition[i] = lambda2 > 0 ? lambda1 / lambda2 : Number.POSITIVE_INFINITY;
    if (!(lambda2 > 0)) continue;
    const w = weights.subarray(i * 2 * S, (i + 1) * 2 * S);
    for (let k = 0; k < S; k++) {
      w[k] = vectors[k * S]! / Math.sqrt(lambda1 * trace);
      w[S + k] = vectors[k * S + 1]! / Math.sqrt(lambda2 * trace);
    }
  }
  return { anchors: S, outputs: m, intensity: single, weights, condition };
}

/**
 * Multilateration of calibration signals: `frames` holds, per signal, |y|² then |y + z_k|² for each anchor k
 * ((anchors + 1) frames × outputs per signal); writes Re y and Im y of signal s, output i, at
 * out[s·2m + i] and out[s·2m + m + i].
 */
export function placeSignals(geometry: AnchorGeometry, frames: Float32Array, signals: number, out: Float64Array) {
  const { anchors: S, outputs: m, intensity, weights } = geometry;
  for (let s = 0; s < signals; s++) {
    const base = s * (S + 1) * m;
    for (let i = 0; i < m; i++) {
      const alone = frames[base + i]!;
      const w = i * 2 * S;
      let re = 0;
      let im = 0;
      for (let k = 0; k < S; k++) {
        const cross = (frames[base + (k + 1) * m + i]! - alone - intensity[k * m + i]!) / 2;
        re += weights[w + k]! * cross;
        im += weights[w + S + k]! * cross;
      }
      out[s * 2 * m + i] = re;
      out[s * 2 * m + m + i] = im;
    }
  }
}

/**
 * Inverts the circulant system of cyclic shifts of a binary pattern c (Gupta et al., ICASSP 2020): signal t lights
 * element j when c_{(j−t) mod n} = 1, so a row a of the transmission matrix gives y_t = Σ_j a_j·c_{j−t}, a
 * cross-correlation: ŷ_k = â_k·conj(ĉ_k), and a = IDFT(ŷ·ĉ/|ĉ|²).
 */
export class CirculantSolver {
  readonly pattern: Uint8Array;
  /**
   * Mean of 1/|ĉ_k|² = trace((ΞᵀΞ)⁻¹)/n: the factor by which the solve multiplies the variance of white noise on
   * the measurements, per matrix entry; Infinity when the shifts are linearly dependent (some ĉ_k = 0).
   */
  readonly noiseGain: number;
  readonly #dft: Dft;
  readonly #gainRe: Float64Array;
  readonly #gainIm: Float64Array;

  /** `dft` is a plan of the pattern's length, shared when trying several patterns. */
  constructor(pattern: Uint8Array, dft = new Dft(pattern.length)) {
    const n = pattern.length;
    this.pattern = pattern;
    this.#dft = dft;
    const re = Float64Array.from(pattern);
    const im = new Float64Array(n);
    dft.forward(re, im);
    this.#gainRe = new Float64Array(n);
    this.#gainIm = new Float64Array(n);
    let gain = 0;
    for (let k = 0; k < n; k++) {
      const power = re[k]! ** 2 + im[k]! ** 2;
      // A spectrum of integers times roots of unity: what rounds to below this is an exact zero.
      if (!(power > 1e-12)) {
        gain = Number.POSITIVE_INFINITY;
        continue;
      }
      gain += 1 / (power * n);
      this.#gainRe[k] = re[k]! / power;
      this.#gainIm[k] = im[k]! / power;
    }
    this.noiseGain = gain;
  }

  /** Replaces the measured y (one output, n signals) by that output's row a. */
  solve(re: Float64Array, im: Float64Array): void {
    const n = this.pattern.length;
    this.#dft.forward(re, im);
    for (let k = 0; k < n; k++) {
      const a = re[k]!;
      const b = im[k]!;
      re[k] = a * this.#gainRe[k]! - b * this.#gainIm[k]!;
      im[k] = a * this.#gainIm[k]! + b * this.#gainRe[k]!;
    }
    this.#dft.inverse(re, im);
  }
}

/** Lights element j of shift t: the circulant calibration's signal t. */
export function circulantShift(pattern: Uint8Array, t: number, j: number): number {
  const n = pattern.length;
  return pattern[(((j - t) % n) + n) % n]!;
}

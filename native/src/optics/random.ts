/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based RNG.
 * Any entry of the transmission matrix or any pixel's noise in any frame is a pure function of
 * (seed, stream, counter), so tiles can be generated in any order, lazily, on any thread, with identical numbers,
 * in TypeScript or in the C++ kernels.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32, exact in float64 arithmetic. */
function mulhi(a: number, b: number): number {
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lo = a * bLo; // < 2^48, exact
  const mid = a * bHi + Math.floor(lo / 65536); // < 2^49, exact
  return Math.floor(mid / 65536) >>> 0;
}

/** Fills `out[0..3]` with the Philox4x32-10 block for counter (c0..c3) and key (k0, k1). */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

/** Uniform in the open interval (0, 1): never 0, so `log(u)` is finite. */
export function uniform01(bits: number): number {
  return ((bits >>> 0) + 0.5) * 2.3283064365386963e-10;
}

// The transcendental functions below use only +, −, ×, ÷ and √ in a fixed order, with coefficients that are
// correctly rounded quotients, so the C++ kernels (built with -ffp-contract=off) give the same bits: Math.log,
// Math.cos and Math.sin promise no particular rounding.

const LN2 = Math.LN2; // 0.6931471805599453, the constant the C++ kernel uses
const SQRT2 = Math.SQRT2; // 1.4142135623730951
const HALF_PI = 1.5707963267948966;
/** 1/3, 1/5, …, 1/23: ln m = 2s·(1 + s²/3 + s⁴/5 + …) with s = (m − 1)/(m + 1), |s| ≤ 0.172. */
const LOG_COEFFICIENTS = Float64Array.from({ length: 11 }, (_, i) => 1 / (2 * i + 3));
/** (−1)^k/(2k+1)! for k = 1…8 and (−1)^k/(2k)! for k = 1…9: Taylor series on [0, π/4]. */
const SIN_COEFFICIENTS = Float64Array.of(
  -1 / 6,
  1 / 120,
  -1 / 5040,
  1 / 362880,
  -1 / 39916800,
  1 / 6227020800,
  -1 / 1307674368000,
  1 / 355687428096000,
);
const COS_COEFFICIENTS = Float64Array.of(
  -1 / 2,
  1 / 24,
  -1 / 720,
  1 / 40320,
  -1 / 3628800,
  1 / 479001600,
  -1 / 87178291200,
  1 / 20922789888000,
  -1 / 6402373705728000,
);
const POW2 = Float64Array.from({ length: 32 }, (_, e) => 2 ** e);
/** 2^−k for k = 0…127, by exact halvings. */
const INVERSE_POW2 = (() => {
  const t = new Float64Array(128);
  t[0] = 1;
  for (let k = 1; k < 128; k++) t[k] = t[k - 1]! * 0.5;
  return t;
})();
/** 1/k! for k = 1…14: e^r on |r| ≤ ln2/2. */
const EXP_COEFFICIENTS = (() => {
  const t = new Float64Array(14);
  let factorial = 1;
  for (let k = 1; k <= 14; k++) {
    factorial *= k;
    t[k - 1] = 1 / factorial;
  }
  return t;
})();

/** e^−x for 0 ≤ x < 88 to 1e-14 relative, identically in TypeScript and C++: x = k·ln2 + r, then a series for e^−r. */
export function expNegative(x: number): number {
  const k = Math.floor(x / LN2 + 0.5);
  const r = x - k * LN2;
  let poly = EXP_COEFFICIENTS[13]!;
  for (let i = 12; i >= 0; i--) poly = EXP_COEFFICIENTS[i]! + -r * poly;
  return (1 + -r * poly) * INVERSE_POW2[k]!;
}

/** ln(uniform01(bits)), to within 1 ulp, identically in TypeScript and C++. */
export function lnUniform(bits: number): number {
  const b = bits >>> 0;
  let e = -1;
  let m = 1;
  if (b !== 0) {
    e = 31 - Math.clz32(b);
    m = (b + 0.5) / POW2[e]!; // exact: b + 0.5 = m·2^e with m in [1, 2)
  }
  if (m > SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let poly = LOG_COEFFICIENTS[10]!;
  for (let i = 9; i >= 0; i--) poly = LOG_COEFFICIENTS[i]! + s2 * poly;
  return (e - 32) * LN2 + 2 * s * (1 + s2 * poly);
}

function sinSeries(x: number): number {
  const x2 = x * x;
  let poly = SIN_COEFFICIENTS[7]!;
  for (let i = 6; i >= 0; i--) poly = SIN_COEFFICIENTS[i]! + x2 * poly;
  return x * (1 + x2 * poly);
}

function cosSeries(x: number): number {
  const x2 = x * x;
  let poly = COS_COEFFICIENTS[8]!;
  for (let i = 7; i >= 0; i--) poly = COS_COEFFICIENTS[i]! + x2 * poly;
  return 1 + x2 * poly;
}

/** cos and sin of 2π·uniform01(bits) into out[0], out[1]: quadrant by exact arithmetic, then a series on [0, π/4]. */
export function turnCosSin(bits: number, out: Float64Array): void {
  const t4 = ((bits >>> 0) + 0.5) * 9.313225746154785e-10; // 4·uniform01, exact
  const q = Math.floor(t4);
  const r = t4 - q;
  let c: number;
  let s: number;
  if (r <= 0.5) {
    const x = r * HALF_PI;
    c = cosSeries(x);
    s = sinSeries(x);
  } else {
    const x = (1 - r) * HALF_PI;
    c = sinSeries(x);
    s = cosSeries(x);
  }
  // Rotate by q quarter turns.
  if (q === 0) {
    out[0] = c;
    out[1] = s;
  } else if (q === 1) {
    out[0] = -s;
    out[1] = c;
  } else if (q === 2) {
    out[0] = -c;
    out[1] = -s;
  } else {
    out[0] = s;
    out[1] = -c;
  }
}

const cosSin = new Float64Array(2);

/**
 * A circular complex Gaussian CN(0, 1) (E|z|² = 1) from two words: |z|² = −ln u is exponential, the phase uniform.
 * Writes re, im into out[0], out[1].
 */
export function complexNormal(amplitudeBits: number, phaseBits: number, out: Float64Array): void {
  const r = Math.sqrt(-lnUniform(amplitudeBits));
  turnCosSin(phaseBits, cosSin);
  out[0] = r * cosSin[0]!;
  out[1] = r * cosSin[1]!;
}

/** A standard normal from two words (Box–Muller, cosine branch). */
export function standardNormal(amplitudeBits: number, phaseBits: number): number {
  turnCosSin(phaseBits, cosSin);
  return Math.sqrt(-2 * lnUniform(amplitudeBits)) * cosSin[0]!;
}

// The camera's float32 normals: every operation rounded to float32 with Math.fround, as the C++ kernel computes in
// float32 (an operation on float32 values done in float64 and then rounded gives the correctly rounded float32
// result, for +, −, ×, ÷ and √). Constants are doubles rounded to float32, in C++ too.
const fround = Math.fround;
const F_LN2 = fround(LN2);
const F_SQRT2 = fround(SQRT2);
const F_HALF_PI = fround(HALF_PI);
const F_LOG = Float32Array.of(1 / 3, 1 / 5, 1 / 7, 1 / 9);
const F_SIN = Float32Array.of(-1 / 6, 1 / 120, -1 / 5040, 1 / 362880);
const F_COS = Float32Array.of(-1 / 2, 1 / 24, -1 / 720, 1 / 40320, -1 / 3628800);
const floatBits = new Float32Array(1);
const wordBits = new Uint32Array(floatBits.buffer);

/**
 * ln u in float32, for u the float32 nearest (b + ½)·2^−32 (its high 24 and low 8 bits are exact, their sum rounds
 * once): u = m·2^e with m in [√½, √2], then 2s·(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9), s = (m − 1)/(m + 1).
 */
export function lnUniformFloat32(bits: number): number {
  const b = bits >>> 0;
  floatBits[0] = (b >>> 8) * 5.9604644775390625e-8 + ((b & 255) + 0.5) * 2.3283064365386963e-10; // one rounding
  const u = wordBits[0]!;
  let e = (u >>> 23) - 127;
  wordBits[0] = (u & 0x7fffff) | 0x3f800000;
  let m = floatBits[0]!;
  if (m > F_SQRT2) {
    m = fround(m * 0.5);
    e += 1;
  }
  const s = fround(fround(m - 1) / fround(m + 1));
  const s2 = fround(s * s);
  let poly = F_LOG[3]!;
  for (let i = 2; i >= 0; i--) poly = fround(F_LOG[i]! + fround(s2 * poly));
  return fround(fround(e * F_LN2) + fround(fround(2 * s) * fround(1 + fround(s2 * poly))));
}

/**
 * cos and sin of 2π·t in float32 into out[0], out[1], t = (q + f)/4: the quadrant q is the top 2 bits of `bits`,
 * f = (next 22 bits + ½)·2^−22; Taylor series on [0, π/4].
 */
export function turnCosSinFloat32(bits: number, out: Float32Array): void {
  const b = bits >>> 0;
  const q = b >>> 30;
  const f = (((b >>> 8) & 0x3fffff) + 0.5) * 2.384185791015625e-7; // exact
  const low = f <= 0.5;
  const x = fround((low ? f : 1 - f) * F_HALF_PI);
  const x2 = fround(x * x);
  // Horner's steps, each rounded: x·(1 + x²·(S₀ + x²·(S₁ + x²·(S₂ + x²·S₃)))) and 1 + x²·(C₀ + … + x²·C₄).
  let sinPoly = F_SIN[3]!;
  for (let i = 2; i >= 0; i--) sinPoly = fround(F_SIN[i]! + fround(x2 * sinPoly));
  const sx = fround(x * fround(1 + fround(x2 * sinPoly)));
  let cosPoly = F_COS[4]!;
  for (let i = 3; i >= 0; i--) cosPoly = fround(F_COS[i]! + fround(x2 * cosPoly));
  const cx = fround(1 + fround(x2 * cosPoly));
  const cr = low ? cx : sx;
  const sr = low ? sx : cx;
  // Quadrant q: (c, s) = (cr, sr), (−sr, cr), (−cr, −sr), (sr, −cr).
  const cm = q & 1 ? sr : cr;
  const sm = q & 1 ? cr : sr;
  out[0] = q === 1 || q === 2 ? -cm : cm;
  out[1] = q >= 2 ? -sm : sm;
}

const cosSinFloat32 = new Float32Array(2);

/**
 * Two independent standard normals from one Box–Muller pair in float32, (r·cos θ, r·sin θ) with r = √(−2 ln u): one
 * logarithm and one sine/cosine series for both. Writes them into out[0], out[1].
 */
export function standardNormalPairFloat32(amplitudeBits: number, phaseBits: number, out: Float32Array): void {
  turnCosSinFloat32(phaseBits, cosSinFloat32);
  const r = fround(Math.sqrt(fround(-2 * lnUniformFloat32(amplitudeBits))));
  out[0] = r * cosSinFloat32[0]!;
  out[1] = r * cosSinFloat32[1]!;
}

/** Independent streams of one seed: what the numbers are for. */
export const Stream = {
  medium: 1,
  driftPhase: 2,
  outsideField: 3,
  cameraNoise: 4,
  pixelResponse: 5,
  laser: 6,
} as const;

/**
 * A seeded generator: `block(stream, a, b, c)` is the 4-word Philox output for that coordinate.
 * The 32-bit seed and the stream form the key, so streams never overlap.
 */
export class CounterRng {
  readonly seed: number;
  readonly #out = new Uint32Array(4);

  constructor(seed: number) {
    this.seed = seed >>> 0;
  }

  block(stream: number, a: number, b: number, c = 0): Uint32Array {
    philox4x32(a, b, c, 0, this.seed, stream, this.#out);
    return this.#out;
  }

  /** A pair of independent standard normals (Box–Muller) for coordinate (stream, a, b, c); `out[0..1]`. */
  normalPair(stream: number, a: number, b: number, c: number, out: Float64Array): void {
    const w = this.block(stream, a, b, c);
    complexNormal(w[0]!, w[1]!, out);
    out[0]! *= Math.SQRT2;
    out[1]! *= Math.SQRT2;
  }
}

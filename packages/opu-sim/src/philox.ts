/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based RNG.
 * Any entry of the transmission matrix or any pixel's noise in any frame is a pure function of
 * (seed, stream, counter), so tiles can be generated in any order, lazily, on any thread, with identical numbers.
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
    const r = Math.sqrt(-2 * Math.log(uniform01(w[0]!)));
    const theta = 2 * Math.PI * uniform01(w[1]!);
    out[0] = r * Math.cos(theta);
    out[1] = r * Math.sin(theta);
  }
}

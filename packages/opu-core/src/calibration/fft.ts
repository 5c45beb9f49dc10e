/**
 * Discrete Fourier transforms of any length, in place on separate real and imaginary Float64Arrays:
 * X_k = Σ_t x_t·e^{−2πi·kt/n} forward, and its exact inverse (with the 1/n). Powers of two run a radix-2 FFT; other
 * lengths (the circulant calibration's, which is the number of data elements) go through Bluestein's chirp-z
 * identity on a power-of-two FFT, so every length costs O(n log n).
 */
export class Dft {
  readonly n: number;
  readonly #transform: (re: Float64Array, im: Float64Array) => void;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`DFT length ${n} is not a positive integer`);
    this.n = n;
    this.#transform = isPowerOfTwo(n) ? radix2(n) : bluestein(n);
  }

  forward(re: Float64Array, im: Float64Array): void {
    this.#transform(re, im);
  }

  /** x_t = (1/n)·Σ_k X_k·e^{+2πi·kt/n}, as the conjugate of the forward transform of the conjugate. */
  inverse(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    for (let t = 0; t < n; t++) im[t] = -im[t]!;
    this.#transform(re, im);
    for (let t = 0; t < n; t++) {
      re[t]! /= n;
      im[t] = -im[t]! / n;
    }
  }
}

function isPowerOfTwo(n: number): boolean {
  return (n & (n - 1)) === 0;
}

/** Iterative decimation-in-time FFT of a power-of-two length, with its bit-reversal and twiddle tables. */
function radix2(n: number): (re: Float64Array, im: Float64Array) => void {
  const bits = Math.round(Math.log2(n));
  const reversed = new Uint32Array(n);
  for (let t = 1; t < n; t++) reversed[t] = (reversed[t >> 1]! >> 1) | ((t & 1) << (bits - 1));
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  return (re, im) => {
    for (let t = 0; t < n; t++) {
      const r = reversed[t]!;
      if (r > t) {
        const a = re[t]!;
        re[t] = re[r]!;
        re[r] = a;
        const b = im[t]!;
        im[t] = im[r]!;
        im[r] = b;
      }
    }
    for (let size = 2; size <= n; size *= 2) {
      const half = size / 2;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < half; k++) {
          const wr = cos[k * step]!;
          const wi = sin[k * step]!;
          const p = start + k;
          const q = p + half;
          const xr = re[q]! * wr - im[q]! * wi;
          const xi = re[q]! * wi + im[q]! * wr;
          re[q] = re[p]! - xr;
          im[q] = im[p]! - xi;
          re[p]! += xr;
          im[p]! += xi;
        }
      }
    }
  };
}

/**
 * Bluestein: kt = (k² + t² − (k−t)²)/2 turns the DFT into X_k = w̄_k·Σ_t (x_t·w̄_t)·w_{k−t} with the chirp
 * w_m = e^{iπm²/n}, a convolution computed exactly (no wrap-around) by power-of-two FFTs of length ≥ 2n − 1.
 */
function bluestein(n: number): (re: Float64Array, im: Float64Array) => void {
  const size = 2 ** Math.ceil(Math.log2(2 * n - 1));
  const fft = radix2(size);
  const inverseFft = (re: Float64Array, im: Float64Array) => {
    for (let t = 0; t < size; t++) im[t] = -im[t]!;
    fft(re, im);
    for (let t = 0; t < size; t++) im[t] = -im[t]! / size;
    for (let t = 0; t < size; t++) re[t]! /= size;
  };
  const chirpRe = new Float64Array(n);
  const chirpIm = new Float64Array(n);
  for (let m = 0; m < n; m++) {
    // m² mod 2n keeps the angle small, so it is exact to rounding even for large m.
    const angle = (Math.PI * ((m * m) % (2 * n))) / n;
    chirpRe[m] = Math.cos(angle);
    chirpIm[m] = Math.sin(angle);
  }
  const kernelRe = new Float64Array(size);
  const kernelIm = new Float64Array(size);
  for (let m = 0; m < n; m++) {
    kernelRe[m] = chirpRe[m]!;
    kernelIm[m] = chirpIm[m]!;
    if (m > 0) {
      kernelRe[size - m] = chirpRe[m]!;
      kernelIm[size - m] = chirpIm[m]!;
    }
  }
  fft(kernelRe, kernelIm);
  const workRe = new Float64Array(size);
  const workIm = new Float64Array(size);
  return (re, im) => {
    workRe.fill(0);
    workIm.fill(0);
    for (let t = 0; t < n; t++) {
      // x_t·w̄_t
      workRe[t] = re[t]! * chirpRe[t]! + im[t]! * chirpIm[t]!;
      workIm[t] = im[t]! * chirpRe[t]! - re[t]! * chirpIm[t]!;
    }
    fft(workRe, workIm);
    for (let k = 0; k < size; k++) {
      const a = workRe[k]!;
      const b = workIm[k]!;
      workRe[k] = a * kernelRe[k]! - b * kernelIm[k]!;
      workIm[k] = a * kernelIm[k]! + b * kernelRe[k]!;
    }
    inverseFft(workRe, workIm);
    for (let k = 0; k < n; k++) {
      re[k] = workRe[k]! * chirpRe[k]! + workIm[k]! * chirpIm[k]!;
      im[k] = workIm[k]! * chirpRe[k]! - workRe[k]! * chirpIm[k]!;
    }
  };
}

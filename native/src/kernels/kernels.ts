import { KernelArgumentError } from '../errors.js';
import { sgemmTs } from '../linalg/sgemm.js';
import { type CameraModel, cameraExposeTs } from '../optics/camera.js';
import { FieldKernel, fillMediumTileTs, mediumFieldsTs } from '../optics/medium.js';
import {
  ACTIVATION_KINDS,
  type ActivationKind,
  activateTs,
  activationGradientTs,
  adamStepTs,
  columnSumsTs,
  sgdStepTs,
} from '../training/elementwise.js';
import { disjointArg, finiteArg, integerArg, matrixArg, typedArrayArg, uint32Arg } from './validate.js';

/** The raw kernels, native or TypeScript, with one signature each; arguments are already validated. */
export interface KernelImplementation {
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    A: Float32Array,
    lda: number,
    B: Float32Array,
    ldb: number,
    beta: number,
    C: Float32Array,
    ldc: number,
  ): void;
  fillMediumTile(
    seed: number,
    epoch: number,
    pixels: Int32Array,
    p0: number,
    p1: number,
    mirrors: Int32Array,
    q0: number,
    q1: number,
    re: Float32Array,
    im: Float32Array,
  ): void;
  mediumFields(
    seed: number,
    epoch: number,
    pixels: Int32Array,
    mirrors: Int32Array,
    packed: Uint8Array,
    frames: number,
    cachedRe: Float32Array,
    cachedIm: Float32Array,
    kernel: number,
    outRe: Float32Array,
    outIm: Float32Array,
  ): void;
  cameraExpose(
    model: CameraModel,
    intensity: Float32Array,
    frames: number,
    pixels: Int32Array,
    pixelResponse: Float64Array,
    firstFrameIndex: number,
    powerFactors: Float64Array,
    out: Uint8Array | Uint16Array,
    saturated: Uint32Array,
  ): void;
  sgdStep(p: Float32Array, g: Float32Array, v: Float32Array, rate: number, momentum: number, decay: number): void;
  adamStep(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    rate: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    c1: number,
    c2: number,
    decay: number,
  ): void;
  activate(kind: number, slope: number, a: Float32Array, h: Float32Array): void;
  activationGradient(
    kind: number,
    slope: number,
    g: Float32Array,
    gStride: number,
    factor: number,
    a: Float32Array,
    h: Float32Array,
    out: Float32Array,
    rows: number,
    width: number,
  ): void;
  columnSums(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  /** Off the JavaScript thread, for implementations that can (the C++ addon): same arguments, a promise. */
  sgemmAsync?: (...args: Parameters<KernelImplementation['sgemm']>) => Promise<void>;
  mediumFieldsAsync?: (...args: Parameters<KernelImplementation['mediumFields']>) => Promise<void>;
  cameraExposeAsync?: (...args: Parameters<KernelImplementation['cameraExpose']>) => Promise<void>;
  setThreads(threads: number): number;
  threads(): number;
  simdPath(): string;
}

export const typescriptImplementation: KernelImplementation = {
  sgemm: sgemmTs,
  fillMediumTile: fillMediumTileTs,
  mediumFields: mediumFieldsTs,
  cameraExpose: cameraExposeTs,
  sgdStep: sgdStepTs,
  adamStep: adamStepTs,
  activate: activateTs,
  activationGradient: activationGradientTs,
  columnSums: columnSumsTs,
  setThreads: () => 1,
  threads: () => 1,
  simdPath: () => 'typescript',
};

export interface SgemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** Leading dimensions (elements between rows as stored); default: the stored matrices' column counts. */
  lda?: number;
  ldb?: number;
  ldc?: number;
}

export interface MediumFieldsRequest {
  seed: number;
  /** Which independent matrix N_epoch of a drifting medium (0 without drift). */
  epoch: number;
  /** Absolute camera pixel and DMD mirror indices (row-major over the whole sensor / DMD). */
  pixels: Int32Array;
  mirrors: Int32Array;
  /** Bit-packed frames over `mirrors`, LSB first, ⌈mirrors/8⌉ bytes per frame (the DmdFrames layout). */
  packed: Uint8Array;
  frames: number;
  /** The whole matrix, column-major (mirrors × pixels), when it is cached; otherwise tiles are generated. */
  cached?: { re: Float32Array; im: Float32Array };
  /**
   * 'lists' adds a column per lit mirror, 'tables' the subset sums of 8 mirrors; 'auto' picks the cheaper for this
   * batch. All three give the same bits (and C++ the same as TypeScript), so the choice only changes the speed.
   */
  kernel?: keyof typeof FieldKernel;
  /** frames × pixels. With `outIm` the complex field; without it, the intensity |field|² in `outRe`. */
  outRe: Float32Array;
  outIm?: Float32Array;
}

const EMPTY = new Float32Array(0);

export interface CameraExposeRequest {
  model: CameraModel;
  /** Field intensities (E|R|² = 1 units), frames × pixels. */
  intensity: Float32Array;
  frames: number;
  /** Absolute sensor indices of the ROI's pixels: the noise is keyed by them. */
  pixels: Int32Array;
  /** Fixed relative gain of each pixel (photo-response non-uniformity). */
  pixelResponse: Float64Array;
  /** Frames shown since the device opened before this batch: the noise is keyed by the frame index. */
  firstFrameIndex: number;
  /** Laser power of each frame relative to nominal. */
  powerFactors: Float64Array;
  /** frames × pixels digital numbers: Uint8Array for 8-bit ADCs, Uint16Array otherwise. */
  out: Uint8Array | Uint16Array;
  /** Per frame, pixels clipped at full well or at the ADC maximum. */
  saturated: Uint32Array;
}

/**
 * The kernels every package calls. Each public method validates its arguments once, with typed errors naming the
 * argument, then runs the implementation chosen at load time.
 */
export class Kernels {
  readonly backend: 'native' | 'typescript';
  readonly #impl: KernelImplementation;

  constructor(backend: 'native' | 'typescript', impl: KernelImplementation) {
    this.backend = backend;
    this.#impl = impl;
  }

  /** Instruction set of the native path ('avx512f', 'avx2-fma', 'portable'), or 'typescript'. */
  get simd(): string {
    return this.#impl.simdPath();
  }

  get threads(): number {
    return this.#impl.threads();
  }

  /** Threads the native kernels use, the caller's included; 0 = the available cores. Returns the new count. */
  setThreads(threads: number): number {
    return this.#impl.setThreads(integerArg(threads, 'threads'));
  }

  /**
   * C = alpha·op(A)·op(B) + beta·C on row-major Float32Array views: op(A) is m×k, op(B) is k×n, C is m×n.
   * With beta = 0, C's previous contents (even NaN) are ignored.
   */
  sgemm(
    m: number,
    n: number,
    k: number,
    A: Float32Array,
    B: Float32Array,
    C: Float32Array,
    options: SgemmOptions = {},
  ) {
    this.#impl.sgemm(...sgemmArgs(m, n, k, A, B, C, options));
  }

  /**
   * `sgemm` off the JavaScript thread when the addon is loaded (the TypeScript fallback computes on this thread,
   * then resolves). Do not touch A, B or C until the promise resolves.
   */
  async sgemmAsync(
    m: number,
    n: number,
    k: number,
    A: Float32Array,
    B: Float32Array,
    C: Float32Array,
    options: SgemmOptions = {},
  ): Promise<void> {
    const args = sgemmArgs(m, n, k, A, B, C, options);
    if (this.#impl.sgemmAsync) return this.#impl.sgemmAsync(...args);
    this.#impl.sgemm(...args);
  }

  /**
   * Entries (pixels[p0..p1), mirrors[q0..q1)) of the medium's matrix N_epoch into re/im, column-major
   * ((q − q0)·(p1 − p0) + (p − p0)), bit-identical in both implementations.
   */
  fillMediumTile(
    seed: number,
    epoch: number,
    pixels: Int32Array,
    p0: number,
    p1: number,
    mirrors: Int32Array,
    q0: number,
    q1: number,
    re: Float32Array,
    im: Float32Array,
  ): void {
    uint32Arg(seed, 'seed');
    uint32Arg(epoch, 'epoch');
    typedArrayArg(pixels, Int32Array, 'pixels');
    typedArrayArg(mirrors, Int32Array, 'mirrors');
    typedArrayArg(re, Float32Array, 're');
    typedArrayArg(im, Float32Array, 'im');
    rangeArg(p0, p1, pixels.length, 'p0', 'p1');
    rangeArg(q0, q1, mirrors.length, 'q0', 'q1');
    const size = (p1 - p0) * (q1 - q0);
    for (const [array, field] of [
      [re, 're'],
      [im, 'im'],
    ] as const) {
      if (array.length < size) {
        throw new KernelArgumentError(`has ${array.length} elements, the tile needs ${size}`, {
          field,
          fix: 'pass a larger array',
        });
      }
    }
    disjointArg(re, im, 're', 'im');
    this.#impl.fillMediumTile(seed >>> 0, epoch >>> 0, pixels, p0, p1, mirrors, q0, q1, re, im);
  }

  /** SGD with momentum in place: v = momentum·v + (g + decay·p); p −= rate·v. */
  sgdStep(p: Float32Array, g: Float32Array, v: Float32Array, rate: number, momentum: number, decay: number): void {
    sameLengths({ p, g, v });
    this.#impl.sgdStep(p, g, v, finiteArg(rate, 'rate'), finiteArg(momentum, 'momentum'), finiteArg(decay, 'decay'));
  }

  /** Adam in place, with the bias corrections c1 = 1 − β1^t and c2 = 1 − β2^t of the current step. */
  adamStep(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    options: { rate: number; beta1: number; beta2: number; epsilon: number; c1: number; c2: number; decay: number },
  ): void {
    sameLengths({ p, g, m, v });
    const o = options;
    for (const key of ['rate', 'beta1', 'beta2', 'epsilon', 'c1', 'c2', 'decay'] as const)
      finiteArg(o[key], `options.${key}`);
    this.#impl.adamStep(p, g, m, v, o.rate, o.beta1, o.beta2, o.epsilon, o.c1, o.c2, o.decay);
  }

  /** h = f(a), elementwise; `slope` is leaky ReLU's for a < 0 (default 0.01). */
  activate(kind: ActivationKind, a: Float32Array, h: Float32Array, slope = 0.01): void {
    sameLengths({ a, h });
    this.#impl.activate(activationArg(kind), finiteArg(slope, 'slope'), a, h);
  }

  /**
   * The gradient through an activation: out[r·width + j] = factor · g[r·gStride + j] · f'(a[r·width + j]), with
   * h = f(a) (tanh and sigmoid take f' from h). g may be a view into a wider matrix, as a DFA projection that holds
   * every layer's columns is.
   */
  activationGradient(
    kind: ActivationKind,
    g: Float32Array,
    a: Float32Array,
    h: Float32Array,
    out: Float32Array,
    shape: { rows: number; width: number; gStride?: number; factor?: number; slope?: number },
  ): void {
    const rows = integerArg(shape.rows, 'shape.rows');
    const width = integerArg(shape.width, 'shape.width');
    const gStride = integerArg(shape.gStride ?? width, 'shape.gStride');
    sameLengths({ a, h, out });
    if (out.length !== rows * width) {
      throw new KernelArgumentError(`has ${out.length} elements, expected ${rows} × ${width}`, {
        field: 'out',
        fix: 'pass rows × width values',
      });
    }
    matrixArg(typedArrayArg(g, Float32Array, 'g'), rows, width, gStride, 'g');
    disjointArg(out, g, 'out', 'g');
    this.#impl.activationGradient(
      activationArg(kind),
      finiteArg(shape.slope ?? 0.01, 'shape.slope'),
      g,
      gStride,
      finiteArg(shape.factor ?? 1, 'shape.factor'),
      a,
      h,
      out,
      rows,
      width,
    );
  }

  /** out[j] = Σ_r x[r·cols + j] (the bias gradient of a batch). */
  columnSums(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
    matrixArg(typedArrayArg(x, Float32Array, 'x'), integerArg(rows, 'rows'), integerArg(cols, 'cols'), cols, 'x');
    if (typedArrayArg(out, Float32Array, 'out').length !== cols) {
      throw new KernelArgumentError(`has ${out.length} elements, expected ${cols}`, {
        field: 'out',
        fix: 'pass cols values',
      });
    }
    disjointArg(out, x, 'out', 'x');
    this.#impl.columnSums(x, rows, cols, out);
  }

  /** Photo-electrons, shot noise, full well, read noise, gain, bias and ADC for every pixel of every frame. */
  cameraExpose(request: CameraExposeRequest): void {
    this.#impl.cameraExpose(...cameraArgs(request));
  }

  /** `cameraExpose` off the JavaScript thread when the addon is loaded. Do not touch the arrays meanwhile. */
  async cameraExposeAsync(request: CameraExposeRequest): Promise<void> {
    const args = cameraArgs(request);
    if (this.#impl.cameraExposeAsync) return this.#impl.cameraExposeAsync(...args);
    this.#impl.cameraExpose(...args);
  }

  /** Σ_q N_epoch[p, q]·x_f[q] for every frame and pixel, as fields or intensities (see MediumFieldsRequest). */
  mediumFields(request: MediumFieldsRequest): void {
    this.#impl.mediumFields(...mediumArgs(request));
  }

  /** `mediumFields` off the JavaScript thread when the addon is loaded. Do not touch the arrays meanwhile. */
  async mediumFieldsAsync(request: MediumFieldsRequest): Promise<void> {
    const args = mediumArgs(request);
    if (this.#impl.mediumFieldsAsync) return this.#impl.mediumFieldsAsync(...args);
    this.#impl.mediumFields(...args);
  }
}

function rangeArg(start: number, end: number, length: number, startField: string, endField: string): void {
  integerArg(start, startField);
  integerArg(end, endField);
  if (start > end || end > length) {
    throw new KernelArgumentError(`[${start}, ${end}) is not within [0, ${length}]`, {
      field: endField,
      fix: `keep ${startField} ≤ ${endField} ≤ ${length}`,
    });
  }
}

function sgemmArgs(
  m: number,
  n: number,
  k: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  options: SgemmOptions,
): Parameters<KernelImplementation['sgemm']> {
  integerArg(m, 'm');
  integerArg(n, 'n');
  integerArg(k, 'k');
  typedArrayArg(A, Float32Array, 'A');
  typedArrayArg(B, Float32Array, 'B');
  typedArrayArg(C, Float32Array, 'C');
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const alpha = finiteArg(options.alpha ?? 1, 'options.alpha');
  const beta = finiteArg(options.beta ?? 0, 'options.beta');
  const lda = integerArg(options.lda ?? (transA ? m : k), 'options.lda', 1);
  const ldb = integerArg(options.ldb ?? (transB ? k : n), 'options.ldb', 1);
  const ldc = integerArg(options.ldc ?? n, 'options.ldc', 1);
  matrixArg(A, transA ? k : m, transA ? m : k, lda, 'A');
  matrixArg(B, transB ? n : k, transB ? k : n, ldb, 'B');
  matrixArg(C, m, n, ldc, 'C');
  disjointArg(C, A, 'C', 'A');
  disjointArg(C, B, 'C', 'B');
  return [transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc];
}

function cameraArgs(request: CameraExposeRequest): Parameters<KernelImplementation['cameraExpose']> {
  const { model, intensity, pixels, pixelResponse, powerFactors, out, saturated } = request;
  const frames = integerArg(request.frames, 'frames');
  uint32Arg(model.seed, 'model.seed');
  for (const key of [
    'electronsPerIntensity',
    'darkElectrons',
    'fullWellE',
    'readNoiseE',
    'aduPerElectron',
    'biasAdu',
    'maxAdu',
  ] as const) {
    if (!(finiteArg(model[key], `model.${key}`) >= 0)) {
      throw new KernelArgumentError(`${model[key]} is negative`, { field: `model.${key}`, fix: 'pass a value ≥ 0' });
    }
  }
  typedArrayArg(intensity, Float32Array, 'intensity');
  typedArrayArg(pixels, Int32Array, 'pixels');
  typedArrayArg(pixelResponse, Float64Array, 'pixelResponse');
  typedArrayArg(powerFactors, Float64Array, 'powerFactors');
  typedArrayArg(saturated, Uint32Array, 'saturated');
  if (!(out instanceof Uint8Array || out instanceof Uint16Array)) {
    throw new KernelArgumentError('is not a Uint8Array or Uint16Array', {
      field: 'out',
      fix: 'pass the ADC’s pixel type',
    });
  }
  if (model.maxAdu > (out instanceof Uint8Array ? 255 : 65535)) {
    throw new KernelArgumentError(`cannot hold ${model.maxAdu}`, {
      field: 'out',
      fix: 'use a Uint16Array above 8 bits',
    });
  }
  const m = pixels.length;
  const sizes: [ArrayLike<number>, number, string][] = [
    [intensity, frames * m, 'intensity'],
    [pixelResponse, m, 'pixelResponse'],
    [powerFactors, frames, 'powerFactors'],
    [out, frames * m, 'out'],
    [saturated, frames, 'saturated'],
  ];
  for (const [array, size, field] of sizes) {
    if (array.length < size) {
      throw new KernelArgumentError(`has ${array.length} elements, needs ${size}`, {
        field,
        fix: 'pass a larger array',
      });
    }
  }
  for (const input of [intensity, pixels, pixelResponse, powerFactors]) {
    disjointArg(out, input, 'out', 'an input');
    disjointArg(saturated, input, 'saturated', 'an input');
  }
  return [
    model,
    intensity,
    frames,
    pixels,
    pixelResponse,
    uint32Arg(request.firstFrameIndex, 'firstFrameIndex'),
    powerFactors,
    out,
    saturated,
  ];
}

function mediumArgs(request: MediumFieldsRequest): Parameters<KernelImplementation['mediumFields']> {
  const { pixels, mirrors, packed, outRe } = request;
  uint32Arg(request.seed, 'seed');
  uint32Arg(request.epoch, 'epoch');
  const frames = integerArg(request.frames, 'frames');
  typedArrayArg(pixels, Int32Array, 'pixels');
  typedArrayArg(mirrors, Int32Array, 'mirrors');
  typedArrayArg(packed, Uint8Array, 'packed');
  typedArrayArg(outRe, Float32Array, 'outRe');
  const m = pixels.length;
  const n = mirrors.length;
  const needed = frames * ((n + 7) >> 3);
  if (packed.length < needed) {
    throw new KernelArgumentError(`has ${packed.length} bytes, ${frames} frames of ${n} mirrors need ${needed}`, {
      field: 'packed',
      fix: 'pack ⌈mirrors/8⌉ bytes per frame',
    });
  }
  const outIm = request.outIm === undefined ? EMPTY : typedArrayArg(request.outIm, Float32Array, 'outIm');
  for (const [array, field] of [
    [outRe, 'outRe'],
    [outIm, 'outIm'],
  ] as const) {
    if ((array !== EMPTY || field === 'outRe') && array.length < frames * m) {
      throw new KernelArgumentError(`has ${array.length} elements, frames × pixels = ${frames * m}`, {
        field,
        fix: 'pass a larger array',
      });
    }
  }
  const cachedRe = request.cached ? typedArrayArg(request.cached.re, Float32Array, 'cached.re') : EMPTY;
  const cachedIm = request.cached ? typedArrayArg(request.cached.im, Float32Array, 'cached.im') : EMPTY;
  if (request.cached && (cachedRe.length !== n * m || cachedIm.length !== n * m)) {
    throw new KernelArgumentError(`holds ${cachedRe.length} entries, mirrors × pixels = ${n * m}`, {
      field: 'cached',
      fix: 'cache the whole matrix of these mirrors and pixels, column-major',
    });
  }
  const kernel = FieldKernel[request.kernel ?? 'auto'];
  if (kernel === undefined) {
    throw new KernelArgumentError(`'${request.kernel}' is not a field kernel`, {
      field: 'kernel',
      fix: 'use auto, lists or tables',
    });
  }
  for (const input of [packed, pixels, mirrors, cachedRe, cachedIm]) {
    disjointArg(outRe, input, 'outRe', 'an input');
    if (outIm !== EMPTY) disjointArg(outIm, input, 'outIm', 'an input');
  }
  if (outIm !== EMPTY) disjointArg(outRe, outIm, 'outRe', 'outIm');
  return [
    request.seed >>> 0,
    request.epoch >>> 0,
    pixels,
    mirrors,
    packed,
    frames,
    cachedRe,
    cachedIm,
    kernel,
    outRe,
    outIm,
  ];
}

/** All arrays are Float32Array of one length and do not share memory. */
function activationArg(kind: unknown): number {
  const index = ACTIVATION_KINDS.indexOf(kind as ActivationKind);
  if (index < 0) {
    throw new KernelArgumentError(`'${String(kind)}' is not an activation`, {
      field: 'kind',
      fix: `use one of ${ACTIVATION_KINDS.join(', ')}`,
    });
  }
  return index;
}

function sameLengths(arrays: Record<string, Float32Array>): void {
  const entries = Object.entries(arrays);
  for (const [field, array] of entries) typedArrayArg(array, Float32Array, field);
  const [firstField, first] = entries[0]!;
  for (const [field, array] of entries.slice(1)) {
    if (array.length !== first.length) {
      throw new KernelArgumentError(`has ${array.length} elements, ${firstField} has ${first.length}`, {
        field,
        fix: 'pass arrays of the same length',
      });
    }
  }
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++)
      disjointArg(entries[i]![1], entries[j]![1], entries[i]![0], entries[j]![0]);
  }
}

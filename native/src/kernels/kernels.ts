import { KernelArgumentError } from '../errors.js';
import { FieldKernel } from '../optics/medium.js';
import { ACTIVATION_KINDS, type ActivationKind } from '../training/elementwise.js';
import type { ParamDeclaration } from './declaration.js';
import {
  type AsyncKernelName,
  CHECKS,
  declarationOf,
  type KernelArgs,
  type KernelImplementation,
  type KernelName,
  type KernelRecord,
  type KernelResult,
} from './signatures.js';
import { disjointArg, integerArg, kindArg } from './validate.js';

/**
 * Validates a call of a declared kernel, before any kernel code runs: the number of arguments, each one's kind, the
 * kernel's own check (shapes, ranges), then that no array it writes shares memory with another array argument.
 */
export function validateCall(name: KernelName, args: readonly unknown[]): void {
  const { params } = declarationOf(name);
  if (args.length !== params.length) {
    throw new KernelArgumentError(`takes ${params.length} arguments, got ${args.length}`, {
      field: name,
      fix: `pass ${params.map(([param]) => param).join(', ')}`,
    });
  }
  params.forEach(([param, kind, options = {}], i) => {
    kindArg(args[i], kind, options, options.label ?? param);
  });
  (CHECKS[name] as ((...args: readonly unknown[]) => void) | undefined)?.(...args);
  const arrays = params.flatMap((param, i) => (ArrayBuffer.isView(args[i]) ? [{ param, view: args[i] }] : []));
  arrays.forEach(({ param: written, view: output }, i) => {
    if (!written[2]?.out) return;
    arrays.forEach(({ param: other, view }, j) => {
      // A pair of written arrays is checked once.
      if (j !== i && !(other[2]?.out && j < i)) disjointArg(output, view, label(written), label(other));
    });
  });
}

function label([param, , options]: ParamDeclaration): string {
  return options?.label ?? param;
}

/** A kernel's arguments in call order, from an object that has them by name. */
export function argsOf<N extends KernelName>(name: N, record: KernelRecord<N>): KernelArgs<N> {
  return declarationOf(name).params.map(([param]) => (record as Record<string, unknown>)[param]) as KernelArgs<N>;
}

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

/** `cameraExpose`'s arguments by name (their kinds and meaning: the declaration in signatures.ts). */
export type CameraExposeRequest = KernelRecord<'cameraExpose'>;

type MediumArgs = KernelRecord<'mediumFields'>;

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
  /**
   * The whole matrix, column-major (mirrors × pixels), when it is cached: what fillMediumTile gives for this seed,
   * epoch, pixels and mirrors (the C++ keeps sums of its columns by those); otherwise tiles are generated.
   */
  cached?: { re: MediumArgs['cachedRe']; im: MediumArgs['cachedIm'] };
  /**
   * 'lists' adds a column per lit mirror, 'tables' the subset sums of 4 mirrors, 'grouped' the sums of the mirrors
   * on or off together over the batch, 'dense' int16 dot products (AVX-512 VNNI, else tables); 'auto' picks for
   * this batch. All give the same bits (and C++ the same as
   * TypeScript: the sums are exact integers), so the choice only changes the speed.
   */
  kernel?: keyof typeof FieldKernel;
  /** frames × pixels. With `outIm` the complex field; without it, the intensity |field|² in `outRe`. */
  outRe: MediumArgs['outRe'];
  outIm?: MediumArgs['outIm'];
}

const EMPTY = new Float32Array(0);

/**
 * The kernels every package calls. `call(name, ...args)` runs any declared kernel with its raw arguments (see
 * signatures.ts); the named methods are conveniences over it (defaults, option objects, names for enums). Every
 * call validates its arguments once, with typed errors naming the argument, then runs the implementation chosen at
 * load time.
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

  /** A declared kernel with its raw arguments, validated. */
  call<N extends KernelName>(name: N, ...args: KernelArgs<N>): KernelResult<N> {
    validateCall(name, args);
    return (this.#impl[name] as (...args: KernelArgs<N>) => KernelResult<N>)(...args);
  }

  /**
   * A declared kernel off the JavaScript thread when the addon is loaded (the TypeScript fallback computes on this
   * thread, then resolves). Validation errors reject. Do not touch the arrays until the promise settles.
   */
  async callAsync<N extends AsyncKernelName>(name: N, ...args: KernelArgs<N>): Promise<KernelResult<N>> {
    validateCall(name, args);
    const offThread = this.#impl[`${name}Async`] as ((...args: KernelArgs<N>) => Promise<KernelResult<N>>) | undefined;
    if (offThread) return offThread(...args);
    return (this.#impl[name] as (...args: KernelArgs<N>) => KernelResult<N>)(...args);
  }

  /**
   * C = alpha·op(A)·op(B) + beta·C on row-major Float32Array views: op(A) is m×k, op(B) is k×n, C is m×n.
   * With beta = 0, C's previous contents (even NaN) are ignored.
   */
  sgemm(m: number, n: number, k: number, A: Float32Array, B: Float32Array, C: Float32Array, options?: SgemmOptions) {
    this.call('sgemm', ...gemmArgs(m, n, k, A, B, C, options));
  }

  /** `sgemm` off the JavaScript thread when the addon is loaded. Do not touch A, B or C until it resolves. */
  async sgemmAsync(
    m: number,
    n: number,
    k: number,
    A: Float32Array,
    B: Float32Array,
    C: Float32Array,
    options?: SgemmOptions,
  ): Promise<void> {
    return this.callAsync('sgemm', ...gemmArgs(m, n, k, A, B, C, options));
  }

  /**
   * fillMediumTile(seed, epoch, pixels, p0, p1, mirrors, q0, q1, re, im): entries (pixels[p0..p1),
   * mirrors[q0..q1)) of the medium's matrix N_epoch into re/im, column-major ((q − q0)·(p1 − p0) + (p − p0)),
   * bit-identical in both implementations.
   */
  fillMediumTile(...args: KernelArgs<'fillMediumTile'>): void {
    this.call('fillMediumTile', ...args);
  }

  /** Σ_q N_epoch[p, q]·x_f[q] for every frame and pixel, as fields or intensities (see MediumFieldsRequest). */
  mediumFields(request: MediumFieldsRequest): void {
    this.call('mediumFields', ...mediumArgs(request));
  }

  /** `mediumFields` off the JavaScript thread when the addon is loaded. Do not touch the arrays meanwhile. */
  async mediumFieldsAsync(request: MediumFieldsRequest): Promise<void> {
    return this.callAsync('mediumFields', ...mediumArgs(request));
  }

  /** Photo-electrons, shot noise, full well, read noise, gain, bias and ADC for every pixel of every frame. */
  cameraExpose(request: CameraExposeRequest): void {
    this.call('cameraExpose', ...argsOf('cameraExpose', request));
  }

  /** `cameraExpose` off the JavaScript thread when the addon is loaded. Do not touch the arrays meanwhile. */
  async cameraExposeAsync(request: CameraExposeRequest): Promise<void> {
    return this.callAsync('cameraExpose', ...argsOf('cameraExpose', request));
  }

  /** sgdStep(p, g, v, rate, momentum, decay): SGD with momentum in place; v = momentum·v + (g + decay·p); p −= rate·v. */
  sgdStep(...args: KernelArgs<'sgdStep'>): void {
    this.call('sgdStep', ...args);
  }

  /**
   * SGD with momentum on a parameter matrix p (m×n) whose gradient is the product G = alpha·op(A)·op(B) (a layer's
   * δᵀ·h): v = momentum·v + (G + decay·p); p −= rate·v. The addon never stores G, and gives the same bits as
   * `sgemm` into G followed by `sgdStep`.
   */
  sgemmSgdStep(
    m: number,
    n: number,
    k: number,
    A: Float32Array,
    B: Float32Array,
    step: { p: Float32Array; v: Float32Array; rate: number; momentum: number; decay: number },
    product: Pick<SgemmOptions, 'transA' | 'transB' | 'alpha' | 'lda' | 'ldb'> = {},
  ): void {
    const [transA, transB, , , , alpha, , lda, , ldb] = gemmArgs(m, n, k, A, B, step.p, product);
    this.call(
      'sgemmSgdStep',
      transA,
      transB,
      m,
      n,
      k,
      alpha,
      A,
      lda,
      B,
      ldb,
      step.p,
      step.v,
      step.rate,
      step.momentum,
      step.decay,
    );
  }

  /** Adam in place, with the bias corrections c1 = 1 − β1^t and c2 = 1 − β2^t of the current step. */
  adamStep(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    options: { rate: number; beta1: number; beta2: number; epsilon: number; c1: number; c2: number; decay: number },
  ): void {
    const o = options;
    this.call('adamStep', p, g, m, v, o.rate, o.beta1, o.beta2, o.epsilon, o.c1, o.c2, o.decay);
  }

  /** h = f(a), elementwise; `slope` is leaky ReLU's for a < 0 (default 0.01). */
  activate(kind: ActivationKind, a: Float32Array, h: Float32Array, slope = 0.01): void {
    this.call('activate', activationArg(kind), slope, a, h);
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
    const { rows, width, gStride = width, factor = 1, slope = 0.01 } = shape;
    this.call('activationGradient', activationArg(kind), slope, g, gStride, factor, a, h, out, rows, width);
  }

  /**
   * darkSubtract(adu, pixelsPerFrame, frames, dark, exposureUs, destination, out): camera frames (ADU) to
   * dark-subtracted intensity per µs of exposure, out[destination[f]·m + i] = (adu[f·pixelsPerFrame + i] − dark[i])
   * / exposureUs for the m = dark.length output pixels, skipping frames whose destination is −1.
   */
  darkSubtract(...args: KernelArgs<'darkSubtract'>): void {
    this.call('darkSubtract', ...args);
  }

  /**
   * crossTerms(references, coefficients, plainCoefficient, offset, intensity, firstFrame, plainFrames, weights,
   * sumRows, sums): for each binary piece p, with I(x) the mean of its plainFrames[p] frames from firstFrame[p] and
   * I(x + r_k) the frames after them, sums[sumRows[p]·m + i] += weights[p]·(Σ_k c_ik·I(x + r_k)_i − s_i·I(x)_i − t_i),
   * all in float64 (opu-core's crossTermCombination gives c, s and t).
   */
  crossTerms(...args: KernelArgs<'crossTerms'>): void {
    this.call('crossTerms', ...args);
  }

  /** columnSums(x, rows, cols, out): out[j] = Σ_r x[r·cols + j] (the bias gradient of a batch). */
  columnSums(...args: KernelArgs<'columnSums'>): void {
    this.call('columnSums', ...args);
  }

  /** `sgemm` in float64: C = alpha·op(A)·op(B) + beta·C on row-major Float64Array views, the same options. */
  dgemm(m: number, n: number, k: number, A: Float64Array, B: Float64Array, C: Float64Array, options?: SgemmOptions) {
    this.call('dgemm', ...gemmArgs(m, n, k, A, B, C, options));
  }

  /**
   * choleskyFactor(a, n): A = L·Lᵀ of a symmetric n×n matrix (its lower triangle is read), L into that lower triangle
   * in place; false when A is not positive definite (a pivot not above 1e-9 of its diagonal entry).
   */
  choleskyFactor(...args: KernelArgs<'choleskyFactor'>): boolean {
    return this.call('choleskyFactor', ...args);
  }

  /** choleskySolve(factor, n, b, width): solves L·Lᵀ·X = B in place, b n × width, factor from choleskyFactor. */
  choleskySolve(...args: KernelArgs<'choleskySolve'>): void {
    this.call('choleskySolve', ...args);
  }

  /** thinQr(a, rows, cols, q, r): A = Q·R, rows ≥ cols; q rows × cols orthonormal, r cols × cols upper, diagonal ≥ 0. */
  thinQr(...args: KernelArgs<'thinQr'>): void {
    this.call('thinQr', ...args);
  }

  /** symmetricEigen(a, n, values, vectors): values descending, vectors' column j the unit eigenvector of values[j]. */
  symmetricEigen(...args: KernelArgs<'symmetricEigen'>): void {
    this.call('symmetricEigen', ...args);
  }

  /** svd(a, rows, cols, u, s, v): thin A = U·diag(s)·Vᵀ, r = min(rows, cols); u rows × r, s descending, v cols × r. */
  svd(...args: KernelArgs<'svd'>): void {
    this.call('svd', ...args);
  }
}

/** sgemm's raw arguments from the convenience form: defaults for the options. */
function gemmArgs<T>(m: number, n: number, k: number, A: T, B: T, C: T, options: SgemmOptions = {}) {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const lda = options.lda ?? (transA ? m : k);
  const ldb = options.ldb ?? (transB ? k : n);
  const ldc = options.ldc ?? n;
  return [transA, transB, m, n, k, options.alpha ?? 1, A, lda, B, ldb, options.beta ?? 0, C, ldc] as const;
}

function mediumArgs(request: MediumFieldsRequest): KernelArgs<'mediumFields'> {
  const kernel = FieldKernel[request.kernel ?? 'auto'];
  if (kernel === undefined) {
    throw new KernelArgumentError(`'${request.kernel}' is not a field kernel`, {
      field: 'kernel',
      fix: 'use auto, lists, tables, grouped or dense',
    });
  }
  return argsOf('mediumFields', {
    ...request,
    cachedRe: request.cached ? request.cached.re : EMPTY,
    cachedIm: request.cached ? request.cached.im : EMPTY,
    kernel,
    outIm: request.outIm ?? EMPTY,
  });
}

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

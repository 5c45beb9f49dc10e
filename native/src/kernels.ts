import { sgemmTs } from './sgemm.js';
import { disjointArg, finiteArg, integerArg, matrixArg, typedArrayArg } from './validate.js';

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
  setThreads(threads: number): number;
  threads(): number;
  simdPath(): string;
}

export const typescriptImplementation: KernelImplementation = {
  sgemm: sgemmTs,
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
    this.#impl.sgemm(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  }
}

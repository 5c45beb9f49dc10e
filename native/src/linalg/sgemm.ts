/**
 * The TypeScript sgemm: C = alpha·op(A)·op(B) + beta·C, row-major. Loops are ordered so that the innermost one
 * walks contiguous memory for every transpose combination.
 */
import type { KernelFunction } from '../kernels/signatures.js';
import { sgdStepTs } from '../training/elementwise.js';

export const sgemmTs: KernelFunction<'sgemm'> = (transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc) => {
  for (let i = 0; i < m; i++) {
    const row = i * ldc;
    // beta = 0 overwrites, so NaN already in C does not leak through 0·C.
    if (beta === 0) C.fill(0, row, row + n);
    else if (beta !== 1) for (let j = 0; j < n; j++) C[row + j]! *= beta;
  }
  if (k === 0 || alpha === 0) return;
  const acc = new Float64Array(n);
  const bRow = new Float32Array(transB ? k : 0);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    if (!transB) {
      for (let p = 0; p < k; p++) {
        const a = transA ? A[p * lda + i]! : A[i * lda + p]!;
        if (a === 0) continue;
        const base = p * ldb;
        for (let j = 0; j < n; j++) acc[j]! += a * B[base + j]!;
      }
    } else {
      for (let p = 0; p < k; p++) bRow[p] = transA ? A[p * lda + i]! : A[i * lda + p]!;
      for (let j = 0; j < n; j++) {
        let s = 0;
        const base = j * ldb;
        for (let p = 0; p < k; p++) s += bRow[p]! * B[base + p]!;
        acc[j] = s;
      }
    }
    const row = i * ldc;
    for (let j = 0; j < n; j++) C[row + j]! += alpha * acc[j]!;
  }
};

/** The gradient G = alpha·op(A)·op(B) into a scratch array, then the SGD step with it (C++ fuses the two). */
export const sgemmSgdStepTs: KernelFunction<'sgemmSgdStep'> = (
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
  p,
  v,
  rate,
  momentum,
  decay,
) => {
  const gradient = new Float32Array(m * n);
  sgemmTs(transA, transB, m, n, k, alpha, A, lda, B, ldb, 0, gradient, n);
  sgdStepTs(p, gradient, v, rate, momentum, decay);
};

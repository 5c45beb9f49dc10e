#pragma once

namespace opu {

// C = alpha·op(A)·op(B) + beta·C, row-major, op(X) = X or Xᵀ. op(A) is m×k, op(B) is k×n, C is m×n with
// leading dimensions lda, ldb, ldc (elements between consecutive rows as stored).
void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
           float beta, float* C, int ldc);

// The momentum-SGD step of p (m×n, row-major) whose gradient is G = alpha·op(A)·op(B), without storing G:
// v = momentum·v + (G + decay·p); p −= rate·v, the same bits as sgemm into G followed by sgdStep.
void sgemmSgdStep(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda, const float* B,
                  int ldb, float* p, float* v, float rate, float momentum, float decay);

// Which micro-kernel runs: "avx512f", "avx2-fma" or "portable".
const char* sgemmPath();

}  // namespace opu

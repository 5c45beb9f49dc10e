#pragma once

namespace opu {

// C = alpha·op(A)·op(B) + beta·C, row-major, op(X) = X or Xᵀ. op(A) is m×k, op(B) is k×n, C is m×n with
// leading dimensions lda, ldb, ldc (elements between consecutive rows as stored).
void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
           float beta, float* C, int ldc);

// Which micro-kernel runs: "avx512f", "avx2-fma" or "portable".
const char* sgemmPath();

}  // namespace opu

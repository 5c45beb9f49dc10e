// sgemm is the float instance of the shared GEMM driver (linalg/gemm.h): 12×32 AVX-512, 6×16 AVX2-FMA or 6×16
// portable micro-kernels, KC = 256, NC = 3072.
#include "linalg/sgemm.h"

#include "linalg/gemm.h"

namespace opu {

const char* sgemmPath() { return gemm::pathName(); }

void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
           float beta, float* C, int ldc) {
  gemm::gemm<float>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemmSgdStep(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda, const float* B,
                  int ldb, float* p, float* v, float rate, float momentum, float decay) {
  gemm::gemmSgdStep<float>(transA, transB, m, n, k, alpha, A, lda, B, ldb, p, v, rate, momentum, decay);
}

}  // namespace opu

"""Baseline for sgemm: numpy's float32 matrix product on OpenBLAS, best of several runs.

argv[1]: a JSON list of shapes {"m", "n", "k", "transA", "transB"}: C (m × n) = op(A)·op(B) with op(A) m × k. A
transposed operand is a transposed view, which numpy hands to BLAS as a flag (no copy), as PyTorch does.
One JSON line per shape, in order.
"""
import json
import sys
import time

import numpy as np

for shape in json.loads(sys.argv[1]):
    m, n, k = shape['m'], shape['n'], shape['k']
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if shape['transA'] else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if shape['transB'] else (k, n), dtype=np.float32)
    op_a = a.T if shape['transA'] else a
    op_b = b.T if shape['transB'] else b
    out = np.empty((m, n), dtype=np.float32)
    np.matmul(op_a, op_b, out=out)
    best = float('inf')
    # Small products take microseconds: time enough repetitions that the clock resolves them.
    repeats = max(1, int(2e8 / (2 * m * n * k)))
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(repeats):
            np.matmul(op_a, op_b, out=out)
        best = min(best, (time.perf_counter() - t) / repeats)
    print(json.dumps({**shape, 'seconds': best, 'gflops': 2 * m * n * k / best / 1e9}))

"""Baseline for sgemm: numpy's float32 matrix product on OpenBLAS, best of several runs. One JSON line per size."""
import json
import sys
import time

import numpy as np

for n in json.loads(sys.argv[1]):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = float('inf')
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    print(json.dumps({'n': n, 'seconds': best, 'gflops': 2 * n**3 / best / 1e9}))

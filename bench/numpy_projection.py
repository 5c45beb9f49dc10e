"""Baseline for the simulated projection: numpy's best formulation of |X·R|² (reference §9).

X is a binary batch (float32), R a complex matrix stored as one float32 matrix [Re | Im], so the projection is a
single SGEMM on OpenBLAS followed by a sum of squares. Prints one JSON line per shape.
"""
import json
import sys
import time

import numpy as np

def bench(n, m, batch, repeats):
    rng = np.random.default_rng(0)
    x = (rng.random((batch, n)) < 0.5).astype(np.float32)
    r = rng.standard_normal((n, 2 * m), dtype=np.float32)
    x @ r  # warm-up
    best = float('inf')
    for _ in range(max(5, repeats)):  # every ratio against numpy is a best of at least 5
        t = time.perf_counter()
        y = x @ r
        intensity = y[:, :m] ** 2 + y[:, m:] ** 2
        best = min(best, time.perf_counter() - t)
    assert intensity.shape == (batch, m)
    return best

shapes = json.loads(sys.argv[1])
for n, m, batch, repeats in shapes:
    seconds = bench(n, m, batch, repeats)
    print(json.dumps({'inputs': n, 'outputs': m, 'batch': batch, 'seconds': seconds, 'framesPerSecond': batch / seconds}))

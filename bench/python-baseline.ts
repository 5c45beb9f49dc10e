/**
 * The Python baselines (numpy, PyTorch) as a fair opponent. These machines set OPENBLAS_CORETYPE=Haswell and
 * OPENBLAS_L2_SIZE for old OpenBLAS builds; inherited by a baseline they pin OpenBLAS to its AVX2 kernels while
 * opu-native runs AVX-512, and every ratio is flattered. They are removed from the baseline's environment only.
 */
import { spawnSync } from 'node:child_process';

const PINNING = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];

/** This process's environment without the OpenBLAS pinning: pass it to every baseline child. */
export const baselineEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !PINNING.includes(key)),
);

/** The first python3 that imports numpy, or undefined. */
export function python(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(candidate, ['-c', 'import numpy'], { encoding: 'utf8', env: baselineEnv });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** The OpenBLAS kernel numpy picks in the baseline's environment, as threadpoolctl reports it. */
export function openblasKernel(py: string): string {
  const code =
    'import numpy, threadpoolctl\n' +
    'blas = [i for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"]\n' +
    "print(\", \".join(f\"{i.get('version')} {i.get('architecture')}, {i.get('num_threads')} threads\" for i in blas))";
  const run = spawnSync(py, ['-c', code], { encoding: 'utf8', env: baselineEnv });
  if (run.status !== 0) return 'unknown (apt-get install python3-threadpoolctl to record it)';
  return run.stdout.trim() || 'not OpenBLAS';
}

/**
 * The Python baselines (numpy, PyTorch) as a fair opponent. These machines set OPENBLAS_CORETYPE=Haswell and
 * OPENBLAS_L2_SIZE for old OpenBLAS builds; inherited by a baseline they pin OpenBLAS to its AVX2 kernels while
 * opu-native runs AVX-512, and every ratio is flattered. They are removed from the baseline's environment only.
 * Which BLAS the baselines run (Debian's libblas.so.3 alternative: OpenBLAS, or the netlib reference when OpenBLAS is
 * not installed) is recorded beside their figures: bench/blas_info.py.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PINNING = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];
const benchDirectory = fileURLToPath(new URL('.', import.meta.url));

/** `env` without the OpenBLAS pinning. */
export function withoutOpenblasPinning(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !PINNING.includes(key)));
}

/** This process's environment without the OpenBLAS pinning: pass it to every baseline child. */
export const baselineEnv: NodeJS.ProcessEnv = withoutOpenblasPinning(process.env);

/** The first python3 that imports numpy, or undefined. */
export function python(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(candidate, ['-c', 'import numpy'], { encoding: 'utf8', env: baselineEnv });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/**
 * The BLAS numpy runs in the baseline's environment: the library mapped into the process after a product and, for
 * OpenBLAS, the kernel and threads threadpoolctl reports (bench/blas_info.py).
 */
export function numpyBlas(py: string): string {
  const code =
    'import numpy, blas_info\n' +
    'numpy.ones((64, 64), dtype=numpy.float32) @ numpy.ones((64, 64), dtype=numpy.float32)\n' +
    'print(blas_info.describe())';
  const run = spawnSync(py, ['-c', code], { encoding: 'utf8', env: baselineEnv, cwd: benchDirectory });
  return run.status === 0 ? run.stdout.trim() : `unknown (${run.stderr.trim().split('\n').at(-1)})`;
}

/** PyTorch's settings as bench/torch_mlp.py prints them. */
export interface TorchSettings {
  version: string;
  blas: string;
  buildBlas: string;
  cpuCapability: string;
  mkldnn: boolean;
  parallelBackend: string;
  defaultThreads: number;
}

/** bench/torch_mlp.py's result: the best epoch at 1 and at 2 threads, the better one, and the settings. */
export interface TorchEpochs {
  seconds: number;
  threads: number;
  all: Record<string, number>;
  epochs: number;
  settings: TorchSettings;
}

/** One line for the record: the version, the BLAS it ran on, its threads. */
export function describeTorch(t: TorchEpochs): string {
  const s = t.settings;
  return (
    `PyTorch ${s.version} (BLAS: ${s.blas}; built with BLAS_INFO=${s.buildBlas}, ATen CPU capability ` +
    `${s.cpuCapability}, MKL-DNN ${s.mkldnn ? 'on' : 'off'}, ${s.parallelBackend} backend, ${s.defaultThreads} ` +
    'threads by default)'
  );
}

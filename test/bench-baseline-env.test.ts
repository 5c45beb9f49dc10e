import { describe, expect, it } from 'vitest';
import { baselineEnv, withoutOpenblasPinning } from '../bench/python-baseline.js';

describe("the benchmark's Python baselines run OpenBLAS unpinned", () => {
  it('drops OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from a copy of the environment, and only those', () => {
    const env = { OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '512', OPENBLAS_NUM_THREADS: '2', PATH: '/usr/bin' };
    expect(withoutOpenblasPinning(env)).toEqual({ OPENBLAS_NUM_THREADS: '2', PATH: '/usr/bin' });
    expect(env).toEqual({
      OPENBLAS_CORETYPE: 'Haswell',
      OPENBLAS_L2_SIZE: '512',
      OPENBLAS_NUM_THREADS: '2',
      PATH: '/usr/bin',
    });
  });

  it("the children's environment lacks both and keeps every other variable of this process", () => {
    expect(baselineEnv).not.toHaveProperty('OPENBLAS_CORETYPE');
    expect(baselineEnv).not.toHaveProperty('OPENBLAS_L2_SIZE');
    for (const [key, value] of Object.entries(process.env)) {
      if (key !== 'OPENBLAS_CORETYPE' && key !== 'OPENBLAS_L2_SIZE') expect(baselineEnv[key]).toBe(value);
    }
  });
});

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kernels, loadNative } from '../src/index.js';

/**
 * The instruction set is chosen once per process, so each capped path runs in a child process: it compares the
 * addon's sgemm with a float64 reference on odd shapes and transposes, and prints the path and the worst error.
 */
const child = `
const addon = require(process.argv[1]);
let seed = 1;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
let worst = 0;
for (const [m, n, k] of [[1, 1, 1], [13, 29, 7], [50, 70, 300], [7, 1, 9]]) {
  for (const ta of [false, true]) for (const tb of [false, true]) {
    const A = Float32Array.from({ length: m * k }, rand), B = Float32Array.from({ length: k * n }, rand);
    const C = Float32Array.from({ length: m * n }, rand), C0 = C.slice();
    addon.sgemm(ta, tb, m, n, k, 0.5, A, ta ? m : k, B, tb ? k : n, 2, C, n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? A[p * m + i] : A[i * k + p]) * (tb ? B[j * k + p] : B[p * n + j]);
      worst = Math.max(worst, Math.abs(C[i * n + j] - (0.5 * s + 2 * C0[i * n + j])));
    }
  }
}
console.log(JSON.stringify({ path: addon.simdPath(), worst }));
`;

const native = loadNative();
/** CI sets OPU_NATIVE_EXPECT_SIMD=portable when it loads the no-SIMD build (OPU_NATIVE_ADDON). */
const expected = process.env.OPU_NATIVE_EXPECT_SIMD;

describe('every sgemm path computes the same product', () => {
  for (const simd of ['avx2', 'portable']) {
    it(`OPU_NATIVE_SIMD=${simd}`, () => {
      if (!native.implementation || !native.path) return expect(process.env.OPU_NATIVE).toBe('0');
      const out = execFileSync(process.execPath, ['-e', child, native.path], {
        env: { ...process.env, OPU_NATIVE_SIMD: simd },
        encoding: 'utf8',
      });
      const { path, worst } = JSON.parse(out.trim());
      expect(path).toBe(simd === 'avx2' && expected !== 'portable' ? 'avx2-fma' : 'portable');
      expect(worst).toBeLessThan(1e-4);
    });
  }

  it.runIf(expected !== undefined)(`the loaded addon runs ${expected}`, () => {
    expect(kernels.backend).toBe('native');
    expect(kernels.simd).toBe(expected);
  });
});

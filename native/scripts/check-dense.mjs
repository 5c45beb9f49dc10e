// Checks the C++ dense linear algebra (addon/src/linalg/dense.cc) without N-API or node-gyp: builds
// addon/test/dense-check.cc with g++ against dense.cc and runtime/pool.cc, runs its seeded cases, and exits non-zero
// if any fails. Builds: -O2 with the SIMD paths (run as detected, then capped to AVX2 and to the portable loops by
// OPU_NATIVE_SIMD), -O2 with -DOPU_NATIVE_NO_SIMD (no x86 intrinsics compiled at all), and the addon's own flags
// (binding.gyp: -O3), which also times the target sizes: the vector loops are written for -O3's vectorizer, so -O2
// timings would not be the addon's.
//
//   node native/scripts/check-dense.mjs            all builds, timings in the -O3 one
//   node native/scripts/check-dense.mjs --quick    the -O3 build only, without timings
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const addon = join(dirname(fileURLToPath(import.meta.url)), '..', 'addon');
const sources = ['test/dense-check.cc', 'src/linalg/dense.cc', 'src/runtime/pool.cc'].map((file) => join(addon, file));
// As binding.gyp compiles the addon, but for the optimization level.
const common = [
  '-std=c++17',
  '-ffp-contract=off',
  '-fno-math-errno',
  '-fno-trapping-math',
  '-Wall',
  '-Wextra',
  '-Werror',
];
const quick = process.argv.includes('--quick');

const builds = [
  { name: 'simd -O2', flags: ['-O2'], runs: [{}, { OPU_NATIVE_SIMD: 'avx2' }, { OPU_NATIVE_SIMD: 'portable' }] },
  { name: 'no-simd -O2', flags: ['-O2', '-DOPU_NATIVE_NO_SIMD'], runs: [{}] },
  { name: 'addon flags -O3', flags: ['-O3'], runs: [{}], timing: !quick },
].filter((build) => !quick || build.name.startsWith('addon'));

const directory = mkdtempSync(join(tmpdir(), 'opu-dense-check-'));
let failed = false;
try {
  for (const build of builds) {
    const binary = join(directory, build.name.replace(/\W+/g, '-'));
    const compile = spawnSync(
      'g++',
      [...common, ...build.flags, '-I', join(addon, 'src'), ...sources, '-o', binary, '-pthread'],
      {
        stdio: 'inherit',
      },
    );
    if (compile.status !== 0) {
      console.error(`check-dense: the ${build.name} build failed (g++ exit ${compile.status ?? compile.error})`);
      failed = true;
      continue;
    }
    for (const env of build.runs) {
      const label =
        Object.entries(env)
          .map(([key, value]) => `${key}=${value}`)
          .join(' ') || 'detected instruction set';
      console.log(`\n== ${build.name}, ${label}`);
      const run = spawnSync(binary, build.timing ? ['--timing'] : [], {
        stdio: 'inherit',
        env: { ...process.env, ...env },
      });
      if (run.status !== 0) failed = true;
    }
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
console.log(failed ? '\ncheck-dense: FAILED' : '\ncheck-dense: every build passed');
process.exit(failed ? 1 : 0);

// Builds the C++ addon with node-gyp. Run by the root package's postinstall (`npm ci`), and by `npm run
// build:native`. A failed build is not fatal: every kernel has a TypeScript fallback, and the loader says which
// one runs and why. First it regenerates the kernels' argument unpacking (addon/src/generated/bindings.h) from their
// declarations, so the addon always matches native/src/kernels/signatures.ts.
//
//   node native/scripts/build.mjs             → native/addon/build/Release/opu_native.node
//   node native/scripts/build.mjs --no-simd   → native/addon/build-nosimd/build/Release/opu_native.node: the same
//     sources with -DOPU_NATIVE_NO_SIMD (only the portable paths, as on a non-x86 machine), in a directory of its
//     own, so the normal build is not touched. Load it with OPU_NATIVE_ADDON=<that path>. A failure exits 1.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDerived } from './generate-bindings.mjs';

const addon = join(dirname(fileURLToPath(import.meta.url)), '..', 'addon');
const noSimd = process.argv.includes('--no-simd');
const require = createRequire(import.meta.url);

function giveUp(message) {
  console.warn(`opu-native: ${message}${noSimd ? '' : '; the TypeScript kernels will be used'}`);
  process.exit(noSimd ? 1 : 0);
}

try {
  for (const path of writeDerived({ only: 'bindings' }))
    console.log(`opu-native: regenerated ${relative(addon, path)}`);
} catch (error) {
  // The committed bindings are built instead; the loader refuses them if they do not match the declarations.
  console.warn(`opu-native: could not regenerate the bindings (${error.message})`);
}

let nodeGyp;
try {
  nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  giveUp('node-gyp is not installed');
}

// node-gyp builds into <directory>/build; the no-SIMD variant gets a directory whose binding.gyp includes the real
// one (gyp rebases its paths) and sets the gyp variable that adds the define.
let project = addon;
const variables = [];
if (noSimd) {
  project = join(addon, 'build-nosimd');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'binding.gyp'), '{ "includes": ["../binding.gyp"] }\n');
  variables.push('--opu_native_simd=off');
}
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--directory', project, ...variables], {
  stdio: 'inherit',
});
if (result.status !== 0) giveUp(`the C++ addon did not build (node-gyp exit ${result.status})`);
if (noSimd) console.log(`opu-native: built ${join(project, 'build', 'Release', 'opu_native.node')}`);

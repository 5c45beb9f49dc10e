// Builds the C++ addon in this repository. Run by the root package's postinstall (`npm ci`), and by `npm run
// build:native`. A failed build is not fatal: every kernel has a TypeScript fallback, and the loader says which one
// runs and why. First it regenerates the kernels' argument unpacking (addon/src/generated/bindings.h) from their
// declarations, so the addon always matches native/src/kernels/signatures.ts.
//
//   node native/scripts/build.mjs             → native/prebuilds/<platform>-<arch>/opu-native[.glibc|.musl].node:
//     prebuildify (--napi --strip, --tag-libc on Linux) compiles once with node-gyp in native/build and moves the stripped
//     binary there, where node-gyp-build finds it at run time and `npm pack -w opu-native` ships it. On Linux it is
//     linked with libstdc++ inside (binding.gyp: opu_native_static_libstdcxx) and, on x86-64 glibc, with the newer
//     glibc symbol versions avoided (opu_native_glibc_compat), to run on older distributions.
//   node native/scripts/build.mjs --no-simd   → native/build-nosimd/build/Release/opu_native.node: the same
//     sources with -DOPU_NATIVE_NO_SIMD (only the portable paths, as on a non-x86 machine), in a directory of its
//     own, so the normal build is not touched. Load it with OPU_NATIVE_ADDON=<that path>. A failure exits 1.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDerived } from './generate-bindings.mjs';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const noSimd = process.argv.includes('--no-simd');
const require = createRequire(import.meta.url);

function giveUp(message) {
  console.warn(`opu-native: ${message}${noSimd ? '' : '; the TypeScript kernels will be used'}`);
  process.exit(noSimd ? 1 : 0);
}

try {
  for (const path of writeDerived({ only: 'bindings' }))
    console.log(`opu-native: regenerated ${relative(packageRoot, path)}`);
} catch (error) {
  // The committed bindings are built instead; the loader refuses them if they do not match the declarations.
  console.warn(`opu-native: could not regenerate the bindings (${error.message})`);
}

if (noSimd) buildNoSimd();
else buildPrebuild();

/** node-gyp builds into <directory>/build; this directory's binding.gyp includes the real one (gyp rebases its paths). */
function buildNoSimd() {
  let nodeGyp;
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    giveUp('node-gyp is not installed');
  }
  const project = join(packageRoot, 'build-nosimd');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'binding.gyp'), '{ "includes": ["../binding.gyp"] }\n');
  const result = spawnSync(
    process.execPath,
    [nodeGyp, 'rebuild', '--jobs=max', '--directory', project, '--opu_native_simd=off'],
    {
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) giveUp(`the no-SIMD addon did not build (node-gyp exit ${result.status})`);
  console.log(`opu-native: built ${join(project, 'build', 'Release', 'opu_native.node')}`);
}

function buildPrebuild() {
  let prebuildify;
  try {
    prebuildify = require('prebuildify');
  } catch {
    giveUp('prebuildify is not installed (a devDependency of the repository)');
  }
  // node-gyp reads npm_config_* settings: unknown ones become gyp variables; jobs is make's -j (prebuildify passes
  // none, and one compile per core halves the wait on two cores).
  process.env.npm_config_opu_native_static_libstdcxx = 'on';
  const glibc = process.platform === 'linux' && process.report.getReport().header.glibcVersionRuntime !== undefined;
  if (glibc && process.arch === 'x64') process.env.npm_config_opu_native_glibc_compat = 'on';
  process.env.npm_config_jobs ??= 'max';
  const options = {
    cwd: packageRoot,
    napi: true,
    strip: true,
    // glibc or musl in the name on Linux, where node-gyp-build tells them apart; elsewhere the tag would be a
    // meaningless "glibc" (prebuildify's default).
    tagLibc: process.platform === 'linux',
    // N-API: one binary serves every Node version; building against the running one's headers needs no download.
    targets: [process.versions.node],
  };
  prebuildify(options, (error) => {
    if (error) giveUp(`the C++ addon did not build (${error.message})`);
    const folder = join('prebuilds', `${process.platform}-${process.arch}`);
    const built = readdirSync(join(packageRoot, folder)).filter((name) => name.endsWith('.node'));
    console.log(`opu-native: built ${built.map((name) => join('native', folder, name)).join(', ')}`);
  });
}

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root: the directory above this module, in src/ (tests, tsx) or dist/ (the built package). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The part of node-gyp-build the loader uses (the package ships no types). */
interface NodeGypBuild {
  /**
   * The addon file for this process: `build/Release/*.node` (a build on this machine) first, else the best match in
   * `prebuilds/<platform>-<arch>/` for the runtime, N-API and libc (glibc or musl); throws "No native build was found
   * for platform=… arch=… libc=…" when there is none.
   */
  resolve(packageRoot: string): string;
}

const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild;

/** Where the addon comes from: the file OPU_NATIVE_ADDON names, a build on this machine, or a shipped prebuild. */
export type AddonSource = 'OPU_NATIVE_ADDON' | 'build' | 'prebuild';

export type AddonFile =
  | { path: string; source: AddonSource; reason?: undefined }
  | { path: undefined; source?: undefined; reason: string };

/**
 * The addon file this process would load: OPU_NATIVE_ADDON when set (e.g. the no-SIMD build), else what
 * node-gyp-build resolves in `packageRoot`. Only finds the file; loading it can still fail (another glibc, another
 * declaration key). `reason` says why there is none.
 */
export function locateAddon(packageRoot: string = PACKAGE_ROOT, env: NodeJS.ProcessEnv = process.env): AddonFile {
  if (env.OPU_NATIVE_ADDON) return { path: resolve(env.OPU_NATIVE_ADDON), source: 'OPU_NATIVE_ADDON' };
  try {
    const path = nodeGypBuild.resolve(packageRoot);
    const source = relative(packageRoot, path).startsWith(`prebuilds${sep}`) ? 'prebuild' : 'build';
    return { path, source };
  } catch (error) {
    return { path: undefined, reason: (error instanceof Error ? error.message : String(error)).split('\n')[0] };
  }
}

/**
 * The command that (re)builds the addon where this package sits: `npm run build:native` in the repository (recognized
 * by its build script, which the package does not ship), `npm rebuild opu-native` for an installed package (it
 * compiles from the shipped sources).
 */
export function rebuildCommand(packageRoot: string = PACKAGE_ROOT): string {
  return isRepositoryCheckout(packageRoot)
    ? 'build it with npm run build:native'
    : 'install python3, make and a C++ compiler, then run npm rebuild opu-native';
}

/** Whether `packageRoot` is native/ of the repository rather than an installed package. */
function isRepositoryCheckout(packageRoot: string): boolean {
  return existsSync(join(packageRoot, 'scripts', 'build.mjs'));
}

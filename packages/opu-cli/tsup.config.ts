import { defineConfig } from 'tsup';

export default defineConfig({
  // A program, not a library: ESM only (it awaits at the top level), no declarations.
  entry: { main: 'src/main.ts' },
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['opu-core', 'opu-driver', 'opu-emulator', 'opu-report', 'opu-sim'],
});

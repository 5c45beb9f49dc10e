import { defineConfig } from 'tsup';

const external = ['opu-core', 'opu-native', 'opu-protocol', 'opu-sim', 'zod'];

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    external,
  },
  {
    // The emulator process (bin opu-emulator): ESM only, it awaits at the top level.
    entry: { main: 'src/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    external,
  },
]);

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests run against the TypeScript sources, not dist, so `npm test` needs no build step.
const alias = {
  'opu-core/testing': src('./packages/opu-core/src/testing/index.ts'),
  'opu-core': src('./packages/opu-core/src/index.ts'),
  'opu-sim': src('./packages/opu-sim/src/index.ts'),
  'opu-native': src('./native/src/index.ts'),
  'dfa-nn': src('./packages/dfa-nn/src/index.ts'),
  'opu-driver': src('./packages/opu-driver/src/index.ts'),
  'opu-randnla': src('./packages/opu-randnla/src/index.ts'),
};

export default defineConfig({
  test: {
    projects: [
      { resolve: { alias }, test: { name: 'opu-core', root: './packages/opu-core', include: ['test/**/*.test.ts'] } },
      {
        resolve: { alias },
        // The TypeScript kernels (OPU_NATIVE=0) take seconds on a machine that runs other test files beside them.
        test: { name: 'opu-native', root: './native', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        resolve: { alias },
        test: { name: 'dfa-nn', root: './packages/dfa-nn', include: ['test/**/*.test.ts'], testTimeout: 120_000 },
      },
      { resolve: { alias }, test: { name: 'opu-sim', root: './packages/opu-sim', include: ['test/**/*.test.ts'] } },
      {
        resolve: { alias },
        test: {
          name: 'opu-driver',
          root: './packages/opu-driver',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'opu-randnla',
          root: './packages/opu-randnla',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: { name: 'opu-cli', root: './packages/opu-cli', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        resolve: { alias },
        test: { name: 'integration', root: './test', include: ['**/*.test.ts'], testTimeout: 120_000 },
      },
    ],
  },
});

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const packages = [
  'opu-protocol',
  'opu-sim',
  'opu-report',
  'dfa-nn',
  'opu-learn',
  'opu-randnla',
  'opu-driver',
  'opu-emulator',
  'opu-cli',
];

// Tests run against the TypeScript sources, not dist, so `npm test` needs no build step.
const alias = {
  'opu-core/testing': src('./packages/opu-core/src/device/testing/index.ts'),
  'opu-core': src('./packages/opu-core/src/index.ts'),
  'opu-native': src('./native/src/index.ts'),
  ...Object.fromEntries(packages.map((name) => [name, src(`./packages/${name}/src/index.ts`)])),
};

/** Per-test timeouts: the simulator, training and serial tests run seconds each on a loaded 2-core machine. */
const timeoutMs: Record<string, number> = {
  'opu-core': 5_000,
  // The TypeScript kernels (OPU_NATIVE=0) take seconds on a machine that runs other test files beside them.
  'opu-native': 60_000,
  'opu-sim': 60_000,
  'dfa-nn': 120_000,
  'opu-learn': 120_000,
  'opu-driver': 60_000,
  'opu-emulator': 60_000,
  'opu-randnla': 60_000,
  'opu-cli': 60_000,
};

const project = (name: string, root: string) => ({
  resolve: { alias },
  test: { name, root, include: ['test/**/*.test.ts'], testTimeout: timeoutMs[name] ?? 5_000 },
});

export default defineConfig({
  test: {
    projects: [
      project('opu-core', './packages/opu-core'),
      project('opu-native', './native'),
      ...packages.map((name) => project(name, `./packages/${name}`)),
      {
        resolve: { alias },
        test: {
          name: 'integration',
          root: './test',
          include: ['**/*.test.ts'],
          exclude: ['packages/**'],
          testTimeout: 120_000,
        },
      },
      // The packed tarballs installed into apps outside the repository: no aliases, the real packages.
      {
        test: {
          name: 'packages',
          root: './test/packages',
          include: ['*.test.ts'],
          globalSetup: ['./global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});

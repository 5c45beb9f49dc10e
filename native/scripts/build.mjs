// Builds the C++ addon with node-gyp. Run by the root package's postinstall (`npm ci`), and by `npm run
// build:native`. A failed build is not fatal: every kernel has a TypeScript fallback, and the loader says which
// one runs and why.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const addon = join(dirname(fileURLToPath(import.meta.url)), '..', 'addon');
const require = createRequire(import.meta.url);
let nodeGyp;
try {
  nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  console.warn('opu-native: node-gyp is not installed; the TypeScript kernels will be used');
  process.exit(0);
}
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--directory', addon], { stdio: 'inherit' });
if (result.status !== 0) {
  console.warn(
    `opu-native: the C++ addon did not build (node-gyp exit ${result.status}); the TypeScript kernels will be used`,
  );
}

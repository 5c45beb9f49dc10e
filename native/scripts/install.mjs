// opu-native's install script, for a project that installs the package (and `npm rebuild opu-native`), with
// node-gyp-build's logic: if the addon node-gyp-build resolves (build/Release, else the prebuild of this platform,
// architecture and libc) loads, there is nothing to do; otherwise node-gyp compiles it from the shipped sources. When
// that fails (no compiler, no python) the install still succeeds: one line says the TypeScript kernels will be used
// and what to run once a compiler is there. npm_config_build_from_source=true (npm rebuild --build-from-source)
// compiles even when a prebuild loads.
//
// In the repository itself the root postinstall builds (npm run build:native): where scripts/build.mjs exists (it is
// not shipped) this does nothing, so npm ci never compiles twice.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

if (existsSync(join(packageRoot, 'scripts', 'build.mjs'))) process.exit(0);

/** The file node-gyp-build would load, if it loads in a fresh process (a prebuild for a newer glibc does not). */
function loadableAddon() {
  let path;
  try {
    path = require('node-gyp-build').resolve(packageRoot);
  } catch {
    return undefined;
  }
  const load = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', path], { stdio: 'ignore' });
  return load.status === 0 ? path : undefined;
}

/** npm hands its own node-gyp to install scripts; outside npm, a node-gyp on the PATH. */
function nodeGypCommand() {
  const script = process.env.npm_config_node_gyp;
  if (script) return [process.execPath, [script]];
  return process.platform === 'win32' ? ['node-gyp.cmd', []] : ['node-gyp', []];
}

if (process.env.npm_config_build_from_source !== 'true' && loadableAddon()) process.exit(0);

const [command, prefix] = nodeGypCommand();
const build = spawnSync(command, [...prefix, 'rebuild'], {
  cwd: packageRoot,
  encoding: 'utf8',
  shell: process.platform === 'win32',
});
if (build.status === 0 && loadableAddon()) process.exit(0);

const log = join(packageRoot, 'build', 'install.log');
mkdirSync(dirname(log), { recursive: true });
writeFileSync(log, `${build.error ?? ''}\n${build.stdout ?? ''}\n${build.stderr ?? ''}`);
console.warn(
  `opu-native: no prebuilt addon fits and compiling one failed (log: ${log}); the TypeScript kernels will be used. ` +
    'Install python3, make and a C++ compiler, then run: npm rebuild opu-native',
);

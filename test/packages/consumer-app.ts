/**
 * A user's app outside this repository, made of the packed tarballs: what `npm install opu-core opu-sim …` gives
 * someone who never cloned it. Each app is a temporary directory with the fixtures of ./app copied in.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./app', import.meta.url));

/** What the global setup packed: one tarball per workspace, by package name. */
export interface Packed {
  directory: string;
  tarballs: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    packed: Packed | undefined;
  }
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

const execFileAsync = promisify(execFile);

/** The temporary directories this test file made (apps of ~100 MB each), removed by removeTemporaries(). */
const temporaries: string[] = [];

function temporaryDirectory(prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  temporaries.push(directory);
  return directory;
}

/** Removes every app, PATH and repacked tarball this test file made (call it in afterAll). */
export function removeTemporaries(): void {
  for (const directory of temporaries.splice(0)) rmSync(directory, { recursive: true, force: true });
}

/** Runs a program to its end and returns its exit code and output, whatever the code (tests assert on it). */
export async function run(
  file: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, {
      cwd: options.cwd,
      env: options.env,
      timeout: options.timeoutMs ?? 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? failed.message,
    };
  }
}

/**
 * A PATH on which node, npm, npx and sh (npm runs install scripts with it) are found and no compiler, make or
 * Python: a machine with Node.js and nothing else to build an addon with. The tools are symbolic links.
 */
export function pathWithoutCompiler(): string {
  const bin = temporaryDirectory('opu-node-only-');
  const npmCli = join(dirname(realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm', 'bin');
  const npmBin = existsSync(npmCli) ? npmCli : dirname(realpathSync(findOnPath('npm')));
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(join(npmBin, 'npm-cli.js'), join(bin, 'npm'));
  symlinkSync(join(npmBin, 'npx-cli.js'), join(bin, 'npx'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

function findOnPath(command: string): string {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (existsSync(join(directory, command))) return join(directory, command);
  }
  throw new Error(`${command} is not on PATH`);
}

/** The environment of the app's commands: this one without the repository's kernel switches, on the PATH given. */
export function appEnvironment(path: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: path, ...extra };
  for (const name of ['OPU_NATIVE', 'OPU_NATIVE_ADDON', 'OPU_NATIVE_EXPECT_SIMD', 'NODE_OPTIONS', 'VITEST']) {
    if (!(name in extra)) delete env[name];
  }
  for (const name of Object.keys(env)) if (name.startsWith('npm_')) delete env[name];
  return env;
}

/**
 * Makes an app in a temporary directory outside the repository and installs the tarballs into it, with TypeScript
 * and Node's types as a TypeScript user would have them. `replace` swaps a package's tarball (e.g. opu-native
 * without its prebuilds).
 */
export async function installApp(
  packed: Packed,
  env: NodeJS.ProcessEnv,
  replace: Record<string, string> = {},
): Promise<{ directory: string; install: CommandResult }> {
  const directory = temporaryDirectory('opu-consumer-');
  cpSync(FIXTURES, directory, { recursive: true });
  writeFileSync(
    join(directory, 'package.json'),
    `${JSON.stringify({ name: 'opu-consumer', private: true, type: 'module', allowScripts: { 'opu-native': true } }, null, 2)}\n`,
  );
  const tarballs = Object.entries(packed.tarballs).map(([name, file]) => replace[name] ?? file);
  const install = await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...tarballs,
      'typescript@~5.9.3',
      '@types/node@~20.19.0',
    ],
    { cwd: directory, env },
  );
  return { directory, install };
}

/** The package's tarball unpacked, changed by `edit` (given the unpacked package directory), and packed again. */
export async function repack(tarball: string, edit: (packageDirectory: string) => void): Promise<string> {
  const work = temporaryDirectory('opu-repack-');
  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  await execFileAsync('tar', ['-xzf', tarball, '-C', unpacked]);
  edit(join(unpacked, 'package'));
  const output = join(work, tarball.split('/').at(-1)!);
  await execFileAsync('tar', ['-czf', output, '-C', unpacked, 'package']);
  return output;
}

/** Files under a directory, relative to it (to say what an install left behind). */
export function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1));
}

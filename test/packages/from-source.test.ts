/**
 * opu-native where no prebuild matches (another platform, a libc without one): the tarball without its prebuilds.
 * With a compiler the install builds the addon from the shipped sources; without one the install still succeeds,
 * the TypeScript kernels run, and one line says what to run once a compiler is there.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  appEnvironment,
  filesUnder,
  installApp,
  pathWithoutCompiler,
  removeTemporaries,
  repack,
  run,
} from './consumer-app.js';

const packed = inject('packed');

describe.skipIf(!packed)('opu-native installed without a prebuild', () => {
  let withoutPrebuilds: string;

  afterAll(removeTemporaries);
  beforeAll(async () => {
    withoutPrebuilds = await repack(packed!.tarballs['opu-native']!, (directory) =>
      rmSync(join(directory, 'prebuilds'), { recursive: true, force: true }),
    );
  });

  it('compiles the shipped sources when a compiler is present, and runs the native kernels', async () => {
    const env = appEnvironment(process.env.PATH!);
    const { directory, install } = await installApp(packed!, env, { 'opu-native': withoutPrebuilds });
    expect(install.code, install.stderr).toBe(0);
    const native = join(directory, 'node_modules', 'opu-native');
    expect(filesUnder(join(native, 'prebuilds'))).toEqual([]);
    expect(filesUnder(join(native, 'build', 'Release'))).toContain('opu_native.node');
    const result = await run('node', ['esm.mjs'], { cwd: directory, env });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!).kernels).toBe('native');
  }, 900_000);

  it('without a compiler, installs anyway and runs the TypeScript kernels, saying in one line what to do', async () => {
    const env = appEnvironment(pathWithoutCompiler());
    const { directory, install } = await installApp(packed!, env, { 'opu-native': withoutPrebuilds });
    expect(install.code, install.stderr).toBe(0);
    const result = await run('node', ['cjs.cjs'], { cwd: directory, env: { ...env, EXPECT_KERNELS: 'typescript' } });
    expect(result.code, result.stderr).toBe(0);
    const notices = result.stderr.split('\n').filter((line) => line.startsWith('opu-native:'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/TypeScript kernels/);
    expect(notices[0]).toMatch(/npm rebuild opu-native/);
  }, 900_000);
});

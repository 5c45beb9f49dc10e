import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateAddon, rebuildCommand } from '../src/addon-file.js';
import { loadNative } from '../src/index.js';

/** The libc node-gyp-build tags this machine with (its own test: /etc/alpine-release). */
const libc = existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
const otherLibc = libc === 'musl' ? 'glibc' : 'musl';
const tuple = `${process.platform}-${process.arch}`;

describe('which addon file the loader picks in a package', () => {
  let root: string;
  const put = (...parts: string[]) => {
    const path = join(root, ...parts);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
    return path;
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'opu-native-package-'));
  });
  afterEach(() => rmSync(root, { recursive: true }));

  it('none: a reason naming the platform, no path', () => {
    const found = locateAddon(root, {});
    expect(found.path).toBeUndefined();
    expect(found.reason).toMatch(new RegExp(`No native build was found for platform=${process.platform} arch=`));
  });

  it('the prebuild of this platform, architecture and libc', () => {
    const prebuild = put('prebuilds', tuple, `opu-native.${libc}.node`);
    put('prebuilds', `${process.platform}-not${process.arch}`, `opu-native.${libc}.node`);
    expect(locateAddon(root, {})).toEqual({ path: prebuild, source: 'prebuild' });
  });

  it.runIf(process.platform === 'linux')('not a prebuild for the other libc', () => {
    put('prebuilds', tuple, `opu-native.${otherLibc}.node`);
    expect(locateAddon(root, {}).path).toBeUndefined();
  });

  it('a build on this machine before the prebuild', () => {
    put('prebuilds', tuple, `opu-native.${libc}.node`);
    const build = put('build', 'Release', 'opu_native.node');
    expect(locateAddon(root, {})).toEqual({ path: build, source: 'build' });
  });

  it('OPU_NATIVE_ADDON before both, as an absolute path', () => {
    put('build', 'Release', 'opu_native.node');
    const named = put('build-nosimd', 'build', 'Release', 'opu_native.node');
    expect(locateAddon(root, { OPU_NATIVE_ADDON: named })).toEqual({ path: named, source: 'OPU_NATIVE_ADDON' });
  });
});

describe('the command the fallback message names', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'opu-native-package-'));
  });
  afterEach(() => rmSync(root, { recursive: true }));

  it('an installed package is rebuilt by npm, from its shipped sources', () => {
    expect(rebuildCommand(root)).toMatch(/then run npm rebuild opu-native$/);
  });

  it('the repository, recognized by its build script, builds with that script', () => {
    mkdirSync(join(root, 'scripts'));
    writeFileSync(join(root, 'scripts', 'build.mjs'), '');
    expect(rebuildCommand(root)).toBe('build it with npm run build:native');
  });

  it('a file that does not load gives the reason and the command', () => {
    const load = loadNative({ OPU_NATIVE_ADDON: join(tmpdir(), 'opu-native-missing', 'opu_native.node') });
    expect(load.implementation).toBeUndefined();
    expect(load.reason).toMatch(/^Cannot find module .*opu_native\.node.*; build it with npm run build:native$/);
  });
});

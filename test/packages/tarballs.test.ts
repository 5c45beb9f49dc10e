/**
 * Every tarball, checked by the tools the ecosystem checks packages with: publint (package.json against the files
 * shipped) and Are the Types Wrong (the declarations each resolution mode finds, against the JavaScript it loads).
 * And what each tarball holds: the license, a README, and for opu-native the addon's sources and prebuild.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, inject, it } from 'vitest';
import { REPOSITORY } from './consumer-app.js';

const packed = inject('packed');
const execFileAsync = promisify(execFile);

async function contents(tarball: string): Promise<string[]> {
  const { stdout } = await execFileAsync('tar', ['-tzf', tarball]);
  return stdout.trim().split('\n');
}

describe.skipIf(!packed)('the packed tarballs', () => {
  const tarballs = Object.entries(packed?.tarballs ?? {});

  it.each(tarballs)('%s: publint finds nothing to say, even a suggestion', async (_name, tarball) => {
    const buffer = readFileSync(tarball);
    const tarballBytes = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
    const { messages, pkg } = await publint({ pack: { tarball: tarballBytes }, level: 'suggestion', strict: true });
    expect(messages.map((message) => formatMessage(message, pkg) ?? message.code)).toEqual([]);
  });

  it.each(tarballs)('%s: Are the Types Wrong finds no problem in any resolution mode', async (name, tarball) => {
    const manifest = JSON.parse(readFileSync(`${REPOSITORY}/${workspaceOf(name)}/package.json`, 'utf8'));
    // A program only (the opu command) has no declarations to check.
    if (!manifest.exports) return expect(manifest.bin).toBeDefined();
    const attw = `${REPOSITORY}/node_modules/@arethetypeswrong/cli/dist/index.js`;
    const result = await execFileAsync(process.execPath, [attw, tarball, '--format', 'json']).catch((error) => error);
    const report = JSON.parse(result.stdout);
    expect(report.problems).toEqual({});
  });

  it.each(tarballs)('%s: ships its LICENSE, README and CHANGELOG', async (_name, tarball) => {
    const files = await contents(tarball);
    expect(files).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/CHANGELOG.md']));
  });

  it('opu-native ships its C++ sources, binding.gyp and the linux-x64 prebuild, and no build directory', async () => {
    const files = await contents(packed!.tarballs['opu-native']!);
    expect(files).toContain('package/binding.gyp');
    expect(files).toContain('package/addon/src/runtime/addon.cc');
    expect(files).toContain('package/addon/src/generated/bindings.h');
    expect(files.some((file) => /^package\/prebuilds\/linux-x64\/.+\.node$/.test(file))).toBe(true);
    expect(files.filter((file) => file.startsWith('package/build/') || file.includes('/test/'))).toEqual([]);
  });
});

function workspaceOf(name: string): string {
  const workspaces = JSON.parse(readFileSync(`${REPOSITORY}/package.json`, 'utf8')).workspaces as string[];
  const found = workspaces.find(
    (workspace) => JSON.parse(readFileSync(`${REPOSITORY}/${workspace}/package.json`, 'utf8')).name === name,
  );
  if (!found) throw new Error(`${name} is not a workspace`);
  return found;
}

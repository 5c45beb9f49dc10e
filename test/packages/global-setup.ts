/**
 * Once per run of the `packages` tests: builds every workspace and packs each with `npm pack` into a temporary
 * directory, as a release would. The tests get the tarballs by `inject('packed')`.
 *
 * Skipped with OPU_NATIVE=0: that run is about the repository's tests on the TypeScript kernels, and the tarballs'
 * own fallback is tested here, in an app without the prebuilt addon.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { type Packed, REPOSITORY } from './consumer-app.js';

const execFileAsync = promisify(execFile);

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (process.env.OPU_NATIVE === '0') {
    project.provide('packed', undefined);
    return undefined;
  }
  const options = { cwd: REPOSITORY, maxBuffer: 64 * 1024 * 1024 };
  await execFileAsync('npm', ['run', 'build'], options);
  const directory = mkdtempSync(join(tmpdir(), 'opu-packed-'));
  const { stdout } = await execFileAsync(
    'npm',
    ['pack', '--workspaces', '--json', '--pack-destination', directory],
    options,
  );
  // Lifecycle scripts (opu-native's prepack) may print before the JSON list.
  const listed = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as { name: string; filename: string }[];
  const packed: Packed = {
    directory,
    tarballs: Object.fromEntries(listed.map((entry) => [entry.name, join(directory, entry.filename)])),
  };
  project.provide('packed', packed);
  return () => rmSync(directory, { recursive: true, force: true });
}

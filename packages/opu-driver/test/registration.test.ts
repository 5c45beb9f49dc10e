import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Imports `modules` in a fresh Node process (as an app would, by package name) and returns the registered schemes. */
async function schemesAfterImporting(...modules: string[]): Promise<string[]> {
  const script = `
    ${modules.map((name) => `await import(${JSON.stringify(name)});`).join('\n')}
    const { registeredBackends } = await import('opu-core');
    process.stdout.write(JSON.stringify(registeredBackends().map((backend) => backend.scheme)));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../../..', import.meta.url).pathname,
  });
  return JSON.parse(stdout) as string[];
}

describe('registration by import', () => {
  it("import('opu-driver') alone registers serial:// and nothing else (no simulator comes with the driver)", async () => {
    expect(await schemesAfterImporting('opu-driver')).toEqual(['serial']);
  });

  it('the simulator registers sim:// only when it is imported', async () => {
    expect(await schemesAfterImporting('opu-core')).toEqual([]);
    expect((await schemesAfterImporting('opu-driver', 'opu-sim')).sort()).toEqual(['serial', 'sim']);
  });
});

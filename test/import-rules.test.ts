/**
 * The import rules (.dependency-cruiser.cjs) catch what they are there for: a small tree laid out like this
 * repository, with one forbidden import of each kind, fails them, naming each rule; the same tree with allowed
 * imports only passes. `npm test` runs the rules on the real tree (npm run check:imports).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repository = new URL('..', import.meta.url).pathname;
const trees: string[] = [];

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'import-rules-'));
  trees.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

async function cruise(root: string): Promise<{ failed: boolean; output: string }> {
  const bin = join(repository, 'node_modules', '.bin', 'depcruise');
  const args = ['native', 'packages', '--config', join(repository, '.dependency-cruiser.cjs'), '--output-type', 'err'];
  try {
    const { stdout } = await run(bin, args, { cwd: root });
    return { failed: false, output: stdout };
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return { failed: true, output: stdout + stderr };
  }
}

const packages = {
  'native/src/index.ts': 'export const kernel = 1;\n',
  'packages/opu-core/src/index.ts': "export { kernel } from '../../../native/src/index.js';\n",
  'packages/opu-core/src/device/contract.ts': 'export const contract = 1;\n',
  'packages/opu-core/src/opu/facade.ts': "export { contract } from '../device/contract.js';\n",
  'packages/opu-sim/src/index.ts': "export { kernel } from '../../opu-core/src/index.js';\n",
  'packages/opu-driver/src/index.ts': "export { kernel } from '../../opu-core/src/index.js';\n",
};

afterAll(() => {
  for (const root of trees) rmSync(root, { recursive: true, force: true });
});

describe('the import rules', () => {
  it('pass a tree whose imports all point down the layers', async () => {
    const { failed, output } = await cruise(tree(packages));
    expect(output).not.toMatch(/error/);
    expect(failed).toBe(false);
  });

  it('fail a kernel importing the contract, the driver importing the simulator, and device/ importing opu/', async () => {
    const { failed, output } = await cruise(
      tree({
        ...packages,
        'native/src/index.ts': "export const kernel = 1;\nexport { ArgumentError } from './errors.js';\n",
        'native/src/errors.ts': "export { kernel as ArgumentError } from '../../packages/opu-core/src/index.js';\n",
        'packages/opu-driver/src/emulator.ts': "export { kernel } from '../../opu-sim/src/index.js';\n",
        'packages/opu-core/src/device/uses-facade.ts': "export { contract } from '../opu/facade.js';\n",
      }),
    );
    expect(failed).toBe(true);
    expect(output).toMatch(/layers: opu-native: native\/src\/errors\.ts → packages\/opu-core\/src\/index\.ts/);
    expect(output).toMatch(/layers: opu-driver: packages\/opu-driver\/src\/emulator\.ts → packages\/opu-sim/);
    expect(output).toMatch(/declared: opu-driver: packages\/opu-driver\/src\/emulator\.ts → packages\/opu-sim/);
    expect(output).toMatch(
      /opu-core folders: device: packages\/opu-core\/src\/device\/uses-facade\.ts → .*opu\/facade/,
    );
    expect(output).toMatch(/no-circular: native\/src\/errors\.ts/);
  });
});

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

describe('examples/serial-emulated.ts (npm run example:serial), as a user runs it', () => {
  it('projects over the emulated serial line, on a noisy line too, with the simulator’s exact numbers', () => {
    const run = spawnSync(tsx, ['examples/serial-emulated.ts', '--corrupt-rate', '0.0005'], {
      cwd: root,
      encoding: 'utf8',
    });
    // Nothing on stderr but, with OPU_NATIVE=0, the line saying the TypeScript kernels run.
    expect(run.stderr.replace(/^opu-native: using the TypeScript kernels.*\n/m, '')).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/opened opu-sim SIM-00000007 over the serial line/);
    expect(run.stdout).toMatch(/0 of 4096 values differ from the simulator's own/);
    const retries = Number(/link: (\d+) retries/.exec(run.stdout)?.[1]);
    expect(retries).toBeGreaterThan(0);
  });

  it('a bad option exits with 2 and names it', () => {
    const run = spawnSync(tsx, ['examples/serial-emulated.ts', '--corrupt-rate', 'lots'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--corrupt-rate: 'lots' is not a probability/);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

describe('examples/calibrate-and-reuse.ts (npm run example:calibration), as a user runs it', () => {
  it('calibrates, reopens from the file without calibration frames and projects within the noise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opu-example-'));
    try {
      const run = spawnSync(tsx, ['examples/calibrate-and-reuse.ts', 'sim://?inputs=64&outputs=128&seed=7', dir], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(run.stderr.replace(/^opu-native: using the TypeScript kernels.*\n/m, '')).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/✓ transmissionMatrix/);
      // 3 references × 4 check frames, against the thousands a calibration shows
      const spent = Number(/reopened from .*opu\.opucal: (\d+) frames spent checking the medium/.exec(run.stdout)?.[1]);
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThanOrEqual(24);
      expect(Number(/intensity correlation ([\d.]+)/.exec(run.stdout)?.[1])).toBeGreaterThan(0.97);
      expect(Number(/([\d.]+)% from the true matrix/.exec(run.stdout)?.[1])).toBeLessThan(15);
      expect(Number(/project\(\): ([\d.]+)% from the exact/.exec(run.stdout)?.[1])).toBeLessThan(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

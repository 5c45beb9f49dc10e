import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

describe('examples/randnla.ts, as a user runs it', () => {
  it('prints the randomized SVD, the trace and the triangle count on the simulated OPU near the exact answers', () => {
    const run = spawnSync(tsx, ['examples/randnla.ts', 'realistic', '7'], { cwd: root, encoding: 'utf8' });
    expect(run.stderr.replace(/^opu-native: using the TypeScript kernels.*\n/m, '')).toBe('');
    expect(run.status).toBe(0);
    // Measured on seed 7: 0.072% (OPU) and 0.091% (digital); trace 1.28 and triangles 0.59 standard errors off.
    const svd = /rSVD: ([\d.]+)% largest error with the OPU, ([\d.]+)% digital/.exec(run.stdout);
    expect(Number(svd?.[1])).toBeLessThan(0.4);
    expect(Number(svd?.[2])).toBeLessThan(0.4);
    for (const label of ['trace', 'triangles']) {
      const line = new RegExp(`${label}: [\\d.]+ ± [\\d.]+ against [\\d.]+ exact, [\\d.]+% off, ([\\d.]+) standard`);
      expect(Number(line.exec(run.stdout)?.[1]), label).toBeLessThan(3);
    }
    expect(run.stdout).toMatch(/OPU cost of the trace and triangles: \d+ frames/);
  });
});

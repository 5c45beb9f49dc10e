import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mountSmallDisk, temporaryFiles } from '../packages/opu-core/test/helpers/small-disk.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

describe('examples/optical-reservoir.ts, as a user runs it', () => {
  it('prints the NRMSE of the optical reservoir and its baselines and writes the plot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opu-reservoir-'));
    try {
      const run = spawnSync(tsx, ['examples/optical-reservoir.ts', dir, '--train', '1000', '--test', '300'], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(run.stderr.replace(/^opu-native: using the TypeScript kernels.*\n/m, '')).toBe('');
      expect(run.status).toBe(0);
      const nrmse = (name: string) => {
        const match = new RegExp(`^${name}.*?\\s([\\d.]+)\\s+([\\d.]+)`, 'm').exec(run.stdout);
        return [Number(match?.[1]), Number(match?.[2])];
      };
      const [optical, persistence, linear] = [nrmse('optical reservoir'), nrmse('persistence'), nrmse('linear')];
      expect(optical[0]).toBeLessThan(persistence[0]!); // one step ahead
      expect(optical[1]).toBeLessThan(linear[1]!); // ten steps ahead
      expect(nrmse('digital twin')[0]).toBeLessThan(persistence[0]!);
      expect(readFileSync(join(dir, 'reservoir-prediction.svg'), 'utf8')).toMatch(/^<svg[\s\S]*10 steps ahead/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on a full disk fails naming the plot and keeps the previous one', async () => {
    const disk = await mountSmallDisk(256 * 1024);
    try {
      const file = join(disk.dir, 'reservoir-prediction.svg');
      writeFileSync(file, '<svg>the previous plot</svg>\n');
      await disk.leaveFree(0);
      const run = spawnSync(tsx, ['examples/optical-reservoir.ts', disk.dir, '--train', '300', '--test', '100'], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`${file}: cannot be written (ENOSPC: no space left on device, write); 0 B free`);
      expect(readFileSync(file, 'utf8')).toBe('<svg>the previous plot</svg>\n');
      expect(await temporaryFiles(disk.dir)).toEqual([]);
    } finally {
      disk.unmount();
    }
  });
});

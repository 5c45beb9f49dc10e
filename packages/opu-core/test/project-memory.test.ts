import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Opu } from '../src/opu/opu.js';
import { ArgumentError } from '../src/support/errors.js';
import { caught, FakeOpuDevice, fieldResponse, gaussianFieldMatrix, makeInfo } from './helpers/fake-device.js';

const CHILD = fileURLToPath(new URL('./project-memory-child.ts', import.meta.url));
/** The repository root: tsx there takes tsconfig.json's paths, so the child runs on every package's sources, opu-native's
 * included, as vitest's aliases do (not on a dist/ that may be older). */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe('project(): memory', () => {
  it('projects 12 000 real rows in a 32 MiB JavaScript heap: it decomposes and measures pass by pass', () => {
    // Holding every bit-plane piece of the batch at once took about 9 KiB of heap per row: 100 MiB here.
    const rows = 12_000;
    const child = spawnSync(process.execPath, ['--max-old-space-size=32', '--import', 'tsx', CHILD, String(rows)], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(child.stderr).not.toMatch(/heap out of memory/);
    expect(child.status, child.stderr).toBe(0);
    const report = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    expect(report.rows).toBe(rows);
    expect(report.finiteValues).toBe(rows * 16);
    // The batch's first rows match their projection alone, up to the exposures chosen for each batch.
    expect(report.headRelativeDifference).toBeLessThan(0.01);
  }, 120_000);
});

describe('project() and transform(): batches whose result no Float32Array holds', () => {
  const outputs = 4096;
  /** One input, 4096 outputs (a 64 × 64 sensor): 2^20 + 1 rows make a result of more than 2^32 values. */
  async function openWide(): Promise<{ opu: Opu; device: FakeOpuDevice }> {
    const info = makeInfo({
      camera: { widthPx: 64, heightPx: 64 },
      limits: { maxFramesPerAcquisition: 256, minFramesPerAcquisition: 2 },
    });
    const matrix = gaussianFieldMatrix(1, info.dmd.widthMirrors * info.dmd.heightMirrors, 64 * 64);
    const device = new FakeOpuDevice({ info, response: fieldResponse(matrix, 1) });
    const opu = await Opu.open(device, { inputs: 1, outputs, mirrorsPerElement: 1, calibrationFrames: 8 });
    return { opu, device };
  }

  it('refuses them before any frame, naming the batch and the largest batch that fits', async () => {
    const { opu, device } = await openWide();
    const acquired = device.calls.acquire;
    const rows = 2 ** 20 + 1;
    const projected = (await caught(opu.project(new Float32Array(rows).fill(0.5)))) as ArgumentError;
    expect(projected).toBeInstanceOf(ArgumentError);
    expect(projected.field).toBe('e');
    expect(projected.message).toContain(`${rows} rows × ${outputs} outputs`);
    expect(projected.fix).toBe(`split it into batches of at most ${2 ** 20} rows`);
    const transformed = (await caught(opu.transform(new Uint8Array(rows)))) as ArgumentError;
    expect(transformed).toBeInstanceOf(ArgumentError);
    expect(transformed.field).toBe('x');
    expect(transformed.fix).toBe(`split it into batches of at most ${2 ** 20} rows`);
    expect(device.calls.acquire).toBe(acquired);
    expect(device.violations).toEqual([]);
    await opu.close();
  });
});

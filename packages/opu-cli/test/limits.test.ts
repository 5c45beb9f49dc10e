import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const main = 'packages/opu-cli/src/main.ts';

function opu(...args: string[]) {
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 50_000,
  });
  const lines = args.includes('--json')
    ? run.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
  return {
    code: run.status,
    stdout: run.stdout,
    // With OPU_NATIVE=0 the kernels' one line on why the TypeScript ones run comes first.
    stderr: run.stderr.replace(/^opu-native: using the TypeScript.*\n/m, ''),
    lines,
    seconds: (performance.now() - started) / 1e3,
  };
}

const GiB = 2 ** 30;

describe('opu calibrate estimates its cost and refuses past a limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opu-cli-limits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const url = 'sim://?seed=7&inputs=32&outputs=128';
  const quick = ['--drift-s', '1', '--snr', '100'];

  it('refuses --tm 99999x99999 at once, naming the memory it needs, the limit and the flags', () => {
    const run = opu('calibrate', url, '--out', join(dir, 'huge.opucal'), '--tm', '99999x99999', '--json');
    expect(run.code).toBe(2);
    expect(run.seconds).toBeLessThan(30);
    const [estimate, error] = run.lines;
    expect(run.lines).toHaveLength(2); // no step started
    expect(estimate).toMatchObject({ type: 'estimate', limits: { forced: false } });
    // Ξ (2n × n) and ΞᵀY (n × 2m) in float64 alone: 149 GiB each
    expect(estimate.memoryBytes).toBeGreaterThan(400 * GiB);
    const tm = estimate.steps.find((s: { step: string }) => s.step === 'transmissionMatrix');
    expect(tm.memoryTerms.gram).toBe(99999 * 99999 * 8);
    expect(error.error).toMatch(/needs about 4\d\d GiB of memory \(transmissionMatrix: signals 149 GiB, /);
    expect(error.error).toMatch(/more than the [\d.]+ [GMT]iB of the memory free on this machine/);
    expect(error.error).toMatch(/--max-memory SIZE.*--force/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--max-memory and --max-device-s set the limits, --force runs past them', () => {
    const out = join(dir, 'small.opucal');
    const memory = opu('calibrate', url, '--out', out, ...quick, '--max-memory', '64K', '--json');
    expect(memory.code).toBe(2);
    expect(memory.lines[0].limits.memoryBytes).toBe(64 * 1024);
    expect(memory.lines[1].error).toMatch(/MiB of memory, more than the 64 KiB of --max-memory/);

    const device = opu('calibrate', url, '--out', out, '--max-device-s', '2', '--no-report');
    expect(device.code).toBe(2);
    // the default stability check spans 10 s of device time
    expect(device.stderr).toMatch(/^estimate: at most \d+ frames, about 1\d s of device time/);
    expect(device.stderr).toMatch(
      /needs about 1\d s of device time \(\d+ frames\), more than the 2 s of --max-device-s/,
    );

    const forced = opu('calibrate', url, '--out', out, ...quick, '--max-memory', '64K', '--force', '--json');
    expect(forced.code).toBe(0);
    expect(forced.lines[0]).toMatchObject({ type: 'estimate', limits: { memoryBytes: 64 * 1024, forced: true } });
    expect(forced.lines.at(-1)).toMatchObject({ type: 'result', file: out });
  });

  it('rejects limits that are not sizes or durations', () => {
    const size = opu('calibrate', url, '--max-memory', 'lots');
    expect(size.code).toBe(2);
    expect(size.stderr).toMatch(/--max-memory lots is not a size \(e\.g\. --max-memory 8G/);
    const seconds = opu('calibrate', url, '--max-device-s', '0');
    expect(seconds.code).toBe(2);
    expect(seconds.stderr).toMatch(/--max-device-s 0 is not a positive number of seconds/);
  });
});

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type DeviceCalibration, loadCalibration } from 'opu-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const main = 'packages/opu-cli/src/main.ts';

/** Runs `opu …` as a user would, to the end, without blocking this process (an emulator may be its peer). */
function opu(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) =>
      resolve({ code, stdout, stderr: stderr.replace(/^opu-native: using the TypeScript.*\n/m, '') }),
    );
  });
}

/** `opu emulate` in its own process; resolves with its pty path and a stop function. */
async function emulate(...args: string[]): Promise<{ path: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, 'emulate', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`opu emulate exited with ${code}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { path, stop };
}

const FACADE = 'inputs=32&outputs=128';
const QUICK = [
  '--drift-s',
  '1',
  '--snr',
  '100',
  '--tm',
  '24x32',
  '--tm-dmd',
  '100,20',
  '--tm-camera',
  '8,4',
  '--seed',
  '3',
];

/** Everything a calibration measured, without the wall-clock times that differ between runs. */
function measured(calibration: DeviceCalibration) {
  const steps = Object.fromEntries(
    Object.entries(calibration.steps).map(([name, { completedAt: _c, durationMs: _d, ...rest }]) => [name, rest]),
  );
  return { ...calibration, createdAt: undefined, steps };
}

describe('opu calibrate, project and bench', () => {
  let dir: string;
  let simFile: string;
  let jsonLines: { type: string; step?: string; status?: string; framesDone?: number; file?: string }[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opu-cli-'));
    simFile = join(dir, 'sim.opucal');
    const run = await opu('calibrate', `sim://?seed=7&${FACADE}`, '--out', simFile, ...QUICK, '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    jsonLines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes the calibration, its HTML report and JSON progress lines', async () => {
    const calibration = await loadCalibration(simFile);
    expect(Object.keys(calibration.steps)).toHaveLength(7);
    const tm = calibration.steps.transmissionMatrix!;
    expect([tm.rows, tm.cols]).toEqual([24, 32]);
    expect([tm.layout.region.left, tm.layout.region.top, tm.layout.roi.left, tm.layout.roi.top]).toEqual([
      100, 20, 8, 4,
    ]);
    const done = jsonLines.filter((line) => line.type === 'step' && line.status === 'done').map((line) => line.step);
    expect(done).toEqual(Object.keys(calibration.steps));
    expect(jsonLines.some((line) => line.type === 'progress' && line.framesDone! > 0)).toBe(true);
    expect(jsonLines.at(-1)).toMatchObject({ type: 'result', file: simFile });
    expect(tm.quality.intensityCorrelation).toBeGreaterThan(0.97);
    const html = await readFile(join(dir, 'sim.html'), 'utf8');
    expect(html).toMatch(/<svg/);
    expect(html).toContain('SIM-00000007');
    expect(existsSync(`${simFile}.partial`)).toBe(false);
  });

  it('gives the same calibration through the emulator over a pty as on the simulator directly', async () => {
    // the emulator simulates a batch in steps of about 20 ms: frames must not depend on how a batch is split
    const emulator = await emulate('sim://?seed=7');
    try {
      const file = join(dir, 'serial.opucal');
      const url = `serial://${emulator.path}?triggerSelfTest=false&${FACADE}`;
      const run = await opu('calibrate', url, '--out', file, ...QUICK);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/calibrated opu-sim SIM-00000007/);
      expect(measured(await loadCalibration(file))).toEqual(measured(await loadCalibration(simFile)));
    } finally {
      await emulator.stop();
    }
  });

  it('leaves no file when the device is unreachable or unplugged mid-calibration, and resumes afterwards', async () => {
    const absent = await opu('calibrate', 'serial:///dev/no-such-opu', '--out', join(dir, 'absent.opucal'));
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/no-such-opu/);
    const file = join(dir, 'unplugged.opucal');
    const emulator = await emulate('sim://?seed=9', '--disconnect-after-frames', '600');
    const url = (path: string) =>
      `serial://${path}?triggerSelfTest=false&reconnectTimeoutMs=300&timeoutMs=500&${FACADE}`;
    try {
      const run = await opu('calibrate', url(emulator.path), '--out', file, '--drift-s', '1');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/--resume/);
    } finally {
      await emulator.stop();
    }
    expect(existsSync(file)).toBe(false);
    const partial = await loadCalibration(`${file}.partial`);
    expect(Object.keys(partial.steps).length).toBeGreaterThan(0);
    expect((await readdir(dir)).filter((name) => name.includes('.tmp'))).toEqual([]);
    const again = await emulate('sim://?seed=9');
    try {
      const run = await opu('calibrate', url(again.path), '--out', file, '--drift-s', '1', '--resume');
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/↷ \[1\/6\] triggerLag/);
    } finally {
      await again.stop();
    }
    const done = await loadCalibration(file);
    expect(done.steps.triggerLag).toEqual(partial.steps.triggerLag);
    expect(Object.keys(done.steps)).toHaveLength(6);
    expect(existsSync(`${file}.partial`)).toBe(false);
  });

  it('project uses a calibration file; another device’s, a corrupt one or a missing one exit 3', async () => {
    const input = join(dir, 'in.csv');
    await writeFile(
      input,
      ['1,0,-1', '0.5,0.25,-2']
        .map((row) =>
          Array(32 / 4)
            .fill(`${row},0`)
            .join(','),
        )
        .join('\n'),
    );
    const ok = await opu('project', `sim://?seed=7`, '--in', input, '--calibration', simFile, '--json');
    expect(ok.code).toBe(0);
    const result = JSON.parse(ok.stdout);
    expect(result).toMatchObject({ rows: 2, outputs: 128 });
    expect(result.relativeErrorVsTruth).toBeLessThan(0.1);
    const other = await opu('project', 'sim://?seed=8', '--in', input, '--calibration', simFile);
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/SIM-00000007/);
    const forced = await opu('project', 'sim://?seed=8', '--in', input, '--calibration', simFile, '--force', '--json');
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/warning/);
    const bytes = await readFile(simFile);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    const corrupt = join(dir, 'corrupt.opucal');
    await writeFile(corrupt, bytes);
    const broken = await opu('project', 'sim://?seed=7', '--in', input, '--calibration', corrupt, '--json');
    expect(broken.code).toBe(3);
    expect(JSON.parse(broken.stdout)).toMatchObject({ kind: 'CalibrationFileError', problem: 'corrupt' });
    const missing = await opu('project', 'sim://?seed=7', '--in', input, '--calibration', join(dir, 'none.opucal'));
    expect(missing.code).toBe(3);
    const onlyFirstSteps = await opu(
      'calibrate',
      `sim://?seed=7&${FACADE}`,
      '--out',
      join(dir, 'first.opucal'),
      '--steps',
      'dark',
    );
    expect(onlyFirstSteps.code).toBe(0);
    const incomplete = await opu('project', 'sim://?seed=7', '--in', input, '--calibration', join(dir, 'first.opucal'));
    expect(incomplete.code).toBe(3);
    expect(incomplete.stderr).toMatch(/lacks the step\(s\) exposure, reference/);
  });

  it('bench reports throughput and, on a simulator, the error against the exact projection', async () => {
    const run = await opu('bench', `sim://?seed=3&${FACADE}`, '--rows', '4', '--json');
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.workload)).toEqual(['project ternary', 'project real', 'transform binary']);
    for (const line of lines) {
      expect(line.vectorsPerDeviceSecond).toBeGreaterThan(0);
      expect(line.frames).toBeGreaterThan(0);
    }
    expect(lines[0].relativeErrorVsTruth).toBeLessThan(0.1);
    expect(lines[1].relativeErrorVsTruth).toBeLessThan(0.1);
  });

  it('--help for each command; bad flags exit 2', async () => {
    for (const command of ['calibrate', 'project', 'bench']) {
      const help = spawnSync(process.execPath, ['--import', 'tsx', main, command, '--help'], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(help.stdout).toMatch(new RegExp(`^usage: opu ${command} <url>`));
    }
    expect((await opu('calibrate', 'sim://', '--tm', '12by4')).code).toBe(2);
    expect((await opu('calibrate', 'sim://', '--tm', '0x4')).code).toBe(2);
    expect((await opu('calibrate', 'sim://', '--snr', '-1')).stderr).toMatch(/--snr/);
    expect((await opu('calibrate', 'sim://', '--out', 'a.html')).code).toBe(2);
    expect((await opu('calibrate', 'sim://', '--steps', 'dark,bogus')).code).toBe(2);
    expect((await opu('project', 'sim://')).code).toBe(2);
  });
});

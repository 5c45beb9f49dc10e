import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type DeviceCalibration, loadCalibration } from 'opu-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KiB, mountSmallDisk, type SmallDisk, temporaryFiles } from '../../opu-core/test/helpers/small-disk.js';

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
      // A long silence allowed: with the TypeScript kernels (OPU_NATIVE=0) the emulator's simulator pauses for more
      // than the default 2 s before the responsivity's first frames.
      const url = `serial://${emulator.path}?triggerSelfTest=false&timeoutMs=10000&${FACADE}`;
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
    // A short timeout finds the unplugged line fast; the resumed run allows the TypeScript kernels' pauses (above),
    // which under a full parallel OPU_NATIVE=0 suite exceeded 10 s once the camera's twin went float32.
    const url = (path: string, timeoutMs = 500) =>
      `serial://${path}?triggerSelfTest=false&reconnectTimeoutMs=300&timeoutMs=${timeoutMs}&${FACADE}`;
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
      const run = await opu('calibrate', url(again.path, 30_000), '--out', file, '--drift-s', '1', '--resume');
      expect(run.code, run.stderr).toBe(0);
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

describe('opu calibrate and project on a full disk', () => {
  let disk: SmallDisk;
  beforeAll(async () => {
    disk = await mountSmallDisk(512 * KiB);
  });
  afterAll(() => disk.unmount());

  // Few outputs, so that the calibration file is smaller than its report: the last scenario fills the disk between
  // them (the report, saved after the calibration's partial file is removed, must still not fit).
  const url = 'sim://?seed=7&inputs=32&outputs=32';
  const contents = (names: string[]) => Promise.all(names.map((name) => readFile(join(disk.dir, name))));

  it('exits 4 naming the file and the free space, keeps every previous file and says how --resume goes on', async () => {
    const file = join(disk.dir, 'c.opucal');
    const partial = `${file}.partial`;
    const calibrate = (...more: string[]) => opu('calibrate', url, '--out', file, ...QUICK, ...more);
    const resumeHint = `The finished steps are kept in ${partial}; run the same command with --resume to go on.`;
    expect((await calibrate('--steps', 'dark')).code).toBe(0);

    // a step's partial save fails: the partial with the steps before it stays
    await copyFile(file, partial);
    const kept = ['c.opucal', 'c.opucal.partial', 'c.html'];
    let before = await contents(kept);
    await disk.leaveFree(0);
    const stepSave = await calibrate('--resume');
    expect(stepSave.code).toBe(4);
    expect(stepSave.stderr).toContain(
      `${partial}: cannot be written (ENOSPC: no space left on device, write); 0 B free`,
    );
    expect(stepSave.stderr).toContain(`nothing at this path was changed. ${resumeHint}`);
    expect(await contents(kept)).toEqual(before);
    expect(await temporaryFiles(disk.dir)).toEqual([]);

    // room again: --resume finishes, and the temporary files of killed writers go
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const killed = [`.c.opucal.${dead}.0123456789ab.tmp`, `.c.opucal.partial.${dead}.0123456789ab.tmp`];
    await disk.leaveFree(Number.POSITIVE_INFINITY);
    for (const name of killed) await writeFile(join(disk.dir, name), 'half a file');
    expect((await calibrate('--resume')).code).toBe(0);
    expect(Object.keys((await loadCalibration(file)).steps)).toHaveLength(7);
    expect(existsSync(partial)).toBe(false);
    expect(await temporaryFiles(disk.dir)).toEqual([]);

    // the final save fails: the previous calibration stays, the partial holds every step
    await copyFile(file, partial);
    before = await contents(kept);
    await disk.leaveFree(4 * KiB);
    const finalSave = await calibrate('--resume');
    expect(finalSave.code).toBe(4);
    expect(finalSave.stderr).toContain(
      `${file}: cannot be written (ENOSPC: no space left on device, write); 4 KiB free`,
    );
    expect(finalSave.stderr).toContain(resumeHint);
    expect(await contents(kept)).toEqual(before);
    expect(await temporaryFiles(disk.dir)).toEqual([]);

    // room for the calibration but not for its report: the previous report stays
    const pageBytes = 4 * KiB;
    const calibrationBytes = Math.ceil((await stat(file)).size / pageBytes) * pageBytes;
    expect((await stat(join(disk.dir, 'c.html'))).size).toBeGreaterThan(calibrationBytes);
    await rm(file);
    await writeFile(join(disk.dir, 'c.html'), 'the previous report\n');
    await disk.leaveFree(calibrationBytes);
    const reportSave = await calibrate('--resume');
    expect(reportSave.code).toBe(4);
    expect(reportSave.stderr).toContain(`${join(disk.dir, 'c.html')}: cannot be written (ENOSPC`);
    expect(reportSave.stderr).toContain(
      `The calibration itself is saved in ${file}; only its report could not be written.`,
    );
    expect(await readFile(join(disk.dir, 'c.html'), 'utf8')).toBe('the previous report\n');
    expect(Object.keys((await loadCalibration(file)).steps)).toHaveLength(7);
    expect(await temporaryFiles(disk.dir)).toEqual([]);
  });

  it('opu project --out exits 4 and keeps the previous CSV', async () => {
    await disk.leaveFree(Number.POSITIVE_INFINITY);
    const dir = join(disk.dir, 'project');
    await mkdir(dir);
    const input = join(dir, 'in.csv');
    await writeFile(input, `${Array(32).fill('0.5').join(',')}\n`);
    const out = join(dir, 'out.csv');
    const project = () => opu('project', url, '--in', input, '--out', out, '--json');
    expect((await project()).code).toBe(0);
    const before = await readFile(out);
    await disk.leaveFree(0);
    const full = await project();
    expect(full.code).toBe(4);
    expect(JSON.parse(full.stdout)).toMatchObject({ kind: 'StorageError', field: out, code: 'ENOSPC', freeBytes: 0 });
    expect(await readFile(out)).toEqual(before);
    expect(await temporaryFiles(dir)).toEqual([]);
  });
});

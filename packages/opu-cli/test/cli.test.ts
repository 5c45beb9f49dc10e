import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const main = 'packages/opu-cli/src/main.ts';

/** Runs `opu …` as a user would, to the end. */
function opu(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, encoding: 'utf8' });
  return {
    code: run.status,
    stdout: run.stdout,
    stderr: run.stderr.replace(/^opu-native: using the TypeScript.*\n/m, ''),
  };
}

describe('the opu command', () => {
  it('--help everywhere; an unknown command or a missing argument exits with 2 and the usage', () => {
    expect(opu('--help')).toMatchObject({ code: 0, stderr: '' });
    expect(opu('--help').stdout).toMatch(
      /devices .*\n.*info <url>.*\n.*calibrate <url>.*\n.*project <url>.*\n.*bench <url>.*\n.*emulate/,
    );
    expect(opu('info', '--help').stdout).toMatch(/^usage: opu info <url> \[--json\]/);
    expect(opu('devices', '--help').stdout).toMatch(/^usage: opu devices/);
    const unknown = opu('calibrat');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'calibrat'/);
    const missing = opu('info');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/give exactly one device URL\nusage: opu info/);
    expect(opu('info', 'sim://', '--colour').code).toBe(2);
  });

  it('info describes a device, for people and as JSON; a bad URL exits 2, an absent device 1', () => {
    const human = opu('info', 'sim://?seed=3');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^opu-sim SIM-00000003, firmware/);
    expect(human.stdout).toMatch(/DMD {5}912×1140 mirrors/);
    const json = JSON.parse(opu('info', 'sim://?seed=3&bitDepth=12', '--json').stdout);
    expect(json.info.camera.bitDepth).toBe(12);
    expect(json.settings.exposureUs).toBeGreaterThan(0);
    const scheme = opu('info', 'bogus://x');
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toMatch(/no backend for scheme 'bogus:\/\/'/);
    const absent = opu('info', 'serial:///dev/no-such-opu', '--json');
    expect(absent.code).toBe(1);
    expect(JSON.parse(absent.stdout)).toMatchObject({ kind: 'DeviceError', field: 'path' });
  });

  it('devices lists the serial ports, one JSON object per line with --json', () => {
    const run = opu('devices', '--json');
    expect(run.code).toBe(0);
    for (const line of run.stdout.trim().split('\n').filter(Boolean)) {
      const port = JSON.parse(line);
      expect(port.path).toMatch(/^\/dev\//);
      expect(typeof port.opu).toBe('boolean');
      expect(port.url).toBe(`serial://${port.path}`);
    }
  });

  it('emulate plays an OPU on a pty that info then opens over the serial line', async () => {
    const emulator: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, 'emulate', 'sim://?seed=5'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const path = await new Promise<string>((resolve, reject) => {
        createInterface({ input: emulator.stdout! }).once('line', resolve);
        emulator.once('exit', (code) => reject(new Error(`opu emulate exited with ${code}`)));
      });
      expect(path).toMatch(/^\/dev\/pts\/\d+$/);
      const run = opu('info', `serial://${path}`, '--json');
      expect(run.code).toBe(0);
      const json = JSON.parse(run.stdout);
      expect(json.info.serialNumber).toBe('SIM-00000005');
      expect(json.info.model).toBe('opu-sim');
    } finally {
      await new Promise<void>((resolve) => {
        emulator.once('exit', () => resolve());
        emulator.kill('SIGTERM');
      });
    }
  });
});

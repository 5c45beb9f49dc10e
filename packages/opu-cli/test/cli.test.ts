import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      /devices .*\n.*info <url>.*\n.*calibrate <url>.*\n.*project <url>.*\n.*bench <url>.*\n.*train .*\n.*emulate/,
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

  it('every command that takes a URL exits 2 for a bad one, naming the URL field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opu-cli-url-'));
    const input = join(dir, 'in.csv');
    writeFileSync(input, '1,0,-1,0\n');
    const commands: string[][] = [['info'], ['bench', '--rows', '1'], ['calibrate', '--out', join(dir, 'c.opucal')]];
    commands.push(['project', '--in', input]);
    const bad: [string, RegExp][] = [
      ['sim://?inputs=0', /^url\.inputs: '0' is not a positive integer/],
      ['sim:/seed=7', /^url: 'sim:\/seed=7' is not of the form sim:\/\/….*Fix: write sim:\/\/\?seed=7/],
      ['sim://?bitDepth=7', /^url: .*sim:\/\/ backend rejects: options\.camera\.bitDepth/],
      ['sim://lab?seed=7', /^url: 'sim:\/\/lab\?seed=7' names 'lab', but sim:\/\/ takes only query keys/],
      ['sim://?outputs=100000000', /^url\.outputs: 100000000 outputs exceed the 1920×1080 sensor/],
      ['sim://?calibrationFrames=100000000', /^url\.calibrationFrames: 100000000 frames per reference pattern/],
    ];
    try {
      // emulate checks its sim:// URL itself, before opening a pseudo-terminal
      for (const url of ['sim:/seed=7', 'sim://lab?seed=7', 'sim://?inputs=0']) {
        const run = opu('emulate', url);
        expect(run.code, `emulate ${url}`).toBe(2);
        expect(run.stderr, `emulate ${url}`).toMatch(/^opu emulate: .*(not a sim:\/\/ URL|url\.inputs)/m);
      }
      for (const [command, ...flags] of commands) {
        for (const [url, message] of bad) {
          // info opens no facade: the facade's keys are parsed, then ignored
          if (command === 'info' && /outputs=|calibrationFrames=/.test(url)) continue;
          const run = opu(command!, url, ...flags, '--json');
          expect(run.code, `${command} ${url}`).toBe(2);
          expect(JSON.parse(run.stdout).error, `${command} ${url}`).toMatch(message);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('project --averages N measures each piece N times: N× the frames, less error; a bad N exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opu-averages-'));
    try {
      const input = join(dir, 'in.csv');
      const row = (r: number) => Array.from({ length: 64 }, (_, j) => ((j * 7 + r) % 5) - 2).join(',');
      writeFileSync(input, [0, 1, 2, 3].map(row).join('\n'));
      const url = 'sim://?seed=5&outputs=256';
      const [once, four] = ['1', '4'].map((n) =>
        JSON.parse(opu('project', url, '--in', input, '--averages', n, '--json').stdout),
      );
      expect(four.frames / once.frames).toBeGreaterThan(3.5);
      expect(four.frames / once.frames).toBeLessThan(4.5);
      expect(four.relativeErrorVsTruth).toBeLessThan(0.75 * once.relativeErrorVsTruth);
      const bad = opu('project', url, '--in', input, '--averages', '0');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--averages 0 is not an integer from 1 to 64/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

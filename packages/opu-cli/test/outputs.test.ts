import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const main = 'packages/opu-cli/src/main.ts';

function opu(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 50_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('a file a command would write is checked before any work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opu-cli-outputs-'));
  const aFile = join(dir, 'a-file');
  writeFileSync(aFile, 'not a directory');
  const input = join(dir, 'in.csv');
  writeFileSync(input, '1,0,-1,0\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string, RegExp][] = [
    [join(dir, 'missing', 'x.out'), 'ENOENT', /the directory .*missing does not exist\)\. Fix: create it \(mkdir -p /],
    [join(aFile, 'x.out'), 'ENOTDIR', /a-file is not a directory/],
    [dir, 'EISDIR', /it is a directory/],
  ];

  it('calibrate --out exits 4 naming the path and the fix, before a step or a file', () => {
    for (const [out, code, problem] of cases) {
      const run = opu('calibrate', 'sim://?seed=7', '--out', out, '--json');
      expect(run.code, out).toBe(4);
      const lines = run.stdout.trim().split('\n');
      expect(lines, out).toHaveLength(1); // no step started
      expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'StorageError', field: out, code });
      expect(JSON.parse(lines[0]!).error).toMatch(problem);
      expect(JSON.parse(lines[0]!).error).toMatch(/--out/);
    }
    // the report beside the calibration is checked too
    mkdirSync(join(dir, 'report.html'));
    const report = opu('calibrate', 'sim://?seed=7', '--out', join(dir, 'report.opucal'));
    expect(report.code).toBe(4);
    expect(report.stderr).toMatch(/report\.html: cannot be written \(EISDIR: it is a directory\)/);
    expect(report.stderr).not.toMatch(/✓/);
    expect(readdirSync(dir).sort()).toEqual(['a-file', 'in.csv', 'report.html']);
  });

  it('project --out exits 4 the same way, before the device calibrates', () => {
    for (const [out, code, problem] of cases) {
      const run = opu('project', 'sim://?seed=7', '--in', input, '--out', out, '--json');
      expect(run.code, out).toBe(4);
      const error = JSON.parse(run.stdout);
      expect(error).toMatchObject({ kind: 'StorageError', field: out, code });
      // the check's own words, not those of a failed write after the device calibrated
      expect(error.error).toMatch(problem);
      expect(error.error).toMatch(/--out/);
    }
  });

  it.skipIf(process.getuid?.() === 0)('an --out in a directory without write permission exits 4', () => {
    const readOnly = join(dir, 'read-only');
    mkdirSync(readOnly, { mode: 0o555 });
    const run = opu('calibrate', 'sim://?seed=7', '--out', join(readOnly, 'x.opucal'), '--json');
    expect(run.code).toBe(4);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: 'StorageError', code: 'EACCES' });
  });
});

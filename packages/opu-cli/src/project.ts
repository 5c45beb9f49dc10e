import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openOpu, writeFileAtomic } from 'opu-core';
import { projectionErrorAgainstTruth } from 'opu-sim';
import { calibrationOption, deviceUrl, UsageError } from './exit.js';
import { checkWritable } from './writable.js';

export const PROJECT_USAGE = `usage: opu project <url> --in FILE [--calibration FILE] [--force] [--out FILE] [--precision-bits N] [--averages N] [--json]
Projects each row of FILE (CSV: one vector per line; .json: an array of arrays) through the OPU and writes the
rows of e·Bᵀ as CSV to --out (or stdout). --averages N measures each binary piece N times (device time ×N, camera
noise ÷√N). Without --calibration the OPU calibrates while opening; inputs default to
the rows' length. On a simulator it also reports the error against the exact projection. An --out whose
directory is missing or not writable exits 4 before the device is opened.`;

/** `opu project <url> --in FILE`: a quick end-to-end check of the linear projection. */
export async function project(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      calibration: { type: 'string' },
      force: { type: 'boolean' },
      'precision-bits': { type: 'string' },
      averages: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const url = deviceUrl(positionals);
  if (!values.in) throw new UsageError('give the input vectors with --in FILE');
  const precisionBits = values['precision-bits'] === undefined ? undefined : Number(values['precision-bits']);
  if (precisionBits !== undefined && !(Number.isInteger(precisionBits) && precisionBits >= 1 && precisionBits <= 16)) {
    throw new UsageError(`--precision-bits ${values['precision-bits']} is not an integer from 1 to 16`);
  }
  const averages = values.averages === undefined ? undefined : Number(values.averages);
  if (averages !== undefined && !(Number.isInteger(averages) && averages >= 1 && averages <= 64)) {
    throw new UsageError(`--averages ${values.averages} is not an integer from 1 to 64`);
  }
  if (values.out) checkWritable(values.out, '--out');
  const { data, width } = await readRows(values.in);
  const urlSetsInputs = url.includes('inputs=');
  await using opu = await openOpu(url, {
    ...calibrationOption(values),
    ...(values.calibration || urlSetsInputs ? {} : { inputs: width }),
  });
  for (const warning of opu.calibrationWarnings) process.stderr.write(`opu project: warning: ${warning}\n`);
  if (width !== opu.inputs) {
    throw new UsageError(`the vectors in --in ${values.in} have ${width} values; this OPU takes ${opu.inputs}`);
  }
  const result = await opu.project(data, {
    ...(precisionBits === undefined ? {} : { precisionBits }),
    ...(averages === undefined ? {} : { averages }),
  });
  const csv = toCsv(result.data, result.rows, result.cols);
  if (values.out) await writeFileAtomic(values.out, csv);
  const error = projectionErrorAgainstTruth(opu, data, result.data);
  const summary = {
    rows: result.rows,
    outputs: result.cols,
    encoding: result.meta.encoding,
    frames: result.meta.frames,
    deviceTimeMs: result.meta.deviceTimeUs / 1000,
    wallTimeMs: result.meta.wallTimeMs,
    ...(error === undefined ? {} : { relativeErrorVsTruth: error }),
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ type: 'result', out: values.out, ...summary })}\n`);
    return 0;
  }
  if (!values.out) process.stdout.write(csv);
  const truth = error === undefined ? '' : `, ${(100 * error).toFixed(2)}% from the exact projection`;
  process.stderr.write(
    `projected ${summary.rows} rows → ${summary.outputs} outputs (${summary.encoding}, ${summary.frames} frames, ` +
      `${summary.deviceTimeMs.toFixed(1)} ms device time${truth})\n`,
  );
  return 0;
}

/** Rows of numbers from CSV (commas or whitespace) or a JSON array of arrays; every row the same length. */
async function readRows(path: string): Promise<{ data: Float32Array; width: number }> {
  const text = await readFile(path, 'utf8').catch((cause: Error) => {
    throw new UsageError(`cannot read --in ${path}: ${cause.message}`);
  });
  const rows: number[][] = path.endsWith('.json')
    ? parseJsonRows(text, path)
    : text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => line.split(/[\s,;]+/).map(Number));
  const width = rows[0]?.length ?? 0;
  if (width === 0) throw new UsageError(`--in ${path} holds no vectors; give one per line`);
  rows.forEach((row, r) => {
    if (row.length !== width) {
      throw new UsageError(`--in ${path}: row ${r + 1} has ${row.length} values, row 1 has ${width}`);
    }
    const bad = row.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new UsageError(`--in ${path}: row ${r + 1}, value ${bad + 1} is not a finite number`);
    }
  });
  return { data: Float32Array.from(rows.flat()), width };
}

function parseJsonRows(text: string, path: string): number[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new UsageError(`--in ${path} is not JSON: ${(cause as Error).message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((row) => Array.isArray(row))) {
    throw new UsageError(`--in ${path} is not an array of arrays of numbers, e.g. [[1, 0, -1]]`);
  }
  return parsed.map((row: unknown[]) => row.map(Number));
}

function toCsv(data: Float32Array, rows: number, cols: number): string {
  const lines: string[] = [];
  for (let r = 0; r < rows; r++)
    lines.push(Array.from(data.subarray(r * cols, (r + 1) * cols), (v) => v.toPrecision(6)).join(','));
  return `${lines.join('\n')}\n`;
}

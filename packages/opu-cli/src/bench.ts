import { parseArgs } from 'node:util';
import { type Opu, type OpuResult, openOpu, seededNormal, seededUniform } from 'opu-core';
import { projectionErrorAgainstTruth } from 'opu-sim';
import { calibrationOption, deviceUrl, UsageError } from './exit.js';

export const BENCH_USAGE = `usage: opu bench <url> [--calibration FILE] [--force] [--rows N] [--seed N] [--json]
Measures the OPU on three workloads of N rows (default 64): ternary project() (DFA errors), real-valued project()
(8-bit planes) and binary transform(). Reports vectors per second of wall time and of device time, frames, and on a
simulator the error against the exact projection.`;

interface Workload {
  name: string;
  run: (opu: Opu, rows: number, seed: number) => Promise<{ result: OpuResult; error: number | undefined }>;
}

const WORKLOADS: Workload[] = [
  {
    name: 'project ternary',
    run: async (opu, rows, seed) => {
      const random = seededUniform(seed);
      const e = Float32Array.from({ length: rows * opu.inputs }, () => {
        const u = random();
        return u < 0.25 ? 0.5 : u < 0.5 ? -0.5 : 0;
      });
      const result = await opu.project(e);
      return { result, error: projectionErrorAgainstTruth(opu, e, result.data) };
    },
  },
  {
    name: 'project real',
    run: async (opu, rows, seed) => {
      const normal = seededNormal(seed);
      const e = Float32Array.from({ length: rows * opu.inputs }, normal);
      const result = await opu.project(e, { precisionBits: 8 });
      return { result, error: projectionErrorAgainstTruth(opu, e, result.data) };
    },
  },
  {
    name: 'transform binary',
    run: async (opu, rows, seed) => {
      const random = seededUniform(seed);
      const x = Uint8Array.from({ length: rows * opu.inputs }, () => (random() < 0.5 ? 1 : 0));
      return { result: await opu.transform(x), error: undefined };
    },
  },
];

/** `opu bench <url>`: throughput and accuracy of the facade on this device. */
export async function bench(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      calibration: { type: 'string' },
      force: { type: 'boolean' },
      rows: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const url = deviceUrl(positionals);
  const rows = Number(values.rows ?? 64);
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(rows) || rows < 1) throw new UsageError(`--rows ${values.rows} is not a positive integer`);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed ${values.seed} is not an integer ≥ 0`);
  await using opu = await openOpu(url, calibrationOption(values));
  for (const warning of opu.calibrationWarnings) process.stderr.write(`opu bench: warning: ${warning}\n`);
  if (!values.json) {
    process.stdout.write(
      `${opu.device.info.model} ${opu.device.info.serialNumber}: ${opu.inputs} → ${opu.outputs}, ${rows} rows\n`,
    );
    process.stdout.write('workload           vectors/s wall  vectors/s device  frames  device ms  error vs truth\n');
  }
  for (const workload of WORKLOADS) {
    const { result, error } = await workload.run(opu, rows, seed);
    const line = {
      workload: workload.name,
      rows,
      vectorsPerWallSecond: rows / (result.meta.wallTimeMs / 1000),
      vectorsPerDeviceSecond: result.meta.vectorsPerDeviceSecond,
      frames: result.meta.frames,
      deviceTimeMs: result.meta.deviceTimeUs / 1000,
      wallTimeMs: result.meta.wallTimeMs,
      ...(error === undefined ? {} : { relativeErrorVsTruth: error }),
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(line)}\n`);
      continue;
    }
    const truth = error === undefined ? '—' : `${(100 * error).toFixed(2)}%`;
    process.stdout.write(
      `${workload.name.padEnd(18)} ${line.vectorsPerWallSecond.toFixed(1).padStart(14)} ` +
        `${line.vectorsPerDeviceSecond.toFixed(1).padStart(17)} ${String(line.frames).padStart(7)} ` +
        `${line.deviceTimeMs.toFixed(1).padStart(10)}  ${truth}\n`,
    );
  }
  return 0;
}

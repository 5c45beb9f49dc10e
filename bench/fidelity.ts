/**
 * project() against the simulator's true matrix by kind of row: error against sparsity (1 non-zero to dense, ternary
 * and real values, three sizes, default and ideal camera) and error against `averages` (the knob that trades device
 * time for error). Errors are per row, ‖project(e) − e·Bᵀ‖ / ‖e·Bᵀ‖, averaged over the rows of a kind.
 */
import { Opu, seededNormal, seededUniform } from 'opu-core';
import { plot } from 'opu-report';
import { expectedProjectionMatrix, IDEAL_CAMERA, type SimOptions, SimulatedOpuDevice } from 'opu-sim';
import { matmulTransposed } from '../test/helpers.js';

type Values = 'ternary' | 'real';
interface RowKind {
  label: string;
  /** Non-zero entries per row: a count, or a fraction of the inputs (at least 1). */
  nonZeros: number | { fraction: number };
  values: Values;
}

const DENSE_TERNARY: RowKind = { label: 'dense ternary (40%)', nonZeros: { fraction: 0.4 }, values: 'ternary' };
const DENSE_REAL: RowKind = { label: 'dense real', nonZeros: { fraction: 1 }, values: 'real' };
const SPARSITIES: RowKind['nonZeros'][] = [
  1,
  2,
  4,
  { fraction: 0.005 },
  { fraction: 0.02 },
  { fraction: 0.05 },
  { fraction: 0.2 },
];
const KINDS: RowKind[] = [
  ...SPARSITIES.flatMap((nonZeros) =>
    (['ternary', 'real'] as const).map((values) => ({
      label: typeof nonZeros === 'number' ? `${nonZeros} non-zero` : `${100 * nonZeros.fraction}% non-zero`,
      nonZeros,
      values,
    })),
  ),
  DENSE_TERNARY,
  DENSE_REAL,
];

const IDEAL: SimOptions = { camera: { ...IDEAL_CAMERA }, laser: { powerFluctuationRms: 0 } };
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

function nonZeroCount(kind: RowKind, n: number): number {
  return typeof kind.nonZeros === 'number' ? kind.nonZeros : Math.max(1, Math.round(kind.nonZeros.fraction * n));
}

/**
 * `rows` rows of a kind: the non-zero positions drawn uniformly; ternary values ±1 (dense ternary: ±0.37, the DFA
 * errors of the tests), real values N(0, 1).
 */
function rowsOf(kind: RowKind, rows: number, n: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  const g = seededNormal(seed + 1);
  const e = new Float32Array(rows * n);
  const count = nonZeroCount(kind, n);
  const magnitude = kind === DENSE_TERNARY ? 0.37 : 1;
  for (let r = 0; r < rows; r++) {
    const order = Array.from({ length: n }, (_, j) => j);
    for (let k = 0; k < count; k++) {
      const pick = k + Math.floor(u() * (n - k));
      [order[k], order[pick]] = [order[pick]!, order[k]!];
      e[r * n + order[k]!] = kind.values === 'real' ? g() : u() < 0.5 ? magnitude : -magnitude;
    }
  }
  return e;
}

/** Mean over rows of ‖measured − truth‖ / ‖truth‖. */
function perRowError(truth: Float64Array, measured: Float32Array, m: number): number {
  const rows = truth.length / m;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    let err = 0;
    let norm = 0;
    for (let i = 0; i < m; i++) {
      const t = truth[r * m + i]!;
      err += (measured[r * m + i]! - t) ** 2;
      norm += t * t;
    }
    sum += Math.sqrt(err / norm);
  }
  return sum / rows;
}

interface Measured {
  error: number;
  framesPerRow: number;
  deviceMsPerRow: number;
}

async function measure(opu: Opu, B: Float32Array, e: Float32Array, averages = 1): Promise<Measured> {
  const rows = e.length / opu.inputs;
  const { data, meta } = await opu.project(e, { averages });
  return {
    error: perRowError(matmulTransposed(e, B, opu.inputs, opu.outputs), data, opu.outputs),
    framesPerRow: meta.frames / rows,
    deviceMsPerRow: meta.deviceTimeUs / rows / 1e3,
  };
}

/**
 * Opens a simulated OPU and measures every rung of its reference ladder with a one-hot row (the dimmest rung serves
 * it, and each rung is placed through the ones above): per-row device times then exclude that one-off calibration.
 * Returns the device time the rungs took.
 */
async function openWarm(seed: number, options: SimOptions, inputs: number, outputs: number) {
  const opu = await Opu.open(new SimulatedOpuDevice({ options: { seed, ...options } }), { inputs, outputs });
  const oneHot = new Float32Array(inputs);
  oneHot[0] = 1;
  const { meta } = await opu.project(oneHot);
  const B = expectedProjectionMatrix(opu.device as SimulatedOpuDevice, opu.layout, opu.calibration!);
  return { opu, B, rungMs: meta.deviceTimeUs / 1e3 };
}

const SIZES: { inputs: number; outputs: number; rows: number }[] = [
  { inputs: 64, outputs: 256, rows: 8 },
  { inputs: 1024, outputs: 2048, rows: 8 },
  { inputs: 16384, outputs: 512, rows: 4 },
];

export async function sparsityBenchmark(): Promise<{ lines: string[]; svgs: [string, string][] }> {
  const lines = [
    '## project(): error against sparsity',
    '',
    'Per-row error ‖project(e) − e·Bᵀ‖ / ‖e·Bᵀ‖ against the simulator’s true matrix, averaged over the rows of a kind ' +
      '(8 rows; 4 at 16384 inputs), one measurement per piece, seed 101. Ternary rows hold ±1 at the non-zero ' +
      'positions (dense ternary: ±0.37 on 40% of them, the tests’ DFA errors), real rows N(0, 1) values (8-bit ' +
      'separated bit planes). "× dense" is the error over the dense row’s of the same values on the same device; the ' +
      'goal is ≤ 1.5. Device time per row uses the modelled frame times, after a one-hot row has measured the ' +
      'reference ladder (that one-off cost is given per size). Default: realistic 8-bit camera; ideal: 12-bit, no ' +
      'noise source (its error is mostly the responsivity’s scale error, docs/physics.md).',
    '',
  ];
  for (const { inputs, outputs, rows } of SIZES) {
    const results = new Map<string, { kind: RowKind; cells: Measured[] }>();
    const rungMs: number[] = [];
    for (const options of [{}, IDEAL]) {
      console.log(`sparsity ${inputs} → ${outputs}${options === IDEAL ? ', ideal camera' : ''} …`);
      const warm = await openWarm(101, options, inputs, outputs);
      rungMs.push(warm.rungMs);
      try {
        for (const [k, kind] of KINDS.entries()) {
          const key = `${kind.label}/${kind.values}`;
          const entry = results.get(key) ?? { kind, cells: [] };
          entry.cells.push(await measure(warm.opu, warm.B, rowsOf(kind, rows, inputs, 1000 + 17 * k)));
          results.set(key, entry);
        }
      } finally {
        await warm.opu.close();
      }
    }
    const dense = (values: Values, c: number) =>
      results.get(values === 'ternary' ? `${DENSE_TERNARY.label}/ternary` : `${DENSE_REAL.label}/real`)!.cells[c]!
        .error;
    lines.push(
      `### ${inputs} → ${outputs}`,
      '',
      `Reference ladder measured once: ${(rungMs[0]! / 1e3).toFixed(2)} s of device time.`,
      '',
      '| row kind | non-zeros | values | error (default) | × dense | frames/row | device ms/row | error (ideal) | × dense |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const { kind, cells } of results.values()) {
      const [real, ideal] = cells as [Measured, Measured];
      lines.push(
        `| ${kind.label} | ${nonZeroCount(kind, inputs)} | ${kind.values} | ${pct(real.error)} | ` +
          `${(real.error / dense(kind.values, 0)).toFixed(2)} | ${real.framesPerRow.toFixed(0)} | ` +
          `${real.deviceMsPerRow.toFixed(1)} | ${pct(ideal.error)} | ${(ideal.error / dense(kind.values, 1)).toFixed(2)} |`,
      );
    }
    lines.push('');
  }
  return { lines, svgs: [] };
}

const AVERAGES = [1, 2, 4, 8, 16];
const AVERAGED_KINDS: RowKind[] = [DENSE_TERNARY, DENSE_REAL, { label: 'one-hot', nonZeros: 1, values: 'ternary' }];

export async function averagesBenchmark(): Promise<{ lines: string[]; svgs: [string, string][] }> {
  const inputs = 1024;
  const outputs = 2048;
  const rows = 8;
  const seeds = [101, 102];
  // kind → averages → [error, frames, device ms] summed over seeds
  const sums = AVERAGED_KINDS.map(() => AVERAGES.map(() => [0, 0, 0]));
  for (const seed of seeds) {
    console.log(`averages, seed ${seed} …`);
    const warm = await openWarm(seed, {}, inputs, outputs);
    try {
      for (const [k, kind] of AVERAGED_KINDS.entries()) {
        const e = rowsOf(kind, rows, inputs, 2000 + 31 * seed + k);
        for (const [a, averages] of AVERAGES.entries()) {
          const r = await measure(warm.opu, warm.B, e, averages);
          const cell = sums[k]![a]!;
          cell[0]! += r.error / seeds.length;
          cell[1]! += r.framesPerRow / seeds.length;
          cell[2]! += r.deviceMsPerRow / seeds.length;
        }
      }
    } finally {
      await warm.opu.close();
    }
  }
  const lines = [
    '## project(): error against averages',
    '',
    `\`project(e, { averages })\` measures each binary piece that many times and averages its frames. ${inputs} → ` +
      `${outputs}, default realistic 8-bit camera, ${rows} rows of each kind on ${seeds.length} devices (seeds ` +
      `${seeds.join(', ')}), per-row error against the true matrix averaged; frames and device time per vector ` +
      '(reference ladder measured beforehand). Camera noise falls as 1/√averages down to what averaging cannot ' +
      'remove: the responsivity’s scale error and PRNU, ≈ 0.6% together (docs/physics.md, "The noise floor of one ' +
      'measurement").',
    '',
    `| averages | ${AVERAGED_KINDS.map((k) => `${k.label}: error | frames | device ms`).join(' | ')} |`,
    `|---|${AVERAGED_KINDS.map(() => '---|---|---|').join('')}`,
  ];
  for (const [a, averages] of AVERAGES.entries()) {
    const cells = AVERAGED_KINDS.map((_, k) => {
      const [error, frames, ms] = sums[k]![a]! as [number, number, number];
      return `${pct(error)} | ${frames.toFixed(0)} | ${ms.toFixed(1)}`;
    });
    lines.push(`| ${averages} | ${cells.join(' | ')} |`);
  }
  lines.push('', '![error of project() against averages](projection-averages.svg)', '');
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c'];
  const series = AVERAGED_KINDS.flatMap((kind, k) => {
    const errors = AVERAGES.map((_, a) => 100 * sums[k]![a]![0]!);
    return [
      { label: kind.label, color: colors[k]!, x: AVERAGES, y: errors, style: 'line' as const },
      {
        label: `${kind.label}: 1/√averages`,
        color: colors[k]!,
        x: AVERAGES,
        y: AVERAGES.map((n) => errors[0]! / Math.sqrt(n)),
        style: 'line' as const,
        dashed: true,
      },
    ];
  });
  const svg = plot(series, {
    title: `project() error against averages (${inputs} → ${outputs}, realistic 8-bit camera)`,
    xLabel: 'averages (measurements per piece)',
    yLabel: 'per-row error, %',
    logX: true,
    logY: true,
    legend: 'bottom-left',
  });
  return { lines, svgs: [['docs/projection-averages.svg', svg]] };
}

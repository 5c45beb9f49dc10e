/**
 * Mackey-Glass prediction with an optical reservoir on the simulated OPU, against its noise-free digital twin, a
 * linear autoregression and persistence: prints the NRMSE one and ten steps ahead on a held-out segment, and writes
 * an SVG plot of the ten-step prediction against the truth.
 *
 *   npx tsx examples/optical-reservoir.ts                      # 4000 training, 1000 test steps, plot in runs/reservoir/
 *   npx tsx examples/optical-reservoir.ts out/ --train 1000 --test 300 --seed 5
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CostTally, GaussianOperator, Opu, writeFileAtomic } from 'opu-core';
import {
  autoregressiveForecast,
  type Forecast,
  mackeyGlass,
  OpticalReservoir,
  persistenceForecast,
  reservoirForecast,
  reservoirShape,
} from 'opu-learn';
import { plot } from 'opu-report';
import { SimulatedOpuDevice } from 'opu-sim';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    train: { type: 'string', default: '4000' },
    test: { type: 'string', default: '1000' },
    state: { type: 'string', default: '256' },
    seed: { type: 'string', default: '3' },
  },
});
const dir = positionals[0] ?? join('runs', 'reservoir');
const [train, test, stateSize, seed] = [values.train, values.test, values.state, values.seed].map(Number) as [
  number,
  number,
  number,
  number,
];
const split = { train, washout: 100, horizons: [1, 10] };
const readout = { ...split, lambda: 0.01, chunks: 16 };
// 200 samples discarded: the series leaves its constant history for the attractor.
const series = Float32Array.from(mackeyGlass({ length: train + test + 10, discard: 200 }));
const shape = reservoirShape(stateSize);

const rows: [string, Forecast, string][] = [];
let optical: Forecast;
{
  await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed } }), shape);
  const cost = new CostTally();
  const started = performance.now();
  const reservoir = new OpticalReservoir(opu, { cost }).fitInput(series.subarray(0, train));
  optical = await reservoirForecast(reservoir, series, readout);
  const wall = (performance.now() - started) / 1000;
  rows.push([
    'optical reservoir (simulated OPU)',
    optical,
    `${cost.frames} frames, ${(cost.deviceTimeUs / 1e6).toFixed(2)} s of device time, ${wall.toFixed(1)} s wall`,
  ]);
}
{
  const started = performance.now();
  const twin = new OpticalReservoir(new GaussianOperator(shape.inputs, shape.outputs, seed));
  const digital = await reservoirForecast(twin.fitInput(series.subarray(0, train)), series, readout);
  rows.push([
    'digital twin (complex Gaussian, GEMM)',
    digital,
    `${((performance.now() - started) / 1000).toFixed(1)} s wall`,
  ]);
}
const linear = autoregressiveForecast(series, 20, split, 1e-3);
rows.push(['linear autoregression (20 lags)', linear, '']);
rows.push(['persistence', persistenceForecast(series, split), '']);

console.log(
  `Mackey-Glass τ = 17: ${train} training steps (${split.washout} washout), ${optical.rows} test steps; ` +
    `reservoir of ${stateSize} features on ${shape.inputs} DMD elements`,
);
console.log(`${'NRMSE'.padEnd(40)}${'1 step'.padStart(8)}${'10 steps'.padStart(10)}`);
for (const [name, forecast, note] of rows) {
  const [one, ten] = forecast.nrmse.map((v) => v.toFixed(4).padStart(8));
  console.log(`${name.padEnd(40)}${one}${ten!.padStart(10)}  ${note}`);
}

const shown = Math.min(400, optical.rows);
const steps = Array.from({ length: shown }, (_, r) => train + r + 10);
const column = (f: Forecast, k: number) => Array.from({ length: shown }, (_, r) => f.predictions[r * 2 + k]!);
await mkdir(dir, { recursive: true });
const file = join(dir, 'reservoir-prediction.svg');
await writeFileAtomic(
  file,
  plot(
    [
      {
        label: 'truth',
        color: '#222',
        x: steps,
        y: Array.from({ length: shown }, (_, r) => optical.truth[r * 2 + 1]!),
        style: 'line',
      },
      { label: 'optical reservoir, 10 steps ahead', color: '#d62728', x: steps, y: column(optical, 1), style: 'line' },
      {
        label: 'linear autoregression, 10 steps ahead',
        color: '#1f77b4',
        x: steps,
        y: column(linear, 1),
        style: 'line',
        dashed: true,
      },
    ],
    {
      title: `Mackey-Glass, 10 steps ahead: optical reservoir NRMSE ${optical.nrmse[1]!.toFixed(3)}, linear ${linear.nrmse[1]!.toFixed(3)}`,
      xLabel: 'time step',
      yLabel: 'x(t)',
      width: 900,
      legend: 'bottom-left',
      padding: 0.2, // room for the legend below the data
    },
  ),
);
console.log(`plot: ${file}`);

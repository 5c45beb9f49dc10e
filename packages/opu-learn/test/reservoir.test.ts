import { CostTally, GaussianOperator, Opu } from 'opu-core';
import { SimulatedOpuDevice } from 'opu-sim';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  autoregressiveForecast,
  type Forecast,
  mackeyGlass,
  OpticalReservoir,
  persistenceForecast,
  reservoirForecast,
  reservoirShape,
} from '../src/index.js';

const stateSize = 256;
const split = { train: 4000, washout: 100, horizons: [1, 10] };
const series = Float32Array.from(mackeyGlass({ length: 5010, discard: 200 }));
const shape = reservoirShape(stateSize);

describe('OpticalReservoir on Mackey-Glass (256 features, 4000 training and 1000 test steps)', () => {
  let optical: Forecast;
  let digital: Forecast;
  let frames: number;

  beforeAll(async () => {
    await using opu = await Opu.open(new SimulatedOpuDevice({ options: { seed: 3 } }), shape);
    const cost = new CostTally();
    const reservoir = new OpticalReservoir(opu, { cost }).fitInput(series.subarray(0, split.train));
    optical = await reservoirForecast(reservoir, series, { ...split, lambda: 0.01, chunks: 16 });
    frames = cost.frames;
    const twin = new OpticalReservoir(new GaussianOperator(shape.inputs, shape.outputs, 3));
    digital = await reservoirForecast(twin.fitInput(series.subarray(0, split.train)), series, {
      ...split,
      lambda: 0.01,
      chunks: 16,
    });
  }, 60_000); // 13 s on the TypeScript kernels

  it('predicts one step ahead on the simulated OPU, far better than persistence', () => {
    const persistence = persistenceForecast(series, split);
    console.log(
      optical.nrmse,
      digital.nrmse,
      persistence.nrmse,
      autoregressiveForecast(series, 20, split, 1e-3).nrmse,
      frames,
    );
    expect(optical.nrmse[0]).toBeLessThan(0.06);
    expect(optical.nrmse[0]).toBeLessThan(persistence.nrmse[0]! / 2.5);
  });

  it('predicts ten steps ahead better than a linear autoregression, where memory and nonlinearity count', () => {
    const linear = autoregressiveForecast(series, 20, split, 1e-3);
    expect(optical.nrmse[1]).toBeLessThan(0.2);
    expect(optical.nrmse[1]).toBeLessThan(linear.nrmse[1]! / 2);
  });

  it('matches its noise-free digital twin', () => {
    for (const k of [0, 1])
      expect(Math.abs(optical.nrmse[k]! - digital.nrmse[k]!), `horizon ${split.horizons[k]}`).toBeLessThan(0.05);
  });

  it('shows one DMD frame per step, the pieces side by side', () => {
    const steps = series.length + 15 * split.washout; // 16 pieces, 15 warmed up
    expect(frames).toBeGreaterThanOrEqual(steps);
    expect(frames).toBeLessThan(steps * 1.3); // plus flush frames and the re-acquisitions of saturated frames
  });
});

describe('OpticalReservoir arguments', () => {
  it('needs a map shaped for it and a fitted input code', async () => {
    expect(() => new OpticalReservoir(new GaussianOperator(100, stateSize))).toThrow(/reservoirShape/);
    const reservoir = new OpticalReservoir(new GaussianOperator(shape.inputs, shape.outputs));
    await expect(reservoir.run(series)).rejects.toThrow(/fitInput/);
    expect(() => reservoirShape(stateSize, { leak: 0 })).toThrow(/options\.leak/);
  });

  it('gives the same states whether the series runs whole or in pieces, once the pieces are warmed up', async () => {
    const reservoir = new OpticalReservoir(new GaussianOperator(shape.inputs, shape.outputs, 1));
    reservoir.fitInput(series);
    const part = series.subarray(0, 800);
    const whole = await reservoir.run(part);
    const pieces = await reservoir.run(part, { chunks: 4, washout: 100 });
    expect(pieces.subarray(0, 200 * stateSize)).toEqual(whole.subarray(0, 200 * stateSize)); // the first piece
    let distance = 0;
    let norm = 0;
    for (let i = 600 * stateSize; i < 800 * stateSize; i++) {
      distance += (pieces[i]! - whole[i]!) ** 2;
      norm += whole[i]! ** 2;
    }
    expect(Math.sqrt(distance / norm)).toBeLessThan(0.08);
  });
});

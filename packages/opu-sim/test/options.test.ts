import { ArgumentError, ConfigurationError } from 'opu-core';
import { describe, expect, it } from 'vitest';
import {
  IDEAL_CAMERA,
  resolveSimOptions,
  type SimOptions,
  SimulatedOpuDevice,
  simBackend,
  simOptionsFromParams,
} from '../src/index.js';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const params = (query: string) => new Map(new URLSearchParams(query));

describe('resolveSimOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveSimOptions();
    expect(o.seed).toBe(0);
    expect(o.camera.bitDepth).toBe(8);
    expect(o.camera.fullWellE).toBe(13_500);
    expect(o.dmd).toMatchObject({ widthMirrors: 912, heightMirrors: 1140, outsidePattern: 'off' });
    expect(o.medium).toEqual({ speckleGrainPx: 0, driftTimeConstantS: Number.POSITIVE_INFINITY });
    expect(o.laser.powerFluctuationRms).toBe(0.003);
    expect(o.exposureUs).toBe(400);
    // Nested objects are completed, not replaced, by a partial override.
    const partial = resolveSimOptions({ camera: { bitDepth: 12 } });
    expect(partial.camera.bitDepth).toBe(12);
    expect(partial.camera.readNoiseE).toBe(13);
  });

  it('accepts Infinity as the drift time constant (a fixed medium), as documented', () => {
    expect(
      resolveSimOptions({ medium: { driftTimeConstantS: Number.POSITIVE_INFINITY } }).medium.driftTimeConstantS,
    ).toBe(Number.POSITIVE_INFINITY);
    expect(resolveSimOptions({ medium: { driftTimeConstantS: 2.5 } }).medium.driftTimeConstantS).toBe(2.5);
  });

  it.each<[string, SimOptions]>([
    ['options.camera.bitDepth', { camera: { bitDepth: 9 as 8 } }],
    ['options.camera.fullWellE', { camera: { fullWellE: -1 } }],
    ['options.camera.fullWellE', { camera: { fullWellE: 0 } }],
    ['options.camera.readNoiseE', { camera: { readNoiseE: -0.1 } }],
    ['options.camera.prnuRms', { camera: { prnuRms: 0.6 } }],
    ['options.camera.triggerLagFrames', { camera: { triggerLagFrames: 1.5 } }],
    ['options.camera.triggerLagFrames', { camera: { triggerLagFrames: 5 } }],
    ['options.camera.widthPx', { camera: { widthPx: 0 } }],
    ['options.seed', { seed: -1 }],
    ['options.seed', { seed: 2 ** 32 }],
    ['options.seed', { seed: 0.5 }],
    ['options.dmd.outsidePattern', { dmd: { outsidePattern: 'ones' as 'on' } }],
    ['options.medium.speckleGrainPx', { medium: { speckleGrainPx: 17 } }],
    ['options.medium.driftTimeConstantS', { medium: { driftTimeConstantS: 0 } }],
    ['options.medium.driftTimeConstantS', { medium: { driftTimeConstantS: Number.NaN } }],
    ['options.medium.driftTimeConstantS', { medium: { driftTimeConstantS: Number.NEGATIVE_INFINITY } }],
    ['options.laser.powerFluctuationRms', { laser: { powerFluctuationRms: -0.01 } }],
    ['options.photonsPerMirrorUs', { photonsPerMirrorUs: 0 }],
    ['options.camera.quantumEfficiency', { camera: { quantumEfficiency: 1.5 } }],
    ['options.inputRegion.width', { inputRegion: { left: 0, top: 0, width: 0, height: 4 } }],
    ['options.outputRoi.left', { outputRoi: { left: -1, top: 0, width: 4, height: 4 } }],
    ['options.matrixCacheMb', { matrixCacheMb: -1 }],
  ])('rejects a bad %s with an ArgumentError naming it', (field, options) => {
    const error = errorOf(() => resolveSimOptions(options));
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as ArgumentError).field).toBe(field);
    expect((error as ArgumentError).message).toContain(field);
    // The device constructor validates the same way, before anything is opened.
    expect(() => new SimulatedOpuDevice({ options })).toThrow(ArgumentError);
  });
});

describe('simOptionsFromParams (sim:// query)', () => {
  it('parses every supported key', () => {
    const o = simOptionsFromParams(
      params(
        'seed=42&bitDepth=12&speckleGrainPx=2.5&driftTimeConstantS=30&laserFluctuationRms=0.01&triggerLagFrames=1&outsidePattern=on',
      ),
    );
    expect(o).toEqual({
      seed: 42,
      camera: { bitDepth: 12, triggerLagFrames: 1 },
      medium: { speckleGrainPx: 2.5, driftTimeConstantS: 30 },
      laser: { powerFluctuationRms: 0.01 },
      dmd: { outsidePattern: 'on' },
    });
    expect(resolveSimOptions(o).camera.bitDepth).toBe(12);
  });

  it('accepts driftTimeConstantS=Infinity end to end', () => {
    const o = simOptionsFromParams(params('driftTimeConstantS=Infinity'));
    expect(o.medium?.driftTimeConstantS).toBe(Number.POSITIVE_INFINITY);
    expect(resolveSimOptions(o).medium.driftTimeConstantS).toBe(Number.POSITIVE_INFINITY);
  });

  it('camera=ideal applies the ideal preset and keeps an explicit bitDepth, whatever the key order', () => {
    for (const query of ['camera=ideal&bitDepth=10', 'bitDepth=10&camera=ideal']) {
      const resolved = resolveSimOptions(simOptionsFromParams(params(query)));
      expect(resolved.camera).toMatchObject({ ...IDEAL_CAMERA, bitDepth: 10 });
    }
    expect(resolveSimOptions(simOptionsFromParams(params('camera=ideal'))).camera.bitDepth).toBe(IDEAL_CAMERA.bitDepth);
    expect(resolveSimOptions(simOptionsFromParams(params('camera=realistic'))).camera.readNoiseE).toBe(13);
  });

  it.each([
    ['url.exposure', 'exposure=400'],
    ['url.Seed', 'Seed=1'],
    ['url.seed', 'seed=abc'],
    ['url.seed', 'seed='],
    ['url.bitDepth', 'bitDepth=eight'],
    ['url.speckleGrainPx', 'speckleGrainPx=%20'],
    ['url.driftTimeConstantS', 'driftTimeConstantS=1s'],
    ['url.laserFluctuationRms', 'laserFluctuationRms=NaN'],
    ['url.triggerLagFrames', 'triggerLagFrames=one'],
    ['url.camera', 'camera=fancy'],
  ])('rejects %s with a ConfigurationError naming it', (field, query) => {
    const error = errorOf(() => simOptionsFromParams(params(query)));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(field);
    expect(() => simBackend.createDevice(new URL(`sim://?${query}`), params(query))).toThrow(ConfigurationError);
  });

  it('out-of-range numbers parse, then fail option validation naming the option', () => {
    const error = errorOf(() => simBackend.createDevice(new URL('sim://?bitDepth=9'), params('bitDepth=9')));
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as ArgumentError).field).toBe('options.camera.bitDepth');
  });

  it('the backend builds a device with the parsed options', async () => {
    const device = simBackend.createDevice(new URL('sim://?seed=7&bitDepth=10'), params('seed=7&bitDepth=10'));
    expect(device).toBeInstanceOf(SimulatedOpuDevice);
    await device.open();
    expect(device.info.camera.bitDepth).toBe(10);
    expect(device.info.serialNumber).toBe('SIM-00000007');
    await device.close();
  });
});

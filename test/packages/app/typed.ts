// Type-checked in the consumer app under moduleResolution nodenext and bundler: the declarations that the packages
// ship describe what they export, and they are typed (the @ts-expect-error lines must be errors).
import { loadMnist, Mlp, Trainer } from 'dfa-nn';
import { type Opu, OpuError, openOpu } from 'opu-core';
import { kernels } from 'opu-native';
import { projectionErrorAgainstTruth } from 'opu-sim';

export async function projectOnce(url: string): Promise<number | undefined> {
  const opu: Opu = await openOpu(url);
  try {
    const e = new Float32Array(opu.inputs);
    const { data } = await opu.project(e);
    // @ts-expect-error project() takes a Float32Array, not a string
    await opu.project('not a vector');
    return projectionErrorAgainstTruth(opu, e, data);
  } catch (error) {
    if (error instanceof OpuError) return undefined;
    throw error;
  } finally {
    await opu.close();
  }
}

export function trainerFor(hidden: number): Trainer {
  const backend: 'native' | 'typescript' = kernels.backend;
  const model = new Mlp({ sizes: [784, hidden, 10], activation: 'tanh', seed: backend.length });
  // @ts-expect-error 'sideways' is not a training algorithm
  new Trainer(model, { algorithm: 'sideways', optimizer: { name: 'sgd', learningRate: 0.1 } });
  return new Trainer(model, { algorithm: 'dfa', optimizer: { name: 'sgd', learningRate: 0.1 } });
}

export const samples: number = loadMnist('test', 10).rows;

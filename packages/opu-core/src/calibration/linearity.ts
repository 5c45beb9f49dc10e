import { seededNormal, seededUniform } from '../support/random.js';

/** Linear projection of a row-major batch (rows × inputs), returning rows × outputs. */
export type ProjectRows = (rows: Float32Array, count: number) => Promise<Float32Array>;

export interface Linearity {
  superpositionError: number;
  realSuperpositionError: number;
  pairs: number;
}

/**
 * Superposition: for inputs a and b on disjoint elements, P(a + b) = P(a) + P(b) holds for a linear projection.
 * Binary pairs test the interference scheme itself; real-valued pairs add the bit-plane encoding. The error also
 * holds three measurements' noise, so it is a ceiling on the non-linearity, not a measurement of it alone.
 */
export async function measureLinearity(
  project: ProjectRows,
  inputs: number,
  pairs: number,
  seed: number,
): Promise<Linearity> {
  const random = seededUniform(seed);
  const normal = seededNormal(seed + 1);
  const binary = await superpositionError(project, inputs, pairs, random, () => 1);
  const real = await superpositionError(project, inputs, pairs, random, normal);
  return { superpositionError: binary, realSuperpositionError: real, pairs };
}

async function superpositionError(
  project: ProjectRows,
  inputs: number,
  pairs: number,
  random: () => number,
  value: () => number,
): Promise<number> {
  const rows = new Float32Array(3 * pairs * inputs);
  for (let p = 0; p < pairs; p++) {
    const [a, b, sum] = [0, 1, 2].map((r) => (3 * p + r) * inputs);
    for (let j = 0; j < inputs; j++) {
      const u = random();
      // each of a and b lights about a quarter of the elements, never the same ones
      const target = u < 0.25 ? a! : u < 0.5 ? b! : -1;
      if (target < 0) continue;
      const v = value();
      rows[target + j] = v;
      rows[sum! + j] = v;
    }
  }
  const out = await project(rows, 3 * pairs);
  const m = out.length / (3 * pairs);
  let residual = 0;
  let norm = 0;
  for (let p = 0; p < pairs; p++) {
    for (let i = 0; i < m; i++) {
      const [pa, pb, ps] = [0, 1, 2].map((r) => out[(3 * p + r) * m + i]!);
      residual += (ps! - pa! - pb!) ** 2;
      norm += ps! ** 2;
    }
  }
  return Math.sqrt(residual / norm);
}

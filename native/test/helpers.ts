/** Test data shared by the test files. */

/**
 * Seeded uniforms in (0, 1) for test data: the same sequence as opu-core's seededUniform (a SplitMix32-style
 * hash of a Weyl counter), written here because opu-native imports no package of this repo, not even in its tests.
 */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return ((z >>> 0) + 0.5) / 4294967296;
  };
}

/** An 8-bit camera with every noise on (seed 5): a valid cameraExpose model. */
export const CAMERA_8BIT = {
  seed: 5,
  electronsPerIntensity: 20,
  darkElectrons: 0.1,
  fullWellE: 13_500,
  readNoiseE: 13,
  aduPerElectron: 255 / 13_500,
  biasAdu: 3,
  maxAdu: 255,
  shotNoise: true,
};

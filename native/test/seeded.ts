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

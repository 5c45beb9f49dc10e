export type { Estimate } from './estimate.js';
export {
  erdosRenyi,
  type LowRankPlusNoise,
  lowRankPlusNoise,
  randomOrthonormal,
  stochasticBlockModel,
  symmetricPsd,
} from './generators.js';
export { type ThinQr, thinQr } from './qr.js';
export { type RandomizedSvdOptions, randomizedSvd, type TruncatedSvd } from './randomized-svd.js';
export type { SketchOptions } from './sketch.js';
export { type Svd, svd } from './svd.js';
export { hutchinsonTrace } from './trace.js';
export { countTriangles, exactTriangles } from './triangles.js';

/**
 * Runs the random-features benchmark in its own process, so that the peak RSS it reports is its own, and prints
 * { lines, svgs } as one JSON line. Arguments (optional): training rows, test rows, kernel rows, feature counts….
 */
import { randomFeaturesBenchmark } from './random-features.js';

const [trainRows, testRows, kernelRows, ...featureCounts] = process.argv.slice(2).map(Number);
const result = await randomFeaturesBenchmark(
  trainRows ? { trainRows, testRows: testRows!, kernelRows: kernelRows!, featureCounts } : undefined,
);
console.log(JSON.stringify(result));

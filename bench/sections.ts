/**
 * `npm run bench:sections -- calibration randnla sparsity averages`: re-measures the named sections of docs/benchmarks.md and
 * replaces only them (and their plots), for a change that touches one area; `npm run bench` remeasures everything.
 * The header records the date of each section's last measurement.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from 'opu-core';
import { kernels } from 'opu-native';
import { calibrationBenchmark } from './calibration.js';
import { averagesBenchmark, sparsityBenchmark } from './fidelity.js';
import { randnlaBenchmark } from './randnla.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECTIONS: Record<string, () => Promise<{ lines: string[]; svgs: [string, string][] }>> = {
  calibration: async () => ({ lines: await calibrationBenchmark(), svgs: [] }),
  randnla: randnlaBenchmark,
  sparsity: sparsityBenchmark,
  averages: averagesBenchmark,
};

const names = process.argv.slice(2);
const unknown = names.filter((name) => !(name in SECTIONS));
if (names.length === 0 || unknown.length > 0) {
  console.error(`usage: npm run bench:sections -- ${Object.keys(SECTIONS).join(' | ')} …`);
  process.exit(2);
}
const path = `${root}docs/benchmarks.md`;
let text = readFileSync(path, 'utf8');
for (const name of names) {
  const { lines, svgs } = await SECTIONS[name]!();
  for (const [file, svg] of svgs) await writeFileAtomic(`${root}${file}`, svg);
  const heading = lines.find((line) => line.startsWith('## '))!;
  const start = text.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`docs/benchmarks.md has no section "${heading}": run npm run bench`);
  const next = text.indexOf('\n## ', start + heading.length);
  const stamp = `_Section measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:sections -- ${name}\` (${cpus().length} cores, opu-native ${kernels.backend} ${kernels.simd})._`;
  const body = [lines[0], '', stamp, ...lines.slice(1)].join('\n').replace(/\n+$/, '\n');
  text = text.slice(0, start) + body + (next < 0 ? '' : text.slice(next));
}
await writeFileAtomic(path, text);

import { serialBenchmark } from './serial.js';

for (const line of await serialBenchmark()) console.log(line);

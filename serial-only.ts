import { serialBenchmark } from './bench/serial.js';
for (const line of await serialBenchmark()) console.log(line);

import { existsSync, readFileSync } from 'node:fs';

/**
 * This process's peak resident set, in MB. Linux's VmHWM belongs to this program's address space; getrusage's maxrss
 * survives exec and so can report the parent's RSS at fork time (the benchmark runner's, hundreds of MB) instead of
 * this process's own. Meaningful for a benchmark run alone in its own process.
 */
export function peakRssMb(): number {
  if (existsSync('/proc/self/status')) {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  }
  return process.resourceUsage().maxRSS / 1024;
}

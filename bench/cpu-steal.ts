import { readFileSync } from 'node:fs';

/** The machine's CPU time so far, in clock ticks: all of it, and what the hypervisor gave to others. */
export interface CpuTimes {
  total: number;
  steal: number;
}

/**
 * Reads the `cpu` line of `/proc/stat` (Linux): user, nice, system, idle, iowait, irq, softirq, steal,
 * ... `steal` is time this virtual machine's CPUs were ready to run and the host ran something else.
 * `null` where there is no such file.
 */
export function cpuTimes(file = '/proc/stat'): CpuTimes | null {
  try {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    if (!line) return null;
    // guest and guest_nice (fields 9 and 10) are already counted in user and nice.
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (ticks.length < 8 || ticks.some((n) => !Number.isFinite(n))) return null;
    return { total: ticks.reduce((a, b) => a + b, 0), steal: ticks[7] };
  } catch {
    return null;
  }
}

/** The share (0 to 1) of CPU time stolen between two readings, or `null` if either is missing. */
export function stolenShare(before: CpuTimes | null, after: CpuTimes | null): number | null {
  if (!before || !after || after.total <= before.total) return null;
  return (after.steal - before.steal) / (after.total - before.total);
}

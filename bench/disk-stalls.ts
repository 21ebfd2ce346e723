import { readFileSync, realpathSync, statSync } from 'node:fs';

/** A spell in which the disk completed nothing while it had requests to do: epoch ms, start and end. */
export interface DiskStall {
  from: number;
  to: number;
}

/** Stalls shorter than this are not kept: they cannot move a p99 of about 10 ms. */
export const STALL_MIN_MS = 10;
/** How often the device's counters are read. */
export const SAMPLE_MS = 2;
/** How far a stall may have begun before it was first seen, or ended after it was last seen. */
export const STALL_SLACK_MS = SAMPLE_MS;

/** Whether `stall` overlaps the span `[from, to]` (epoch ms). */
export const overlaps = (stall: DiskStall, from: number, to: number): boolean => stall.to > from && stall.from < to;

/** Epoch milliseconds on the clock the open-loop client stamps its requests with. */
const now = () => performance.timeOrigin + performance.now();

/**
 * The kernel's counters of the block device that holds `directory` (Linux: `/sys/dev/block/M:m/stat`),
 * or `null` where there are none (another OS, or a file system on no block device, such as tmpfs).
 */
export function blockDeviceStatFile(directory: string): string | null {
  try {
    const dev = statSync(realpathSync(directory), { bigint: true }).dev;
    // Linux's dev_t: the major number in bits 8-19 and 32-43, the minor in bits 0-7 and 20-31.
    const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
    const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
    if (major === 0n) return null;
    const file = `/sys/dev/block/${major}:${minor}/stat`;
    readFileSync(file, 'utf8');
    return file;
  } catch {
    return null;
  }
}

/**
 * Watches a block device for stalls: spells of at least `STALL_MIN_MS` in which it had requests in
 * flight and completed none (no read, write, discard or flush). Every answer of a durable intake waits
 * for a flush of Postgres's WAL, so such a spell holds up every request that arrives during it, which
 * a handler that stores nothing never sees. Reading the counters adds no I/O of its own.
 *
 * A stall runs from the first sample that saw it to the last: at most one sample shorter than it was.
 * A sample that comes late (this process paused) cannot make one up: a stall needs two samples with
 * requests in flight and, between them and since the last progress, nothing completed.
 *
 * Fields of the stat file (Documentation/block/stat.rst): 0 reads, 4 writes, 8 in flight, 11 discards,
 * 15 flushes completed (the last two only on newer kernels).
 */
export class DiskStallWatch {
  readonly stalls: DiskStall[] = [];
  private readonly timer: NodeJS.Timeout;
  private completed: number;
  /** The current stall: when it was first and last seen. */
  private spell: DiskStall | null = null;

  constructor(private readonly statFile: string) {
    this.completed = this.read().completed;
    // Never what keeps the benchmark alive when a phase fails before `stop`.
    this.timer = setInterval(() => this.sample(), SAMPLE_MS).unref();
  }

  private read(): { completed: number; inFlight: number } {
    const fields = readFileSync(this.statFile, 'utf8').trim().split(/\s+/).map(Number);
    const completed = fields[0] + fields[4] + (fields[11] ?? 0) + (fields[15] ?? 0);
    return { completed, inFlight: fields[8] };
  }

  private sample(): void {
    const at = now();
    const { completed, inFlight } = this.read();
    if (completed === this.completed && inFlight > 0) {
      if (this.spell) this.spell.to = at;
      else this.spell = { from: at, to: at };
      return;
    }
    this.completed = completed;
    if (this.spell && this.spell.to - this.spell.from >= STALL_MIN_MS) this.stalls.push(this.spell);
    this.spell = null;
  }

  /** The stalls that overlap `[from, to]`. */
  between(from: number, to: number): DiskStall[] {
    return this.stalls.filter((stall) => overlaps(stall, from, to));
  }

  /** Stops watching; a stall still under way is kept as far as it was seen. */
  stop(): void {
    clearInterval(this.timer);
    if (this.spell && this.spell.to - this.spell.from >= STALL_MIN_MS) this.stalls.push(this.spell);
    this.spell = null;
  }
}

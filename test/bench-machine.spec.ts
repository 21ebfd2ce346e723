import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuTimes, stolenShare } from '../bench/cpu-steal.js';
import { blockDeviceStatFile, DiskStallWatch } from '../bench/disk-stalls.js';

/** A block device stat line (Documentation/block/stat.rst): 17 fields, the ones the watch reads set. */
const statLine = (reads: number, writes: number, inFlight: number, flushes: number) =>
  [reads, 0, 0, 0, writes, 0, 0, 0, inFlight, 0, 0, 0, 0, 0, 0, flushes, 0].join(' ') + '\n';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DiskStallWatch (npm run bench)', () => {
  let dir: string;
  let file: string;
  let watch: DiskStallWatch | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mh-disk-stalls-'));
    file = join(dir, 'stat');
  });
  afterEach(() => {
    watch?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a spell with requests in flight and nothing completed, for about as long as it lasted', async () => {
    writeFileSync(file, statLine(10, 20, 0, 5));
    watch = new DiskStallWatch(file);
    await sleep(20);
    writeFileSync(file, statLine(10, 20, 2, 5));
    const began = performance.timeOrigin + performance.now();
    await sleep(80);
    writeFileSync(file, statLine(10, 21, 1, 5));
    const ended = performance.timeOrigin + performance.now();
    await sleep(20);

    expect(watch.stalls).toHaveLength(1);
    const [stall] = watch.stalls;
    expect(stall.to - stall.from).toBeGreaterThan(60);
    expect(stall.from).toBeGreaterThanOrEqual(began - 5);
    expect(stall.to).toBeLessThanOrEqual(ended + 5);
    expect(watch.between(began, ended)).toEqual([stall]);
    expect(watch.between(ended + 10, ended + 1000)).toEqual([]);
  });

  it('keeps a stall still under way when it stops', async () => {
    writeFileSync(file, statLine(10, 20, 1, 5));
    watch = new DiskStallWatch(file);
    await sleep(60);
    watch.stop();
    expect(watch.stalls).toHaveLength(1);
    expect(watch.stalls[0].to - watch.stalls[0].from).toBeGreaterThan(40);
  });

  it('counts a completed flush as progress, as a write or read', async () => {
    writeFileSync(file, statLine(10, 20, 1, 5));
    watch = new DiskStallWatch(file);
    for (let flushes = 6; flushes < 16; flushes++) {
      await sleep(2);
      writeFileSync(file, statLine(10, 20, 1, flushes));
    }
    for (let reads = 11; reads < 21; reads++) {
      await sleep(2);
      writeFileSync(file, statLine(reads, 20, 1, 15));
    }
    await sleep(2);
    writeFileSync(file, statLine(20, 20, 0, 15));
    await sleep(20);
    expect(watch.stalls).toEqual([]);
  });

  it('is no stall when the disk is idle, and none under 10 ms', async () => {
    writeFileSync(file, statLine(10, 20, 0, 5));
    watch = new DiskStallWatch(file);
    await sleep(80);
    writeFileSync(file, statLine(10, 20, 1, 5));
    await sleep(4);
    writeFileSync(file, statLine(10, 21, 0, 5));
    await sleep(20);
    expect(watch.stalls).toEqual([]);
  });

  it("finds the stat file of the block device a directory is on, and none for a file system that has none", () => {
    expect(blockDeviceStatFile('/proc')).toBeNull();
    expect(blockDeviceStatFile(join(tmpdir(), 'no-such-directory-here'))).toBeNull();
    // Cross-checked against coreutils' own reading of the device number, where the machine has one.
    const device = execFileSync('stat', ['-c', '%Hd:%Ld', process.cwd()]).toString().trim();
    const expected = device.startsWith('0:') || !existsSync(`/sys/dev/block/${device}/stat`) ? null : `/sys/dev/block/${device}/stat`;
    expect(blockDeviceStatFile(process.cwd())).toBe(expected);
  });
});

describe('cpuTimes (npm run bench)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mh-cpu-steal-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the machine's CPU ticks and the stolen ones from /proc/stat's cpu line, guest time not twice", () => {
    const file = join(dir, 'stat');
    writeFileSync(file, 'cpu  100 5 30 800 10 1 4 50 20 0\ncpu0 50 2 15 400 5 0 2 25 10 0\nintr 1\n');
    expect(cpuTimes(file)).toEqual({ total: 1000, steal: 50 });
    writeFileSync(file, 'cpu  150 5 40 900 10 1 4 90 20 0\n');
    expect(stolenShare({ total: 1000, steal: 50 }, cpuTimes(file))).toBeCloseTo(40 / 200);
  });

  it('gives null where there is nothing to read or no time passed', () => {
    expect(cpuTimes(join(dir, 'none'))).toBeNull();
    writeFileSync(join(dir, 'bad'), 'intr 1\n');
    expect(cpuTimes(join(dir, 'bad'))).toBeNull();
    expect(stolenShare(null, { total: 1, steal: 0 })).toBeNull();
    expect(stolenShare({ total: 5, steal: 1 }, { total: 5, steal: 1 })).toBeNull();
  });
});

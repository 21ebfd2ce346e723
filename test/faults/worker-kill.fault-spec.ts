import { afterAll, describe, expect, it } from '@jest/globals';
import { projectEvents } from './support/event-stream.js';
import { FaultBench, report, withLogsOnFailure } from './support/fault-bench.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('A worker killed with SIGKILL mid-processing', () => {
  let bench: FaultBench | undefined;
  afterAll(async () => {
    await bench?.close();
  });

  it('loses nothing and applies nothing twice: a new worker processes every stored event exactly once', async () => {
    bench = await FaultBench.create();
    await withLogsOnFailure(bench, async () => {
      const b = bench!;
      const api = await b.start('api', 'api');
      const stream = b.stream(projectEvents(2000), { ports: [api.port], rate: 600, concurrency: 16 });
      stream.start();

      // A backlog builds while no worker runs; the first worker starts on it as events keep coming.
      while (stream.answered < 1200) await sleep(50);
      const first = await b.start('worker-1', 'worker');
      let progress = await b.progress();
      while (progress.processed === 0) {
        await sleep(10);
        progress = await b.progress();
      }
      first.kill('SIGKILL');
      const killed = await first.exited;
      // What the dead worker held: Bull jobs still active (their locks not yet lapsed), events unprocessed.
      const atKill = await b.queueCounts();
      const afterKill = await b.progress();
      expect(killed.signal).toBe('SIGKILL');
      expect(atKill.active).toBeGreaterThan(0);
      expect(afterKill.processed).toBeLessThan(afterKill.stored);

      await b.start('worker-2', 'worker');
      await stream.finished(60_000);
      await b.drained(stream.events.length, 60_000);
      const recoveredMs = Date.now() - killed.at;

      const counts = await b.expectExactlyOnce(stream);
      expect(counts.statuses).toEqual({});
      expect(counts.errors).toEqual({});
      const appliedBy = await b.appliedBy();
      expect(appliedBy['worker-1']).toBe(afterKill.processed);
      report('worker SIGKILL mid-processing', counts, {
        appliedBy,
        jobsActiveAtKill: atKill.active,
        processedAtKill: afterKill.processed,
        storedAtKill: afterKill.stored,
        drainedMsAfterKill: recoveredMs,
      });
    });
  });
});

import { afterAll, describe, expect, it } from '@jest/globals';
import { projectEvents } from './support/event-stream.js';
import { FaultBench, report, withLogsOnFailure } from './support/fault-bench.js';

describe('Two API processes and two workers on one database and queue', () => {
  let bench: FaultBench | undefined;
  afterAll(async () => {
    await bench?.close();
  });

  it('stores and applies each event once when every event reaches both APIs at the same moment', async () => {
    bench = await FaultBench.create();
    await withLogsOnFailure(bench, async () => {
      const b = bench!;
      const [api1, api2] = await Promise.all([b.start('api-1', 'api'), b.start('api-2', 'api')]);
      await Promise.all([b.start('worker-1', 'worker'), b.start('worker-2', 'worker')]);
      const stream = b.stream(projectEvents(1500), { ports: [api1.port, api2.port], fanOut: true, rate: 400, concurrency: 16 });
      stream.start();
      await stream.finished(60_000);
      await b.drained(stream.events.length, 60_000);

      const counts = await b.expectExactlyOnce(stream);
      expect(counts.statuses).toEqual({});
      expect(counts.errors).toEqual({});
      // Two deliveries of each event, both answered 200; exactly one of them stored it.
      expect(counts.attempts).toBe(2 * counts.sent);
      const firsts = new Map<number, number>();
      for (const attempt of stream.attempts) {
        expect(attempt.status).toBe(200);
        if (attempt.duplicate === false) firsts.set(attempt.event, (firsts.get(attempt.event) ?? 0) + 1);
      }
      expect(firsts.size).toBe(counts.sent);
      expect([...firsts.values()].every((n) => n === 1)).toBe(true);
      const storedBy = [0, 1].map((target) => stream.attempts.filter((a) => a.target === target && a.duplicate === false).length);
      // Both workers took part, so the two really competed for the same events.
      const appliedBy = await b.appliedBy();
      expect(Object.keys(appliedBy).sort()).toEqual(['worker-1', 'worker-2']);
      report('2 APIs + 2 workers, every event to both APIs at once', counts, {
        deliveries: counts.attempts,
        storedViaApi1: storedBy[0],
        storedViaApi2: storedBy[1],
        appliedBy,
      });
    });
  });
});

import { afterAll, describe, expect, it } from '@jest/globals';
import { projectEvents } from './support/event-stream.js';
import { FaultBench, report, withLogsOnFailure } from './support/fault-bench.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('Postgres unreachable under load', () => {
  let bench: FaultBench | undefined;
  afterAll(async () => {
    await bench?.close();
  });

  it('answers 503 (never 200) while it is cut off, and recovers on its own, losing nothing', async () => {
    bench = await FaultBench.create();
    await withLogsOnFailure(bench, async () => {
      const b = bench!;
      const api = await b.start('api', 'api');
      const worker = await b.start('worker', 'worker');
      const stream = b.stream(projectEvents(2000), { ports: [api.port], rate: 600, concurrency: 16 });
      stream.start();

      while (stream.answered < 800) await sleep(50);
      await b.proxy.cut(); // every connection to Postgres dropped, new ones refused
      const cut = Date.now();
      await sleep(3000);
      const restored = Date.now();
      await b.proxy.restore();

      await stream.finished(90_000);
      await b.drained(stream.events.length, 90_000);
      const drainedMs = Date.now() - restored;

      // Sent after the cut and answered before the restore: Postgres could store none of these.
      const duringCut = stream.attempts.filter((a) => a.start >= cut && a.end <= restored);
      const answersDuringCut: Record<string, number> = {};
      for (const a of duringCut) answersDuringCut[a.status ?? a.error!] = (answersDuringCut[a.status ?? a.error!] ?? 0) + 1;
      expect(Object.keys(answersDuringCut)).toEqual(['503']);

      // No restart: the same processes, still running, recovered by themselves.
      expect(api.running && worker.running).toBe(true);
      expect(b.services).toHaveLength(2);
      const afterRestore = stream.attempts.filter((a) => a.start >= restored && a.status === 200).length;
      expect(afterRestore).toBeGreaterThan(0);

      const counts = await b.expectExactlyOnce(stream);
      expect(Object.keys(counts.statuses)).toEqual(['503']);
      expect(counts.errors).toEqual({});
      report('Postgres cut off for 3 s', counts, {
        answersDuringCut,
        answered200AfterRestore: afterRestore,
        drainedMsAfterRestore: drainedMs,
      });
    });
  });
});

import { afterAll, describe, expect, it } from '@jest/globals';
import { projectEvents } from './support/event-stream.js';
import { FaultBench, report, withLogsOnFailure } from './support/fault-bench.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('Redis killed under load and restarted empty', () => {
  let bench: FaultBench | undefined;
  afterAll(async () => {
    await bench?.close();
  });

  it('keeps answering 200 throughout, and processes every stored event exactly once after Redis is back', async () => {
    bench = await FaultBench.create();
    await withLogsOnFailure(bench, async () => {
      const b = bench!;
      const api = await b.start('api', 'api');
      await b.start('worker', 'worker');
      const stream = b.stream(projectEvents(2000), { ports: [api.port], rate: 600, concurrency: 16 });
      stream.start();

      while (stream.answered < 800) await sleep(50);
      await b.redis.stop(); // SIGKILL, no persistence: the queue and everything in it is gone
      const down = Date.now();
      const answeredAtKill = stream.answered;
      while (stream.answered < answeredAtKill + 1200) await sleep(50);
      const pendingAtRestart = await b.progress();
      await b.redis.start(); // empty
      const up = Date.now();

      await stream.finished(60_000);
      await b.drained(stream.events.length, 60_000);
      const drainedMs = Date.now() - up;

      const counts = await b.expectExactlyOnce(stream);
      // Intake never failed: one attempt per event, each answered 2xx, none retried.
      expect(counts.statuses).toEqual({});
      expect(counts.errors).toEqual({});
      expect(counts.attempts).toBe(counts.sent);
      const answeredWhileDown = stream.attempts.filter((a) => a.start >= down && a.end < up && a.status === 200).length;
      expect(answeredWhileDown).toBeGreaterThan(0);
      expect(pendingAtRestart.processed).toBeLessThan(pendingAtRestart.stored);
      report('Redis killed and restarted empty', counts, {
        redisDownMs: up - down,
        answered200WhileDown: answeredWhileDown,
        unprocessedWhenRedisReturned: pendingAtRestart.stored - pendingAtRestart.processed,
        drainedMsAfterRestart: drainedMs,
      });
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, TEST_SECRET } from '../support/app.js';
import { portOpen } from '../support/redis-server.js';
import { projectEvents } from './support/event-stream.js';
import { FaultBench, report, withLogsOnFailure } from './support/fault-bench.js';
import { PartialRequest } from './support/partial-request.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Errors a client may see from a server that has stopped: never an HTTP answer. */
const CONNECTION_ERRORS = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'];

describe('SIGTERM', () => {
  let bench: FaultBench | undefined;
  beforeAll(async () => {
    bench = await FaultBench.create();
  });
  afterAll(async () => {
    await bench?.close();
  });

  it('under load: stops taking connections, answers what is in flight, finishes its jobs and exits 0', async () => {
    await withLogsOnFailure(bench, async () => {
      const b = bench!;
      const port = await freePort();
      const first = await b.start('all-1', 'all', { port, env: { SHUTDOWN_TIMEOUT_MS: '10000' } });
      const stream = b.stream(projectEvents(2000), { ports: [port], rate: 600, concurrency: 16 });
      stream.start();
      while (stream.answered < 1000) await sleep(50);

      // Requests certainly in flight at the signal: head and half the body sent, the rest after it.
      const held = projectEvents(2);
      const partial = await Promise.all(held.map((event) => PartialRequest.open(port, event.body, TEST_SECRET)));
      await sleep(200);
      first.kill('SIGTERM');
      const signalled = Date.now();
      await sleep(300);
      for (const request of partial) request.finish();

      const exit = await first.exited;
      // It finished the queue jobs it had: none is left running in Redis for another worker to take over.
      const queueAtExit = await b.queueCounts();
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(queueAtExit.active).toBe(0);
      const answers = await Promise.all(partial.map((request) => request.answer));
      for (const answer of answers) {
        expect(answer).toMatchObject({ status: 200 });
        expect(answer.head.toLowerCase()).toContain('connection: close');
        expect(JSON.parse(answer.body)).toEqual({ received: true, duplicate: false });
      }
      const inFlightAnswered = stream.attempts.filter((a) => a.start < signalled && a.end >= signalled && a.status === 200).length;

      // The replacement on the same port: the stream's retries get through again.
      await b.start('all-2', 'all', { port });
      await stream.finished(60_000);
      await b.drained(stream.events.length + held.length, 60_000);

      const counts = await b.expectExactlyOnce(
        stream,
        held.map((event) => ({ event, answered2xx: true })),
      );
      // No HTTP error at any time; while no process listened, connections were refused.
      expect(counts.statuses).toEqual({});
      expect(Object.keys(counts.errors).every((error) => CONNECTION_ERRORS.includes(error))).toBe(true);
      expect(counts.errors.ECONNREFUSED).toBeGreaterThan(0);
      report('SIGTERM under load, then a new process', counts, {
        exitCode: exit.code,
        stopMs: exit.at - signalled,
        heldRequestsAnswered200: answers.length,
        streamRequestsInFlightAtSignalAnswered200: inFlightAnswered,
      });
    });
  });

  it('with a request that never completes: refuses new connections, then gives up after SHUTDOWN_TIMEOUT_MS with code 1', async () => {
    await withLogsOnFailure(bench, async () => {
      const b = bench!;
      const service = await b.start('api-stuck', 'api', { env: { SHUTDOWN_TIMEOUT_MS: '2000' } });
      const stuck = await PartialRequest.open(service.port, projectEvents(1)[0].body, TEST_SECRET);
      await sleep(200);
      service.kill('SIGTERM');
      const signalled = Date.now();
      await sleep(500);
      expect(service.running).toBe(true); // still waiting for the request
      expect(await portOpen(service.port)).toBe(false);

      const exit = await service.exited;
      expect(exit).toMatchObject({ code: 1, signal: null });
      expect(exit.at - signalled).toBeGreaterThanOrEqual(2000);
      expect(exit.at - signalled).toBeLessThan(2000 + 8000);
      expect((await stuck.answer).status).toBeUndefined(); // never answered, so never taken as delivered
      report(
        'SIGTERM with a request that never completes',
        {},
        { exitCode: exit.code, stopMs: exit.at - signalled, shutdownTimeoutMs: 2000 },
      );
    });
  });
});

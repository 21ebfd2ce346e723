import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerJobs } from './job-registration.js';
import { checkJobStatuses } from './job-status.check.js';
import { planLifecycles } from './lifecycle.js';
import { seededRandom } from './random.js';

/** A stand-in for the service's REST API: answers each request with `answer`, recording when it came. */
async function service(answer: (req: IncomingMessage, res: ServerResponse, count: number) => void) {
  const calls: Array<{ method: string; url: string; at: number; authorization?: string; body: string }> = [];
  const server: Server = createServer((req, res) => {
    const call = { method: req.method ?? '', url: req.url ?? '', at: Date.now(), authorization: req.headers.authorization, body: '' };
    calls.push(call);
    const count = calls.length;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (call.body += chunk));
    req.on('end', () => answer(req, res, count));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

describe('checkJobStatuses', () => {
  it('waits out a 429 for its Retry-After and counts the jobs that have an event from the API', async () => {
    const api = await service((_req, res, count) =>
      count === 1
        ? json(res, 429, { statusCode: 429 }, { 'retry-after': '1' })
        : json(res, 200, { status: 'canceled', events: [{ source: 'webhook' }, { source: 'api' }] }),
    );
    const result = await checkJobStatuses([{ id: 'cjob1', media: 'video', expected: 'canceled', wait: true }], {
      apiUrl: api.url,
      apiKey: 'k',
      timeoutMs: 10_000,
      concurrency: 1,
      pollMs: 10,
    });
    expect(result).toEqual({ checked: 1, ok: 1, mismatched: [], fromApi: 1 });
    expect(api.calls).toHaveLength(2);
    expect(api.calls[1].at - api.calls[0].at).toBeGreaterThanOrEqual(950);
  });

  it('takes canceled as final: a job canceled where complete was expected is a mismatch at once', async () => {
    const api = await service((_req, res) => json(res, 200, { status: 'canceled', events: [] }));
    const result = await checkJobStatuses([{ id: 'cjob2', media: 'image', expected: 'complete', wait: true }], {
      apiUrl: api.url,
      apiKey: undefined,
      timeoutMs: 10_000,
      concurrency: 1,
    });
    expect(result).toEqual({
      checked: 1,
      ok: 0,
      mismatched: [{ id: 'cjob2', media: 'image', expected: 'complete', actual: 'canceled' }],
      fromApi: 0,
    });
    expect(api.calls).toHaveLength(1);
  });
});

describe('registerJobs', () => {
  const plans = planLifecycles(3, { failureRate: 0, duplicates: 0, outOfOrder: 0, skipStarted: 0 }, seededRandom(1));

  it('POSTs each job as {"id","media"} with the key, retrying a 429 after its Retry-After', async () => {
    const api = await service((_req, res, count) => {
      if (count === 1) return json(res, 429, {}, { 'retry-after': '1' });
      json(res, 201, {});
    });
    const result = await registerJobs(plans, { apiUrl: api.url, apiKey: 'k', concurrency: 1 });
    expect(result).toEqual({ registered: 3, failed: [] });
    expect(api.calls.map((call) => `${call.method} ${call.url} ${call.authorization}`)).toEqual(Array(4).fill('POST /jobs Bearer k'));
    // The others go ahead meanwhile; the refused one comes again once its Retry-After has passed.
    const again = api.calls.slice(1).find((call) => call.body === api.calls[0].body)!;
    expect(again.at - api.calls[0].at).toBeGreaterThanOrEqual(950);
    const registered = api.calls.slice(1).map((call) => JSON.parse(call.body) as { id: string; media: string });
    expect(registered.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      plans.map((plan) => ({ id: plan.project.id, media: plan.project.media })).sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it('reports each job the service refused, and stops at a refused key', async () => {
    const conflicting = await service((_req, res, count) =>
      count === 2 ? json(res, 409, { message: 'tracked as a video job' }) : json(res, 200, {}),
    );
    const result = await registerJobs(plans, { apiUrl: conflicting.url, apiKey: 'k', concurrency: 1 });
    expect(result.registered).toBe(2);
    expect(result.failed).toEqual([
      { id: plans[1].project.id, media: plans[1].project.media, answer: expect.stringMatching(/^HTTP 409 .*tracked as a video job/) },
    ]);

    const refusing = await service((_req, res) => json(res, 401, { message: 'Unauthorized' }));
    await expect(registerJobs(plans, { apiUrl: refusing.url, apiKey: 'wrong', concurrency: 1 })).rejects.toThrow(
      /POST \/jobs answered 401: set the API key/,
    );
  });
});

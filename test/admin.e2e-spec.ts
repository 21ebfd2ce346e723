import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { OnMagicHourEvent, PermanentHandlerError, type MagicHourEvent } from '../src/handlers/index.js';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';
import { launchChromium } from './support/browser.js';
import { startFakeMagicHourApi, type FakeMagicHourApi } from '../src/simulator/fake-magic-hour-api.js';

/** Projects whose `audio.completed` handler fails (a dead letter at once) until removed. */
const broken = new Set<string>();
const calls = new Map<string, number>();

@Injectable()
class NotifyHandler {
  @OnMagicHourEvent('audio.completed')
  notify(event: MagicHourEvent): void {
    calls.set(event.projectId, (calls.get(event.projectId) ?? 0) + 1);
    if (broken.has(event.projectId)) throw new PermanentHandlerError('the notify endpoint answered 410');
  }
}

const HOSTILE_NAME = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`;

describe('Operator console and Bull Board in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  /** Console messages Chromium logged as errors (a CSP violation among them), per page URL. */
  const consoleErrors: Array<{ url: string; text: string }> = [];
  const jobs = { complete: projectId(), rendering: projectId(), errored: projectId(), hostile: projectId(), failing: projectId() };
  const quarantinedBody = eventBody('video.completed', projectId(), { width: 'very wide' });
  let failedEventId: string;
  let quarantinedEventId: string;

  const http = () => request(t.app.getHttpServer());
  const deliver = async (body: string) => {
    const res = await http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);
    expect(res.status).toBe(200);
    return res.body as { quarantined?: boolean };
  };
  const statusOf = async (eventId: string): Promise<string> =>
    (await t.db.query(`SELECT status FROM webhook_events WHERE id = $1`, [eventId]))[0].status;
  const sessionCookie = async () => (await context.cookies()).find((cookie) => cookie.name === 'mh_admin_session');

  beforeAll(async () => {
    browser = await launchChromium();
    // Behind a TLS terminator on this host, as a console usually is.
    t = await startApp({ TRUST_PROXY: 'loopback' }, undefined, { handlers: [NotifyHandler] });
    const address = t.app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;

    broken.add(jobs.failing);
    await deliver(eventBody('video.completed', jobs.complete, { created_at: '2026-11-27T10:00:01.000Z' }));
    await deliver(eventBody('image.started', jobs.rendering, { created_at: '2026-11-27T10:00:02.000Z' }));
    await deliver(eventBody('video.errored', jobs.errored, { created_at: '2026-11-27T10:00:03.000Z' }));
    await deliver(eventBody('video.started', jobs.hostile, { created_at: '2026-11-27T10:00:04.000Z', name: HOSTILE_NAME }));
    await deliver(eventBody('audio.completed', jobs.failing, { created_at: '2026-11-27T10:00:05.000Z', downloads: [] }));
    expect((await deliver(quarantinedBody)).quarantined).toBe(true);

    failedEventId = await eventually(async () => {
      const [row] = await t.db.query(`SELECT id FROM webhook_events WHERE project_id = $1 AND status = 'failed'`, [jobs.failing]);
      return row?.id as string;
    });
    [{ id: quarantinedEventId }] = await t.db.query(`SELECT id FROM webhook_events WHERE status = 'quarantined'`);
    await eventually(async () => Number((await t.db.query(`SELECT count(*) FROM jobs`))[0].count) === 5);

    context = await browser.newContext({ baseURL: base });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push({ url: page.url(), text: message.text() });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('sends a visitor without a session to the login page, and refuses a wrong key', async () => {
    await page.goto('/admin/events?status=failed');
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/admin/events?status=failed');

    await page.fill('input[name="key"]', 'not-the-key');
    const [answer] = await Promise.all([
      page.waitForResponse((res) => res.request().method() === 'POST'),
      page.click('button[type="submit"]'),
    ]);
    expect(answer.status()).toBe(401);
    await expect(page.textContent('.notice-error')).resolves.toContain('That key is not one of the API keys');
    expect(await sessionCookie()).toBeUndefined();
  });

  it('logs in with a right key, back to the page asked for, with a cookie that does not hold the key', async () => {
    await page.fill('input[name="key"]', TEST_API_KEY);
    await Promise.all([page.waitForURL('**/admin/events?status=failed'), page.click('button[type="submit"]')]);
    const cookie = await sessionCookie();
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin', secure: false });
    expect(cookie!.value).not.toContain(TEST_API_KEY);
    expect(cookie!.expires * 1000).toBeGreaterThan(Date.now() + 11 * 3600_000);
  });

  it('keeps the session in Postgres under the id the cookie signs, holding neither the key nor more than an id of it', async () => {
    const cookie = await sessionCookie();
    const sid = decodeURIComponent(cookie!.value)
      .replace(/^s:/, '')
      .replace(/\.[^.]*$/, '');
    const rows = await t.db.query(`SELECT sid, sess::text AS sess, expire FROM admin_sessions`);
    expect(rows).toHaveLength(1);
    expect(rows[0].sid).toBe(sid);
    expect(rows[0].sess).not.toContain(TEST_API_KEY);
    expect(JSON.parse(rows[0].sess)).toMatchObject({
      keyId: expect.any(String),
      expiresAt: expect.any(Number),
      csrfToken: expect.any(String),
    });
    expect(Math.abs(new Date(rows[0].expire).getTime() - cookie!.expires * 1000)).toBeLessThan(2000);
  });

  it('ends a login after its lifetime however much it is used, and sets Secure on the cookie behind https', async () => {
    const login = () => http().post('/admin/login').type('form').send({ key: TEST_API_KEY });
    const plain = await login();
    expect(plain.headers['set-cookie'][0]).not.toMatch(/;\s*Secure/i);
    // Behind the TLS terminator (TRUST_PROXY=loopback).
    const overHttps = await login().set('x-forwarded-proto', 'https');
    expect(overHttps.headers['set-cookie'][0]).toMatch(/;\s*Secure/i);
    expect(overHttps.headers['set-cookie'][0]).toMatch(/;\s*HttpOnly/i);
    expect(overHttps.headers['set-cookie'][0]).toMatch(/;\s*SameSite=Strict/i);

    const cookie = plain.headers['set-cookie'][0].split(';')[0];
    const board = () => http().get('/admin/queues/api/queues').set('cookie', cookie);
    expect((await board()).status).toBe(200);
    // The login's end is in the session itself, so no visit moves it; here it has come.
    const sid = decodeURIComponent(cookie.split('=')[1])
      .replace(/^s:/, '')
      .replace(/\.[^.]*$/, '');
    await t.db.query(`UPDATE admin_sessions SET sess = jsonb_set(sess::jsonb, '{expiresAt}', to_jsonb($2::bigint))::json WHERE sid = $1`, [
      sid,
      Date.now() - 1,
    ]);
    expect((await board()).status).toBe(401);
  });

  it('lists the jobs with their status, media, timings and download links, styled under a strict CSP', async () => {
    const response = await page.goto('/admin');
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    const statusIn = (id: string) => page.textContent(`tr[data-job="${id}"] .status`);
    await expect(statusIn(jobs.complete)).resolves.toBe('complete');
    await expect(statusIn(jobs.rendering)).resolves.toBe('rendering');
    await expect(statusIn(jobs.errored)).resolves.toBe('error');
    await expect(statusIn(jobs.failing)).resolves.toBe('complete');
    expect(await page.locator('#jobs tbody tr').count()).toBe(5);
    // Newest first by creation time.
    const order = await page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job')));
    expect(order).toEqual([jobs.failing, jobs.hostile, jobs.errored, jobs.rendering, jobs.complete]);

    const row = page.locator(`tr[data-job="${jobs.complete}"]`);
    await expect(row.locator('td').nth(1).textContent()).resolves.toContain('TEXT_TO_VIDEO');
    await expect(row.locator('time').first().getAttribute('datetime')).resolves.toBe('2026-11-27T10:00:01.000Z');
    await expect(row.locator('a', { hasText: 'output 1' }).getAttribute('href')).resolves.toBe(
      `https://videos.magichour.ai/id/${jobs.complete}/output`,
    );
    // The stylesheet loaded (a file, allowed by the CSP): the table is laid out by it.
    // (Expressions that run in the page are given as strings: the tests compile without the DOM's types.)
    await expect(page.evaluate(`getComputedStyle(document.querySelector('#jobs')).borderCollapse`)).resolves.toBe('collapse');
  });

  it('shows a job name holding <script> and an onerror image as text, running neither', async () => {
    await expect(page.textContent(`tr[data-job="${jobs.hostile}"]`)).resolves.toContain(HOSTILE_NAME);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('main script, main img').count()).toBe(0);
  });

  it('filters the jobs by status', async () => {
    await page.selectOption('select[name="status"]', 'error');
    await Promise.all([page.waitForURL('**/admin?status=error*'), page.click('form.filters button')]);
    const shown = await page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job')));
    expect(shown).toEqual([jobs.errored]);
  });

  it("opens a job's page with its event timeline", async () => {
    await page.goto('/admin');
    await Promise.all([page.waitForURL(`**/admin/jobs/${jobs.complete}`), page.click(`a[href="/admin/jobs/${jobs.complete}"]`)]);
    await expect(page.textContent('h1')).resolves.toContain(jobs.complete);
    const timeline = await page.locator('#timeline tbody tr').allTextContents();
    expect(timeline).toHaveLength(1);
    expect(timeline[0]).toContain('video.completed');
    expect(timeline[0]).toContain('processed');
  });

  it("shows each event's source and, with reconciliation off, Reconcile now disabled with the reason; a forced form gets 409 on the page", async () => {
    await page.goto(`/admin/jobs/${jobs.rendering}`);
    await expect(page.textContent('#timeline tbody tr .source')).resolves.toBe('webhook');
    const button = page.locator('#reconcile-now');
    expect(await button.isDisabled()).toBe(true);
    await expect(page.textContent('#reconcile-off')).resolves.toContain('Reconciliation is off: set MAGIC_HOUR_API_KEY');
    // The same request a stale page (or a hand-made form) would send, with the session's own token.
    const token = await page.inputValue('header input[name="csrf"]');
    const forced = await context.request.post(`/admin/jobs/${jobs.rendering}/reconcile`, {
      form: { csrf: token },
      headers: { accept: 'text/html' },
    });
    expect(forced.status()).toBe(409);
    const html = await forced.text();
    expect(html).toContain('Not reconciled: Reconciliation is off');
    expect(html).toContain('<span class="status status-rendering">rendering</span>');
  });

  it('lists the failed and the quarantined events, each with a Replay button', async () => {
    await page.click('nav >> text=Failed events');
    await page.waitForURL('**/admin/events?status=failed');
    expect(await page.locator('#events tbody tr').count()).toBe(1);
    const failed = page.locator(`tr[data-event="${failedEventId}"]`);
    await expect(failed.textContent()).resolves.toContain('the notify endpoint answered 410');
    expect(await failed.locator('button[data-replay]').count()).toBe(1);

    await page.click('nav >> text=Quarantined events');
    await page.waitForURL('**/admin/events?status=quarantined');
    const quarantined = page.locator(`tr[data-event="${quarantinedEventId}"]`);
    await expect(quarantined.textContent()).resolves.toContain('width');
    expect(await quarantined.locator('button[data-replay]').count()).toBe(1);
  });

  it('replays a failed event with its button once the cause is fixed: its handler runs again and it is processed', async () => {
    broken.delete(jobs.failing);
    await page.goto('/admin/events?status=failed');
    await Promise.all([
      page.waitForURL(`**/admin/events/${failedEventId}?replayed=handlers`),
      page.click(`button[data-replay="${failedEventId}"]`),
    ]);
    await expect(page.textContent('.notice-ok')).resolves.toContain('failed handlers are queued to run again');
    await eventually(async () => (await statusOf(failedEventId)) === 'processed');
    expect(calls.get(jobs.failing)).toBe(2);
    await page.reload();
    await expect(page.textContent('h1 .status')).resolves.toBe('processed');
    expect(await page.locator('button[data-replay]').count()).toBe(0);
  });

  it('shows why a quarantined event that still does not validate was not replayed, and leaves it quarantined', async () => {
    await page.goto('/admin/events?status=quarantined');
    const [answer] = await Promise.all([
      page.waitForResponse((res) => res.request().method() === 'POST'),
      page.click(`button[data-replay="${quarantinedEventId}"]`),
    ]);
    expect(answer.status()).toBe(422);
    await expect(page.textContent('.notice-error')).resolves.toContain('Not replayed: The event still does not validate');
    expect(await statusOf(quarantinedEventId)).toBe('quarantined');
  });

  it('refuses a replay form without the session CSRF token, or from another site', async () => {
    const replay = `/admin/events/${quarantinedEventId}/replay`;
    // The browser's session cookie rides on each of these; only the token is missing or wrong.
    for (const form of [{ csrf: 'forged' }, {}, { token: 'x' }] as Array<Record<string, string>>) {
      const refused = await context.request.post(replay, { form, headers: { accept: 'application/json' } });
      expect(refused.status()).toBe(403);
      expect(await refused.json()).toEqual({ statusCode: 403, error: 'Forbidden', message: expect.stringContaining('reload the page') });
    }
    const asPage = await context.request.post(replay, { form: {}, headers: { accept: 'text/html' } });
    expect(asPage.status()).toBe(403);
    expect(await asPage.text()).toContain('class="notice notice-error"');
    expect((await context.request.post('/admin/logout', { form: {} })).status()).toBe(403);
    expect(await sessionCookie()).toBeDefined();
    const token = await page.goto(`/admin/events/${quarantinedEventId}`).then(() => page.inputValue('input[name="csrf"] >> nth=0'));
    const crossSite = await context.request.post(replay, { form: { csrf: token }, headers: { origin: 'http://evil.example' } });
    expect(crossSite.status()).toBe(403);
    expect(await statusOf(quarantinedEventId)).toBe('quarantined');
  });

  it('opens Bull Board at /admin/queues with both queues', async () => {
    const response = await page.goto('/admin/queues');
    expect(response!.status()).toBe(200);
    await page.getByText('magic-hour-events').first().waitFor({ timeout: 15_000 });
    await page.getByText('magic-hour-handlers').first().waitFor();
    await expect(page.title()).resolves.toBe('Magic Hour queues');
  });

  it('sends Bull Board the policy it needs, which blocks its Google Fonts link, and is violated nowhere else', async () => {
    // The policy README "Operator console" documents, directive by directive (written out here, not
    // taken from the code, so that a change to either shows).
    const board = await context.request.get('/admin/queues');
    expect(board.status()).toBe(200);
    const directives = Object.fromEntries(
      (board.headers()['content-security-policy'] ?? '')
        .split(';')
        .map((directive) => directive.trim().split(/\s+/))
        .filter(([name]) => name !== '')
        .map(([name, ...sources]) => [name, sources.join(' ')]),
    );
    expect(directives).toEqual({
      'default-src': "'self'",
      'script-src': "'self'",
      'style-src': "'self' 'unsafe-inline'",
      'img-src': "'self' data:",
      'font-src': "'self' data:",
      'connect-src': "'self'",
      'object-src': "'none'",
      'base-uri': "'self'",
      'form-action': "'self'",
      'frame-ancestors': "'none'",
    });

    const violations = consoleErrors.filter((error) => /Content Security Policy/i.test(error.text));
    // Bull Board's page links a Google Fonts stylesheet: the policy must have blocked it.
    expect(violations.some((violation) => violation.text.includes('fonts.googleapis.com') && violation.text.includes('style-src'))).toBe(
      true,
    );
    for (const violation of violations) {
      expect(violation.url).toContain('/admin/queues');
      expect(violation.text).toContain('fonts.googleapis.com');
    }
  });

  it('logs out: the cookie is gone and the console sends to the login again', async () => {
    await page.goto('/admin');
    const copied = await sessionCookie();
    expect((await http().get('/admin/queues/api/queues').set('cookie', `mh_admin_session=${copied!.value}`)).status).toBe(200);
    await Promise.all([page.waitForURL('**/admin/login'), page.click('header >> text=Log out')]);
    expect(await sessionCookie()).toBeUndefined();
    // The session is gone from the store, so a copy of the cookie (kept, or stolen) lets no one in.
    const sid = decodeURIComponent(copied!.value)
      .replace(/^s:/, '')
      .replace(/\.[^.]*$/, '');
    expect(await t.db.query(`SELECT sid FROM admin_sessions WHERE sid = $1`, [sid])).toEqual([]);
    const replayed = `mh_admin_session=${copied!.value}`;
    expect((await http().get('/admin/queues/api/queues').set('cookie', replayed)).status).toBe(401);
    const pageAgain = await http().get('/admin').set('cookie', replayed).set('accept', 'text/html');
    expect(pageAgain.status).toBe(303);
    expect(pageAgain.headers.location).toMatch(/^\/admin\/login/);
    await page.goto('/admin/queues');
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    const api = await context.request.get('/admin/queues/api/queues');
    expect(api.status()).toBe(401);
  });

  it('answers API clients with 401 JSON without a session, and lets a Bearer key in', async () => {
    const none = await http().get('/admin/queues/api/queues').set('accept', 'application/json');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
    const keyed = await http().get('/admin/queues/api/queues').set('authorization', `Bearer ${TEST_API_KEY}`);
    expect(keyed.status).toBe(200);
    expect(keyed.body.queues.map((queue: { name: string }) => queue.name).sort()).toEqual(['magic-hour-events', 'magic-hour-handlers']);
    expect((await http().get('/admin').set('authorization', 'Bearer wrong').set('accept', 'text/html')).status).toBe(303);
    expect((await http().get(`/admin/jobs/${jobs.complete}`).set('authorization', `Bearer ${TEST_API_KEY}`)).text).toContain(
      'video.completed',
    );
  });

  it('refuses a form that is not urlencoded (415) or too large (413), and a bad filter with 400', async () => {
    const bearer = { authorization: `Bearer ${TEST_API_KEY}` };
    const replay = `/admin/events/${quarantinedEventId}/replay`;
    const json = await http().post(replay).set(bearer).set('content-type', 'application/json').send('{}');
    expect(json.status).toBe(415);
    expect(json.body).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: expect.stringContaining('x-www-form-urlencoded'),
    });
    const big = await http()
      .post(replay)
      .set(bearer)
      .type('form')
      .send(`csrf=${'x'.repeat(20_000)}`);
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
    // One byte over the limit (8 KiB): refused unread; at the limit: read, then refused by the form's DTO.
    const justOver = `csrf=${'x'.repeat(8 * 1024 - 4)}`;
    expect((await http().post(replay).set(bearer).type('form').send(justOver)).status).toBe(413);
    expect((await http().post(replay).set(bearer).type('form').send(justOver.slice(1))).status).toBe(400);
    expect((await http().post('/admin/login').type('form').send(justOver)).status).toBe(413);
    const bad = await http().get('/admin?status=bogus').set(bearer);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual(['status must be one of the following values: queued, rendering, complete, error, canceled']);
    expect((await http().get('/admin/events/not-a-uuid').set(bearer).set('accept', 'text/html')).text).toContain('id must be an event id');
  });

  it('answers a script (not asking for HTML) with JSON errors: a wrong login key, a refused replay', async () => {
    const login = await http().post('/admin/login').set('accept', 'application/json').type('form').send({ key: 'wrong' });
    expect(login.status).toBe(401);
    expect(login.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringContaining('not one of the API keys') });
    const [{ id }] = await t.db.query(`SELECT id FROM webhook_events WHERE project_id = $1 AND status = 'processed'`, [jobs.complete]);
    const replay = await http()
      .post(`/admin/events/${id}/replay`)
      .set('authorization', `Bearer ${TEST_API_KEY}`)
      .type('form')
      .send({ csrf: 'x' });
    expect(replay.status).toBe(409);
    expect(replay.body).toEqual({ statusCode: 409, error: 'Conflict', message: expect.stringContaining('nothing to replay') });
  });

  it('replays with a Bearer key without asking for the CSRF field: an empty form or no body', async () => {
    const [{ id }] = await t.db.query(`SELECT id FROM webhook_events WHERE project_id = $1 AND status = 'processed'`, [jobs.complete]);
    const replay = () =>
      http().post(`/admin/events/${id}/replay`).set('authorization', `Bearer ${TEST_API_KEY}`).set('accept', 'application/json');
    // 409 "nothing to replay" is the replay's own answer: the request got through to it.
    for (const sent of [replay().type('form').send(''), replay()]) {
      const answer = await sent;
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 409,
        body: { statusCode: 409, error: 'Conflict', message: expect.stringContaining('nothing to replay') },
      });
    }
  });

  it('filters events by a job id pasted with spaces around it, and refuses one with a NUL', async () => {
    const bearer = { authorization: `Bearer ${TEST_API_KEY}` };
    const found = await http().get(`/admin/events?jobId=%20${jobs.complete}%20&type=`).set(bearer);
    expect(found.status).toBe(200);
    expect(found.text).toContain(`value="${jobs.complete}"`);
    expect(found.text.match(/<tr data-event=/g)).toHaveLength(1);
    expect((await http().get(`/admin/events?jobId=${jobs.complete}%00`).set(bearer)).status).toBe(400);
  });

  it.each([
    [
      'a stale body that is not a valid event',
      (id: string) => eventBody('video.completed', id, { width: 'very wide' }),
      'quarantined',
      'now quarantined',
    ],
    ['a stale valid event', (id: string) => eventBody('video.started', id), 'processing', 'queued to be processed'],
    [
      'a stale event of a type this service does not process',
      (id: string) => eventBody('video.completed', id).replace('"type":"video.completed"', '"type":"video.canceled"'),
      'ignored',
      'stored as ignored',
    ],
  ] as const)('replays %s from the console and shows what became of it', async (_, makeBody, outcome, says) => {
    const bearer = { authorization: `Bearer ${TEST_API_KEY}` };
    const job = projectId();
    const body = makeBody(job);
    // Signed with the right secret an hour ago: refused 401, and recorded as stale.
    const delivered = await http()
      .post('/webhook')
      .set(signedHeaders(body, TEST_SECRET, Math.floor(Date.now() / 1000) - 3600))
      .send(body);
    expect(delivered.status).toBe(401);
    // (A quarantined body is stored whole, a valid one as its payload.)
    const [{ id }] = await t.db.query(
      `SELECT id FROM webhook_events WHERE status = 'stale' AND coalesce(project_id, payload -> 'payload' ->> 'id') = $1`,
      [job],
    );

    const replayed = await http().post(`/admin/events/${id}/replay`).set(bearer).type('form').send({ csrf: 'unused-with-a-bearer-key' });
    expect(replayed.status).toBe(303);
    expect(replayed.headers.location).toBe(`/admin/events/${id}?replayed=${outcome}`);
    const shown = await http().get(replayed.headers.location).set(bearer).set('accept', 'text/html');
    expect(shown.status).toBe(200);
    expect(shown.text).toMatch(new RegExp(`class="notice notice-ok"[^>]*>[^<]*${says}`));
    // A stale event never "now validates": that is for a quarantined one that was fixed.
    expect(shown.text).not.toContain('now validates');
    expect(shown.text).toMatch(
      outcome === 'processing' ? /<h1>.*class="status status-(received|processed)"/ : new RegExp(`<h1>.*class="status status-${outcome}"`),
    );
  });
});

describe('Operator console with no API key configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    // NotifyHandler is declared in this file, so every app started here must list it.
    t = await startApp({ API_KEYS: '' }, undefined, { handlers: [NotifyHandler] });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is open, like the REST API, and says so on the page', async () => {
    const res = await request(t.app.getHttpServer()).get('/admin').set('accept', 'text/html');
    expect(res.status).toBe(200);
    expect(res.text).toContain('API_KEYS is not set');
    expect(res.text).not.toContain('Log out');
    expect((await request(t.app.getHttpServer()).get('/admin/login')).status).toBe(303);
  });

  it('still wants the CSRF token in a form', async () => {
    const res = await request(t.app.getHttpServer())
      .post('/admin/events/0b5f8a3e-7c1d-4e2f-9a6b-3c4d5e6f7a8b/replay')
      .type('form')
      .send('csrf=guess');
    expect(res.status).toBe(403);
    // Nor does a request with no body at all get through without it.
    expect((await request(t.app.getHttpServer()).post('/admin/events/0b5f8a3e-7c1d-4e2f-9a6b-3c4d5e6f7a8b/replay')).status).toBe(403);
  });
});

describe('Reconcile now in headless Chromium, with reconciliation on against a fake of Magic Hour', () => {
  let t: TestApp;
  let api: FakeMagicHourApi;
  let browser: Browser;
  let page: Page;
  const job = projectId();
  const finished = projectId();

  beforeAll(async () => {
    api = await startFakeMagicHourApi({ token: 'mhk_console' });
    browser = await launchChromium();
    // Checked on a schedule only after an hour without news: here only the button asks.
    t = await startApp(
      { MAGIC_HOUR_API_KEY: 'mhk_console', MAGIC_HOUR_API_URL: api.url, RECONCILE_AFTER_SECONDS: '3600', RECONCILE_INTERVAL_MS: '200' },
      undefined,
      { handlers: [NotifyHandler] },
    );
    const http = request(t.app.getHttpServer());
    for (const body of [eventBody('video.started', job), eventBody('video.completed', finished)]) {
      expect((await http.post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
    }
    await eventually(async () => Number((await t.db.query(`SELECT count(*) FROM jobs`))[0].count) === 2);
    api.setStatus('video', job, 'canceled');

    const address = t.app.getHttpServer().address() as { port: number };
    page = await (await browser.newContext({ baseURL: `http://127.0.0.1:${address.port}` })).newPage();
    await page.goto('/admin/login');
    await page.fill('input[name="key"]', TEST_API_KEY);
    await Promise.all([page.waitForURL('**/admin'), page.click('button[type="submit"]')]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await api?.close();
  });

  it("asks Magic Hour's API about the job: it turns canceled, with the event's source shown as the API", async () => {
    await page.goto(`/admin/jobs/${job}`);
    await expect(page.textContent('h1 .status')).resolves.toBe('rendering');
    expect(await page.locator('#reconcile-now').isDisabled()).toBe(false);
    expect(api.requestsFor(job)).toEqual([]);

    await Promise.all([page.waitForURL(`**/admin/jobs/${job}?reconcile=requested`), page.click('#reconcile-now')]);
    await expect(page.textContent('.notice-ok')).resolves.toContain("a worker checks the job with Magic Hour's API");
    await eventually(async () => {
      await page.reload();
      return (await page.textContent('h1 .status')) === 'canceled';
    });
    const rows = await page.locator('#timeline tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain('video.canceled');
    await expect(page.textContent('#timeline tbody tr:nth-child(2) .source')).resolves.toBe("Magic Hour's API");
    await expect(page.textContent('#reconciliation')).resolves.toContain('applied');
    // Finished now: nothing more to ask, and the button says so.
    expect(await page.locator('#reconcile-now').isDisabled()).toBe(true);
    await expect(page.textContent('#reconcile-off')).resolves.toContain('The job is canceled');
    expect(api.requestsFor(job).map((call) => call.authorization)).toEqual(['Bearer mhk_console']);
  });

  it('shows a pause the workers recorded (the API refused the key) on a job page, and not once it is lifted', async () => {
    await t.db.query(
      `INSERT INTO reconcile_pause (http_status, reason, paused_at, probe_at)
       VALUES (401, 'Magic Hour''s API answered 401 Unauthorized', '2026-11-27T11:00:00Z', now() + interval '1 hour')`,
    );
    try {
      await page.goto(`/admin/jobs/${job}`);
      await expect(page.textContent('.notice-warning')).resolves.toBe(
        "Reconciliation is paused since 2026-11-27 11:00:00 UTC: Magic Hour's API answered 401 Unauthorized. " +
          'A worker tries the API again now and then and resumes once it answers; until then no job is checked.',
      );
    } finally {
      await t.db.query(`DELETE FROM reconcile_pause`);
    }
    await page.reload();
    expect(await page.locator('.notice-warning').count()).toBe(0);
  });

  it('refuses the button for a finished job (409 on its page) and without the CSRF token (403), asking the API nothing', async () => {
    const before = api.requests.length;
    const token = await page.goto(`/admin/jobs/${finished}`).then(() => page.inputValue('header input[name="csrf"]'));
    const finishedJob = await page.context().request.post(`/admin/jobs/${finished}/reconcile`, {
      form: { csrf: token },
      headers: { accept: 'text/html' },
    });
    expect(finishedJob.status()).toBe(409);
    expect(await finishedJob.text()).toContain(`Not reconciled: Job ${finished} is complete`);
    const forged = await page.context().request.post(`/admin/jobs/${job}/reconcile`, { form: { csrf: 'forged' } });
    expect(forged.status()).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(api.requests.length).toBe(before);
  });
});

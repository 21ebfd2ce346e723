import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventResponse } from '../events/dto/event.response.js';
import type { JobResponse } from '../jobs/dto/job.response.js';
import type { EventStatus } from '../magic-hour/magic-hour-event.types.js';
import {
  type ConsoleSettings,
  duration,
  errorView,
  eventsView,
  eventView,
  externalUrl,
  jobsView,
  jobView,
  loginView,
  pathWithQuery,
  shownText,
} from './admin-pages.presenter.js';
import type { AdminSession } from './admin-session.service.js';
import { ADMIN_VIEWS_DIR, useAdminViews } from './admin-views.js';

const SCRIPT = '<script>alert("x")</script>';
const session: AdminSession = { access: 'cookie', csrfToken: () => 'csrf-token-1', expiresAt: new Date() };
const hostileJob: JobResponse = {
  id: `cjob${SCRIPT}`,
  media: 'video',
  projectType: `TEXT_TO_VIDEO${SCRIPT}`,
  name: `My "film" ${SCRIPT}`,
  status: 'error',
  downloads: [
    { url: 'javascript:alert(1)', expiresAt: '2026-11-28T10:00:00.000Z' },
    { url: `https://videos.magichour.ai/out.mp4?a="><script>x</script>`, expiresAt: '2026-11-28T10:00:00.000Z' },
  ],
  error: { code: SCRIPT, message: `<img src=x onerror=alert(1)>` },
  creditsCharged: 12,
  details: { width: 1280, [`w${SCRIPT}`]: SCRIPT },
  createdAt: '2026-11-27T10:00:00.000Z',
  startedAt: '2026-11-27T10:00:01.000Z',
  completedAt: null,
  erroredAt: '2026-11-27T10:03:05.000Z',
  updatedAt: '2026-11-27T10:03:05.100Z',
  reconciliation: { lastCheckedAt: null, nextCheckAt: null, lastOutcome: SCRIPT, notFoundAt: null },
  events: [
    {
      type: `video.errored${SCRIPT}`,
      status: 'processed',
      receivedAt: '2026-11-27T10:03:05.000Z',
      processedAt: '2026-11-27T10:03:05.040Z',
      source: 'api',
    },
  ],
  files: [{ url: 'https://x/y', path: `/data/${SCRIPT}`, bytes: 11, sha256: 'ab', storedAt: '2026-11-27T10:03:06.000Z' }],
};

const hostileEvent = (status: EventStatus): EventResponse => ({
  id: '0b5f8a3e-7c1d-4e2f-9a6b-3c4d5e6f7a8b',
  eventKey: `video.completed:${SCRIPT}`,
  type: `video.completed${SCRIPT}`,
  media: 'video',
  jobId: `cjob${SCRIPT}`,
  status,
  attempts: 3,
  lastError: `TroubleHandler: ${SCRIPT}`,
  receivedAt: '2026-11-27T10:03:05.000Z',
  processedAt: null,
  source: 'webhook',
  staleSignedAt: null,
  conflictCount: 0,
  payload: { name: SCRIPT, '<b>key</b>': '</pre><script>x</script>' },
  handlerRuns: [
    { handler: `H.${SCRIPT}`, status: 'dead', attempts: 3, lastError: SCRIPT, durationMs: 12, updatedAt: '2026-11-27T10:03:06.000Z' },
  ],
});

/** Reconciliation on, as with `MAGIC_HOUR_API_KEY` set; and off. */
const ON: ConsoleSettings = { reconcileOn: true };
const OFF: ConsoleSettings = { reconcileOn: false };

/** Every `<script` in a page: the console writes none, so any is injected. */
const scripts = (page: string) => page.match(/<script/gi) ?? [];

let app: NestExpressApplication;
/** Renders a page as the app does: `views/<view>.hbs` in the layout, set up by `useAdminViews`. */
const render = (view: string, model: object) =>
  new Promise<string>((resolve, reject) =>
    app
      .getHttpAdapter()
      .getInstance()
      .render(view, model, (error: Error | null, html: string) => (error ? reject(error) : resolve(html))),
  );
const jobsPage = (...args: Parameters<typeof jobsView>) => render('jobs', jobsView(...args));
const jobPage = (...args: Parameters<typeof jobView>) => render('job', jobView(...args));
const eventsPage = (...args: Parameters<typeof eventsView>) => render('events', eventsView(...args));
const eventPage = (...args: Parameters<typeof eventView>) => render('event', eventView(...args));

beforeAll(async () => {
  app = (await Test.createTestingModule({}).compile()).createNestApplication<NestExpressApplication>({ logger: false });
  useAdminViews(app);
});
afterAll(async () => {
  await app?.close();
});

describe('console pages', () => {
  it('renders a job whose fields hold <script> as text, escaped, on the list and on its own page', async () => {
    const list = await jobsPage(session, { items: [hostileJob], nextCursor: null }, {});
    const one = await jobPage(session, hostileJob, ON);
    for (const page of [list, one]) {
      expect(scripts(page)).toEqual([]);
      expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    }
    expect(one).toContain('My &quot;film&quot; &lt;script&gt;');
    expect(one).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(one).not.toContain('<img');
    // The job id goes into the link's path encoded, and into its text escaped.
    expect(list).toContain(`href="/admin/jobs/${encodeURIComponent(hostileJob.id)}"`);
  });

  it('shows a long name, type or error cut, saying its length, while the API keeps it whole', async () => {
    const name = `N${'a'.repeat(50_000)}`;
    const job: JobResponse = { ...hostileJob, name, projectType: 'T'.repeat(3000), error: { code: 'E', message: 'm'.repeat(9000) } };
    const list = await jobsPage(session, { items: [job], nextCursor: null }, {});
    const one = await jobPage(session, job, ON);
    expect(list).toContain(`N${'a'.repeat(119)}… (50001 characters)`);
    expect(list).not.toContain('a'.repeat(120));
    expect(one).toContain(`N${'a'.repeat(1999)}… (50001 characters)`);
    expect(one).toContain(`${'T'.repeat(2000)}… (3000 characters)`);
    expect(one).toContain(`E: ${'m'.repeat(1997)}… (9003 characters)`);
    expect(one.length).toBeLessThan(20_000);
    expect(job.name).toHaveLength(50_001);
  });

  it('cuts text for display without splitting a surrogate pair, and leaves short text and null alone', () => {
    expect(shownText(`ab${'😀'.repeat(3)}`, 3)).toBe('ab… (8 characters)');
    expect(shownText('short', 5)).toBe('short');
    expect(shownText(null, 5)).toBeNull();
  });

  it('never links a download URL that is not http(s), and escapes one that is', async () => {
    const page = await jobPage(session, hostileJob, ON);
    expect(page).not.toMatch(/href="javascript:/i);
    expect(page).toContain('<span class="mono">javascript:alert(1)</span>'); // shown as text
    expect(page).toContain('href="https://videos.magichour.ai/out.mp4?a&#x3D;%22%3E%3Cscript%3Ex%3C/script%3E"');
  });

  it("shows each event's source on a job's timeline, and where the job stands with reconciliation, escaped", async () => {
    const job: JobResponse = {
      ...hostileJob,
      status: 'canceled',
      reconciliation: {
        lastCheckedAt: '2026-11-27T10:20:00.000Z',
        nextCheckAt: '2026-11-27T10:50:00.000Z',
        lastOutcome: `applied${SCRIPT}`,
        notFoundAt: null,
      },
      events: [
        { type: 'video.started', status: 'processed', receivedAt: '2026-11-27T10:00:01.000Z', processedAt: null, source: 'webhook' },
        { type: 'video.canceled', status: 'processed', receivedAt: '2026-11-27T10:20:00.000Z', processedAt: null, source: 'api' },
      ],
    };
    const page = await jobPage(session, job, ON);
    expect(scripts(page)).toEqual([]);
    expect(page).toContain('<span class="status status-canceled">canceled</span>');
    const rows = page.slice(page.indexOf('id="timeline"')).split('<tr>').slice(2);
    expect(rows[0]).toContain('<td class="source source-webhook">webhook</td>');
    expect(rows[1]).toContain('<td class="mono">video.canceled</td>');
    expect(rows[1]).toContain('<td class="source source-api">Magic Hour&#x27;s API</td>');
    const state = page.slice(page.indexOf('id="reconciliation"'), page.indexOf('</dl>', page.indexOf('id="reconciliation"')));
    expect(state).toContain('<dt>Last checked</dt><dd><time datetime="2026-11-27T10:20:00.000Z">2026-11-27 10:20:00 UTC</time>');
    expect(state).toContain('<dt>Next check</dt><dd><time datetime="2026-11-27T10:50:00.000Z">');
    expect(state).toContain('applied&lt;script&gt;');
    expect(state).not.toContain('Not found');

    const notFound = await jobPage(
      session,
      { ...job, reconciliation: { ...job.reconciliation, notFoundAt: '2026-11-27T10:21:00.000Z' } },
      ON,
    );
    expect(notFound).toContain('<dt>Not found</dt><dd class="error"><time datetime="2026-11-27T10:21:00.000Z">');
    const fresh = await jobPage(
      session,
      { ...job, reconciliation: { lastCheckedAt: null, nextCheckAt: null, lastOutcome: null, notFoundAt: null } },
      ON,
    );
    expect(fresh).toMatch(/<dt>Last checked<\/dt><dd><span class="empty-value">–<\/span><\/dd>/);
  });

  it('offers Reconcile now, with the CSRF token, for an unfinished job while reconciliation is on; else says why not', async () => {
    const action = `action="/admin/jobs/${encodeURIComponent(hostileJob.id)}/reconcile"`;
    for (const status of ['queued', 'rendering'] as const) {
      const page = await jobPage(session, { ...hostileJob, status }, ON);
      expect(page).toContain(action);
      expect(page).toContain('<input type="hidden" name="csrf" value="csrf-token-1">');
      expect(page).toMatch(/<button type="submit" id="reconcile-now">Reconcile now<\/button>/);
    }
    const off = await jobPage(session, { ...hostileJob, status: 'rendering' }, OFF);
    expect(off).not.toContain(action);
    expect(off).toMatch(/<button type="button" id="reconcile-now" disabled aria-describedby="reconcile-off">/);
    expect(off).toContain('Reconciliation is off: set MAGIC_HOUR_API_KEY');
    for (const status of ['complete', 'error', 'canceled'] as const) {
      const page = await jobPage(session, { ...hostileJob, status }, ON);
      expect(page).not.toContain(action);
      expect(page).toContain(`The job is ${status}: its status will not change`);
    }
  });

  it('says on a job page that reconciliation is paused, since when and why, escaped', async () => {
    const pause = { httpStatus: 401, reason: `Magic Hour's API answered 401 ${SCRIPT}`, pausedAt: new Date('2026-11-27T11:00:00.000Z') };
    const page = await jobPage(session, { ...hostileJob, status: 'rendering' }, { reconcileOn: true, pause });
    expect(scripts(page)).toEqual([]);
    expect(page).toContain('<p class="notice notice-warning" role="status">Reconciliation is paused since 2026-11-27 11:00:00 UTC');
    expect(page).toContain('answered 401 &lt;script&gt;');
    expect(await jobPage(session, hostileJob, { reconcileOn: true, pause: null })).not.toContain('Reconciliation is paused');
  });

  it('renders an event page with a hostile payload and errors escaped', async () => {
    const page = await eventPage(session, hostileEvent('failed'));
    expect(scripts(page)).toEqual([]);
    expect(page).toContain('&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;');
    expect(page).toContain('&quot;&lt;b&gt;key&lt;/b&gt;&quot;');
    expect(page).toContain('<td class="mono">H.&lt;script&gt;');
    expect(page).toContain('<dt>Source</dt><dd class="source source-webhook">webhook</dd>');
    expect(await eventPage(session, { ...hostileEvent('processed'), source: 'api' })).toContain(
      '<dt>Source</dt><dd class="source source-api">Magic Hour&#x27;s API</dd>',
    );
  });

  it('shows a Replay button with the CSRF token for failed, quarantined and stale events only', async () => {
    for (const status of ['failed', 'quarantined', 'stale'] as const) {
      for (const page of [
        await eventsPage(session, { items: [hostileEvent(status)], nextCursor: null }, { status }),
        await eventPage(session, hostileEvent(status)),
      ]) {
        expect(page).toContain('action="/admin/events/0b5f8a3e-7c1d-4e2f-9a6b-3c4d5e6f7a8b/replay"');
        expect(page).toContain('name="csrf" value="csrf-token-1"');
        expect(scripts(page)).toEqual([]);
      }
    }
    for (const status of ['processed', 'received', 'ignored'] as const) {
      expect(await eventsPage(session, { items: [hostileEvent(status)], nextCursor: null }, {})).not.toContain('/replay"');
      expect(await eventPage(session, hostileEvent(status))).not.toContain('/replay"');
    }
  });

  it('offers Log out, with the CSRF token, to a cookie session only', async () => {
    const logout = 'action="/admin/logout"';
    expect(await jobsPage(session, { items: [], nextCursor: null }, {})).toContain(logout);
    const bearer: AdminSession = { access: 'bearer', csrfToken: () => '', expiresAt: null };
    expect(await jobsPage(bearer, { items: [], nextCursor: null }, {})).not.toContain(logout);
    expect(await render('login', loginView('/admin'))).not.toContain(logout);
  });

  it('shows when a stale event was signed, and its conflicting redeliveries with their counts and times, escaped', async () => {
    const event: EventResponse = {
      ...hostileEvent('stale'),
      staleSignedAt: '2026-11-27T09:03:05.000Z',
      conflictCount: 1,
      conflicts: [
        {
          payload: { id: 'cjob1', name: `other ${SCRIPT}` },
          deliveries: 7,
          firstReceivedAt: '2026-11-27T10:04:00.000Z',
          lastReceivedAt: '2026-11-27T10:09:30.000Z',
        },
      ],
    };
    const page = await eventPage(session, event);
    expect(scripts(page)).toEqual([]);
    expect(page).toMatch(/<dt>Signed<\/dt><dd><time datetime="2026-11-27T09:03:05.000Z">2026-11-27 09:03:05 UTC<\/time>/);
    expect(page).toContain('outside the timestamp tolerance');
    const conflicts = page.slice(page.indexOf('id="conflicts"'));
    expect(conflicts).toContain('<td>7</td>');
    expect(conflicts).toContain('<time datetime="2026-11-27T10:04:00.000Z">');
    expect(conflicts).toContain('<time datetime="2026-11-27T10:09:30.000Z">');
    expect(conflicts).toContain('&quot;name&quot;: &quot;other &lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;&quot;');

    // Neither appears for an event that has none.
    const plain = await eventPage(session, hostileEvent('processed'));
    expect(plain).not.toContain('<dt>Signed</dt>');
    expect(plain).not.toContain('id="conflicts"');
  });

  it('shows on the events list how many conflicting bodies an event has', async () => {
    const page = await eventsPage(
      session,
      { items: [{ ...hostileEvent('processed'), conflictCount: 3 }, hostileEvent('failed')], nextCursor: null },
      {},
    );
    expect(page.match(/3 conflicting bodies/g)).toHaveLength(1);
    expect(page).toContain('href="/admin/events/0b5f8a3e-7c1d-4e2f-9a6b-3c4d5e6f7a8b#conflicts"');
  });

  it("links an event to its job's page only when the event was applied to the job", async () => {
    const jobHref = `href="/admin/jobs/${encodeURIComponent(hostileEvent('failed').jobId!)}"`;
    const applied = { processedAt: '2026-11-27T10:03:05.040Z' };
    for (const event of [
      { ...hostileEvent('processed'), ...applied },
      { ...hostileEvent('failed'), ...applied },
    ]) {
      expect(await eventPage(session, event)).toContain(jobHref);
      expect(await eventsPage(session, { items: [event], nextCursor: null }, {})).toContain(jobHref);
    }
    for (const status of ['stale', 'quarantined', 'received', 'ignored', 'failed'] as const) {
      // (A failed event that was never applied: its job may not exist.)
      const page = await eventPage(session, hostileEvent(status));
      expect(page).not.toContain(jobHref);
      expect(page).toContain(`<span class="mono">cjob&lt;script&gt;`);
    }
    expect(await eventPage(session, { ...hostileEvent('quarantined'), jobId: null })).toContain('<dt>Job</dt><dd>–</dd>');
  });

  it('keeps filters in the next page link, and shows the chosen ones', async () => {
    const page = await jobsPage(session, { items: [hostileJob], nextCursor: 'abc' }, { status: 'error', media: 'video' });
    expect(page).toContain('href="/admin?status&#x3D;error&amp;media&#x3D;video&amp;cursor&#x3D;abc"');
    expect(page).toMatch(/<option value="error" selected>error<\/option>/);
    expect(page).toMatch(/<option value="video" selected>video<\/option>/);
    expect(page).toContain('<option value="">any</option>');
    const events = await eventsPage(session, { items: [], nextCursor: null }, { type: `"${SCRIPT}`, jobId: 'a"b' });
    expect(events).toContain('value="&quot;&lt;script&gt;');
    expect(events).toContain('value="a&quot;b"');
    expect(events).toContain('No events match these filters.');
  });

  it('escapes what the login and error pages echo', async () => {
    const login = await render('login', loginView(`/admin?x="><script>`, SCRIPT));
    expect(scripts(login)).toEqual([]);
    expect(login).toContain('name="next" value="/admin?x&#x3D;&quot;&gt;&lt;script&gt;"');
    const error = await render('error', errorView(session, { statusCode: 400, error: 'Bad Request', message: [SCRIPT, 'second'] }));
    expect(scripts(error)).toEqual([]);
    expect(error.match(/class="notice notice-error"/g)).toHaveLength(2);
    expect(error).toContain('<title>400 Bad Request · Magic Hour webhooks</title>');
  });

  it('warns on every page when the console is open', async () => {
    const open: AdminSession = { access: 'open', csrfToken: () => 't', expiresAt: null };
    expect(await jobsPage(open, { items: [], nextCursor: null }, {})).toContain('API_KEYS is not set');
    expect(await jobsPage(session, { items: [], nextCursor: null }, {})).not.toContain('API_KEYS is not set');
  });

  it('writes durations readably', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(4200)).toBe('4.2 s');
    expect(duration(185_000)).toBe('3 min 5 s');
    expect(duration(2 * 3600_000 + 10 * 60_000)).toBe('2 h 10 min');
  });

  it('links only http and https URLs', () => {
    expect(externalUrl('https://videos.magichour.ai/a b/out.mp4')).toBe('https://videos.magichour.ai/a%20b/out.mp4');
    expect(externalUrl('http://example.com/x')).toBe('http://example.com/x');
    for (const url of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,<script>', 'vbscript:x', '/relative', '', 42, null]) {
      expect(externalUrl(url)).toBeNull();
    }
  });

  it('builds console paths, leaving out empty values and encoding the rest', () => {
    expect(pathWithQuery('/admin', { status: 'complete', media: undefined, cursor: '' })).toBe('/admin?status=complete');
    expect(pathWithQuery('/admin/events', { jobId: 'a&b=c' })).toBe('/admin/events?jobId=a%26b%3Dc');
    expect(pathWithQuery('/admin', {})).toBe('/admin');
  });
});

describe('console templates', () => {
  const templates = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? templates(join(folder, entry.name)) : entry.name.endsWith('.hbs') ? [join(folder, entry.name)] : [],
    );

  it("write every value escaped: no triple-stash and no unescaped block but the layout's rendered page", () => {
    const found = templates(ADMIN_VIEWS_DIR);
    expect(found.length).toBeGreaterThanOrEqual(8);
    for (const file of found) {
      const raw = readFileSync(file, 'utf8').match(/\{\{\{[^}]*\}\}\}|\{\{&[^}]*\}\}/g) ?? [];
      expect({ file, raw }).toEqual({ file, raw: file.endsWith(`${join('views', 'layout.hbs')}`) ? ['{{{body}}}'] : [] });
    }
  });

  it('escape what a value holds, in text and in attributes, as Handlebars does by default', async () => {
    const hostile = `"'><script>alert(1)</script>\`=`;
    const page = await render('error', errorView(null, { statusCode: 400, error: hostile, message: hostile }));
    expect(scripts(page)).toEqual([]);
    expect(page).toContain('&quot;&#x27;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#x60;&#x3D;');
  });
});

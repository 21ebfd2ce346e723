import { describe, expect, it } from '@jest/globals';
import type { EventResponse } from '../events/dto/event.response.js';
import type { JobResponse } from '../jobs/dto/job.response.js';
import type { EventStatus } from '../webhook/magic-hour-event.types.js';
import { duration, errorPage, eventPage, eventsPage, jobPage, jobsPage, loginPage } from './admin-pages.js';
import type { AdminSession } from './admin-session.service.js';

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
  details: { width: 1280, [`w${SCRIPT}`]: SCRIPT } as unknown as JobResponse['details'],
  createdAt: '2026-11-27T10:00:00.000Z',
  startedAt: '2026-11-27T10:00:01.000Z',
  completedAt: null,
  erroredAt: '2026-11-27T10:03:05.000Z',
  updatedAt: '2026-11-27T10:03:05.100Z',
  events: [{ type: `video.errored${SCRIPT}`, status: 'processed', receivedAt: '2026-11-27T10:03:05.000Z', processedAt: '2026-11-27T10:03:05.040Z' }],
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
  staleSignedAt: null,
  conflictCount: 0,
  payload: { name: SCRIPT, '<b>key</b>': '</pre><script>x</script>' },
  handlerRuns: [{ handler: `H.${SCRIPT}`, status: 'dead', attempts: 3, lastError: SCRIPT, durationMs: 12, updatedAt: '2026-11-27T10:03:06.000Z' }],
});

/** Every `<script` in a page: the console writes none, so any is injected. */
const scripts = (page: string) => page.match(/<script/gi) ?? [];

describe('console pages', () => {
  it('renders a job whose fields hold <script> as text, escaped, on the list and on its own page', () => {
    const list = jobsPage(session, { items: [hostileJob], nextCursor: null }, {});
    const one = jobPage(session, hostileJob);
    for (const page of [list, one]) {
      expect(scripts(page)).toEqual([]);
      expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    }
    expect(one).toContain('My &quot;film&quot; &lt;script&gt;');
    expect(one).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(one).not.toContain('<img');
    // The job id goes into the link's path encoded, and into its text escaped.
    expect(list).toContain(`href="/admin/jobs/${encodeURIComponent(hostileJob.id)}"`);
  });

  it('never links a download URL that is not http(s), and escapes one that is', () => {
    const page = jobPage(session, hostileJob);
    expect(page).not.toMatch(/href="javascript:/i);
    expect(page).toContain('javascript:alert(1)'); // shown as text
    expect(page).toContain('href="https://videos.magichour.ai/out.mp4?a=%22%3E%3Cscript%3Ex%3C/script%3E"');
  });

  it('renders an event page with a hostile payload and errors escaped', () => {
    const page = eventPage(session, hostileEvent('failed'));
    expect(scripts(page)).toEqual([]);
    expect(page).toContain('&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;');
    expect(page).toContain('&quot;&lt;b&gt;key&lt;/b&gt;&quot;');
  });

  it('shows a Replay button with the CSRF token for failed, quarantined and stale events only', () => {
    for (const status of ['failed', 'quarantined', 'stale'] as const) {
      const page = eventsPage(session, { items: [hostileEvent(status)], nextCursor: null }, { status });
      expect(page).toContain('action="/admin/events/0b5f8a3e-7c1d-4e2f-9a6b-3c4d5e6f7a8b/replay"');
      expect(page).toContain('name="csrf" value="csrf-token-1"');
      expect(scripts(page)).toEqual([]);
    }
    for (const status of ['processed', 'received', 'ignored'] as const) {
      expect(eventsPage(session, { items: [hostileEvent(status)], nextCursor: null }, {})).not.toContain('/replay"');
    }
  });

  it('shows when a stale event was signed, and its conflicting redeliveries with their counts and times, escaped', () => {
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
    const page = eventPage(session, event);
    expect(scripts(page)).toEqual([]);
    expect(page).toMatch(/<dt>Signed<\/dt><dd><time datetime="2026-11-27T09:03:05.000Z">2026-11-27 09:03:05 UTC<\/time>/);
    expect(page).toContain('outside the timestamp tolerance');
    const conflicts = page.slice(page.indexOf('id="conflicts"'));
    expect(conflicts).toContain('<td>7</td>');
    expect(conflicts).toContain('<time datetime="2026-11-27T10:04:00.000Z">');
    expect(conflicts).toContain('<time datetime="2026-11-27T10:09:30.000Z">');
    expect(conflicts).toContain('&quot;name&quot;: &quot;other &lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;&quot;');

    // Neither appears for an event that has none.
    const plain = eventPage(session, hostileEvent('processed'));
    expect(plain).not.toContain('<dt>Signed</dt>');
    expect(plain).not.toContain('id="conflicts"');
  });

  it('shows on the events list how many conflicting bodies an event has', () => {
    const page = eventsPage(session, { items: [{ ...hostileEvent('processed'), conflictCount: 3 }, hostileEvent('failed')], nextCursor: null }, {});
    expect(page.match(/3 conflicting bodies/g)).toHaveLength(1);
    expect(page).toContain('href="/admin/events/0b5f8a3e-7c1d-4e2f-9a6b-3c4d5e6f7a8b#conflicts"');
  });

  it("links an event to its job's page only when the event was applied to the job", () => {
    const jobHref = `href="/admin/jobs/${encodeURIComponent(hostileEvent('failed').jobId!)}"`;
    const applied = { processedAt: '2026-11-27T10:03:05.040Z' };
    for (const event of [{ ...hostileEvent('processed'), ...applied }, { ...hostileEvent('failed'), ...applied }]) {
      expect(eventPage(session, event)).toContain(jobHref);
      expect(eventsPage(session, { items: [event], nextCursor: null }, {})).toContain(jobHref);
    }
    for (const status of ['stale', 'quarantined', 'received', 'ignored', 'failed'] as const) {
      // (A failed event that was never applied: its job may not exist.)
      const page = eventPage(session, hostileEvent(status));
      expect(page).not.toContain(jobHref);
      expect(page).toContain(`<span class="mono">cjob&lt;script&gt;`);
    }
  });

  it('keeps filters in the next page link', () => {
    const page = jobsPage(session, { items: [hostileJob], nextCursor: 'abc' }, { status: 'error', media: 'video' });
    expect(page).toContain('href="/admin?status=error&amp;media=video&amp;cursor=abc"');
    expect(page).toMatch(/<option value="error" selected>/);
  });

  it('escapes what the login and error pages echo', () => {
    expect(scripts(loginPage(`/admin?x="><script>`, SCRIPT))).toEqual([]);
    expect(scripts(errorPage(session, { statusCode: 400, error: 'Bad Request', message: [SCRIPT] }))).toEqual([]);
  });

  it('warns on every page when the console is open', () => {
    const open: AdminSession = { access: 'open', csrfToken: () => 't', expiresAt: null };
    expect(jobsPage(open, { items: [], nextCursor: null }, {})).toContain('API_KEYS is not set');
    expect(jobsPage(session, { items: [], nextCursor: null }, {})).not.toContain('API_KEYS is not set');
  });

  it('writes durations readably', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(4200)).toBe('4.2 s');
    expect(duration(185_000)).toBe('3 min 5 s');
    expect(duration(2 * 3600_000 + 10 * 60_000)).toBe('2 h 10 min');
  });
});

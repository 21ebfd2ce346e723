import type { ErrorBody } from '../common/http-error.filter.js';
import type { EventResponse } from '../events/dto/event.response.js';
import type { JobPageResponse, JobResponse } from '../jobs/dto/job.response.js';
import { EVENT_STATUSES, JOB_STATUSES, MEDIA } from '../webhook/magic-hour-event.types.js';
import { ADMIN_LOGIN_PATH, ADMIN_PATH, ADMIN_STYLESHEET_PATH, QUEUE_BOARD_PATH } from './admin.constants.js';
import type { AdminSession } from './admin-session.service.js';
import { externalUrl, html, pathWithQuery, type HtmlValue, type SafeHtml } from './html.js';

/**
 * The console's pages, as functions of the data they show. Every value goes through the `html` tag,
 * which escapes it; links to outside URLs go through `externalUrl`.
 */

/** A message at the top of a page. */
export interface Notice {
  kind: 'ok' | 'error' | 'warning';
  text: string;
}

/** Statuses whose events `EventsService.replay` takes without a handler name. */
export const REPLAYABLE_STATUSES: readonly string[] = ['failed', 'quarantined', 'stale'];

const PAYLOAD_SHOWN_MAX = 64 * 1024;

/** `2026-11-27T10:00:01.120Z` as `2026-11-27 10:00:01 UTC`, in a `<time>` element. */
function time(iso: string | null): SafeHtml {
  if (iso === null) return html`<span class="empty-value">–</span>`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC</time>`;
}

/** A span of milliseconds, readably: `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 10 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** From the job's creation to its first terminal event, or `null` while it renders. */
function jobDuration(job: JobResponse): string | null {
  const end = job.completedAt ?? job.erroredAt;
  return end === null ? null : duration(Date.parse(end) - Date.parse(job.createdAt));
}

const status = (value: string): SafeHtml => html`<span class="status status-${value}">${value}</span>`;

function notice(value: Notice | undefined): SafeHtml | null {
  return value ? html`<p class="notice notice-${value.kind}" role="status">${value.text}</p>` : null;
}

function options(values: readonly string[], selected: string | undefined, anyLabel: string): SafeHtml {
  return html`<option value="">${anyLabel}</option>${values.map(
    (value) => html`<option value="${value}"${value === selected ? html` selected` : null}>${value}</option>`,
  )}`;
}

/** An outside link when the URL is http(s), otherwise the text alone. */
function outsideLink(url: string, text: HtmlValue = url): SafeHtml {
  const href = externalUrl(url);
  return href ? html`<a href="${href}" rel="noopener noreferrer">${text}</a>` : html`<span class="mono">${text}</span>`;
}

const jobLink = (id: string): SafeHtml => html`<a class="mono" href="${ADMIN_PATH}/jobs/${encodeURIComponent(id)}">${id}</a>`;
const eventLink = (id: string, text: HtmlValue): SafeHtml => html`<a href="${ADMIN_PATH}/events/${encodeURIComponent(id)}">${text}</a>`;

/**
 * The event's job, linked only when the event was applied to it (processed, or failed in a handler
 * after that): a job's page exists once one of its events was applied, and a stale, quarantined,
 * ignored or waiting event, or one that failed before it was applied, may be the only one there is.
 */
function eventJob(event: EventResponse): SafeHtml {
  if (event.jobId === null) return html`–`;
  const applied = (event.status === 'processed' || event.status === 'failed') && event.processedAt !== null;
  return applied ? jobLink(event.jobId) : html`<span class="mono">${event.jobId}</span>`;
}

/** A payload as indented JSON, cut at `PAYLOAD_SHOWN_MAX` characters. */
function payloadText(payload: unknown): string {
  const text = JSON.stringify(payload, null, 2) ?? 'null';
  return text.length > PAYLOAD_SHOWN_MAX ? `${text.slice(0, PAYLOAD_SHOWN_MAX)}\n… (cut at ${PAYLOAD_SHOWN_MAX} characters)` : text;
}

/** On the events list: how many different bodies were redelivered under the event's key, linked to them. */
function conflictNote(event: EventResponse): SafeHtml | null {
  if (event.conflictCount === 0) return null;
  const text = `${event.conflictCount} conflicting ${event.conflictCount === 1 ? 'body' : 'bodies'}`;
  return html`<br><a class="muted" href="${ADMIN_PATH}/events/${encodeURIComponent(event.id)}#conflicts">${text}</a>`;
}

function replayButton(event: EventResponse, session: AdminSession): SafeHtml | null {
  if (!REPLAYABLE_STATUSES.includes(event.status)) return null;
  return html`<form method="post" action="${ADMIN_PATH}/events/${encodeURIComponent(event.id)}/replay">
      <input type="hidden" name="csrf" value="${session.csrfToken()}">
      <button type="submit" data-replay="${event.id}">Replay</button>
    </form>`;
}

/** The frame of every page; `session` null on the login page. */
export function layout(title: string, session: AdminSession | null, content: SafeHtml): string {
  const chrome = session
    ? html`<nav>
          <a href="${ADMIN_PATH}">Jobs</a>
          <a href="${ADMIN_PATH}/events?status=failed">Failed events</a>
          <a href="${ADMIN_PATH}/events?status=quarantined">Quarantined events</a>
          <a href="${ADMIN_PATH}/events?status=stale">Stale events</a>
          <a href="${ADMIN_PATH}/events">All events</a>
          <a href="${QUEUE_BOARD_PATH}">Queues</a>
        </nav>
        ${session.access === 'cookie'
          ? html`<form method="post" action="${ADMIN_PATH}/logout">
              <input type="hidden" name="csrf" value="${session.csrfToken()}">
              <button type="submit" class="secondary">Log out</button>
            </form>`
          : null}`
    : null;
  const open =
    session?.access === 'open'
      ? notice({
          kind: 'warning',
          text: 'API_KEYS is not set: this console, like the REST API, is open to anyone who can reach the service. Never run like this in production.',
        })
      : null;
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>${title} · Magic Hour webhooks</title>
  <link rel="stylesheet" href="${ADMIN_STYLESHEET_PATH}">
</head>
<body>
  <header><span class="brand">Magic Hour webhooks</span>${chrome}</header>
  <main>
    ${open}
    ${content}
  </main>
</body>
</html>
`.toString();
}

/** The login form. */
export function loginPage(next: string, error?: string): string {
  return layout(
    'Log in',
    null,
    html`<section class="login">
      <h1>Operator console</h1>
      ${notice(error === undefined ? undefined : { kind: 'error', text: error })}
      <form method="post" action="${ADMIN_LOGIN_PATH}">
        <label>API key <input type="password" name="key" autocomplete="off" required autofocus></label>
        <input type="hidden" name="next" value="${next}">
        <button type="submit">Log in</button>
      </form>
    </section>`,
  );
}

/** Filters of the jobs page. */
export interface JobsFilter {
  status?: string;
  media?: string;
}

/** `/admin`: the newest jobs, with filters and the next page's link. */
export function jobsPage(session: AdminSession, page: JobPageResponse, filter: JobsFilter): string {
  const rows = page.items.map(
    (job) => html`<tr data-job="${job.id}">
      <td>${jobLink(job.id)}<br><span class="muted">${job.name}</span></td>
      <td>${job.media}<br><span class="mono">${job.projectType}</span></td>
      <td>${status(job.status)}</td>
      <td>${time(job.createdAt)}</td>
      <td>${time(job.updatedAt)}</td>
      <td>${jobDuration(job) ?? '–'}</td>
      <td>${job.downloads.map((download, index) => html`${outsideLink(download.url, `output ${index + 1}`)} `)}${
        job.files.length > 0 ? html`<br>${job.files.length} stored` : null
      }</td>
    </tr>`,
  );
  return layout(
    'Jobs',
    session,
    html`<h1>Jobs</h1>
    <form class="filters" method="get" action="${ADMIN_PATH}">
      <label>Status <select name="status">${options(JOB_STATUSES, filter.status, 'any')}</select></label>
      <label>Media <select name="media">${options(MEDIA, filter.media, 'any')}</select></label>
      <button type="submit">Filter</button>
    </form>
    ${page.items.length === 0
      ? html`<p class="empty">No jobs${filter.status || filter.media ? ' match these filters' : ' yet'}.</p>`
      : html`<table id="jobs">
          <thead><tr><th>Job</th><th>Media</th><th>Status</th><th>Created</th><th>Updated</th><th>Took</th><th>Downloads</th></tr></thead>
          <tbody>${rows}</tbody>
        </table>`}
    ${page.nextCursor
      ? html`<p class="pager"><a rel="next" href="${pathWithQuery(ADMIN_PATH, { ...filter, cursor: page.nextCursor })}">Older jobs →</a></p>`
      : null}`,
  );
}

/** `/admin/jobs/:id`: one job, its outputs and the timeline of its events. */
export function jobPage(session: AdminSession, job: JobResponse): string {
  const details = Object.entries(job.details).map(([name, value]) => html`<dt>${name}</dt><dd>${String(value)}</dd>`);
  const timeline = job.events.map(
    (event) => html`<tr>
      <td>${time(event.receivedAt)}</td>
      <td class="mono">${event.type}</td>
      <td>${status(event.status)}</td>
      <td>${time(event.processedAt)}</td>
      <td>${event.processedAt === null ? '–' : duration(Date.parse(event.processedAt) - Date.parse(event.receivedAt))}</td>
    </tr>`,
  );
  return layout(
    `Job ${job.id}`,
    session,
    html`<h1>Job <span class="mono">${job.id}</span> ${status(job.status)}</h1>
    <dl>
      <dt>Name</dt><dd>${job.name ?? '–'}</dd>
      <dt>Media</dt><dd>${job.media}</dd>
      <dt>Project type</dt><dd class="mono">${job.projectType ?? '–'}</dd>
      <dt>Credits charged</dt><dd>${job.creditsCharged ?? '–'}</dd>
      <dt>Created</dt><dd>${time(job.createdAt)}</dd>
      <dt>Started</dt><dd>${time(job.startedAt)}</dd>
      <dt>Completed</dt><dd>${time(job.completedAt)}</dd>
      <dt>Errored</dt><dd>${time(job.erroredAt)}</dd>
      <dt>Updated</dt><dd>${time(job.updatedAt)}</dd>
      <dt>Took</dt><dd>${jobDuration(job) ?? '–'}</dd>
      ${job.error ? html`<dt>Error</dt><dd class="error">${job.error.code}: ${job.error.message}</dd>` : null}
      ${details}
    </dl>
    <h2>Downloads</h2>
    ${job.downloads.length === 0
      ? html`<p class="empty">None.</p>`
      : html`<ul>${job.downloads.map((download) => html`<li>${outsideLink(download.url)} (expires ${time(download.expiresAt)})</li>`)}</ul>`}
    ${job.files.length === 0
      ? null
      : html`<h2>Stored files</h2>
        <table><thead><tr><th>Path</th><th>Bytes</th><th>SHA-256</th><th>Stored</th></tr></thead>
        <tbody>${job.files.map(
          (file) => html`<tr><td class="mono">${file.path}</td><td>${file.bytes}</td><td class="mono">${file.sha256}</td><td>${time(file.storedAt)}</td></tr>`,
        )}</tbody></table>`}
    <h2>Timeline</h2>
    <table id="timeline">
      <thead><tr><th>Received</th><th>Event</th><th>Status</th><th>Processed</th><th>After</th></tr></thead>
      <tbody>${timeline}</tbody>
    </table>
    <p><a href="${pathWithQuery(`${ADMIN_PATH}/events`, { jobId: job.id })}">This job's events, with their errors and replays →</a></p>`,
  );
}

/** Filters of the events page. */
export interface EventsFilter {
  status?: string;
  type?: string;
  jobId?: string;
}

/** `/admin/events`: stored events, newest first, with a Replay button where a replay is possible. */
export function eventsPage(session: AdminSession, page: { items: EventResponse[]; nextCursor: string | null }, filter: EventsFilter): string {
  const heading = filter.status ? `${filter.status[0].toUpperCase()}${filter.status.slice(1)} events` : 'Events';
  const rows = page.items.map(
    (event) => html`<tr data-event="${event.id}">
      <td>${eventLink(event.id, time(event.receivedAt))}</td>
      <td class="mono">${event.type}</td>
      <td>${eventJob(event)}</td>
      <td>${status(event.status)}${conflictNote(event)}</td>
      <td>${event.attempts}</td>
      <td class="error">${event.lastError === null ? null : event.lastError.slice(0, 300)}</td>
      <td>${replayButton(event, session)}</td>
    </tr>`,
  );
  return layout(
    heading,
    session,
    html`<h1>${heading}</h1>
    <form class="filters" method="get" action="${ADMIN_PATH}/events">
      <label>Status <select name="status">${options(EVENT_STATUSES, filter.status, 'any')}</select></label>
      <label>Type <input name="type" value="${filter.type ?? ''}" placeholder="video.completed"></label>
      <label>Job <input name="jobId" value="${filter.jobId ?? ''}"></label>
      <button type="submit">Filter</button>
    </form>
    ${page.items.length === 0
      ? html`<p class="empty">No events${filter.status || filter.type || filter.jobId ? ' match these filters' : ' yet'}.</p>`
      : html`<table id="events">
          <thead><tr><th>Received</th><th>Type</th><th>Job</th><th>Status</th><th>Attempts</th><th>Last error</th><th></th></tr></thead>
          <tbody>${rows}</tbody>
        </table>`}
    ${page.nextCursor
      ? html`<p class="pager"><a rel="next" href="${pathWithQuery(`${ADMIN_PATH}/events`, { ...filter, cursor: page.nextCursor })}">Older events →</a></p>`
      : null}`,
  );
}

/**
 * `/admin/events/:id`: one event, when a stale one was signed, its handler runs, payload and
 * conflicting redeliveries, and its Replay button.
 */
export function eventPage(session: AdminSession, event: EventResponse, message?: Notice): string {
  const runs = event.handlerRuns ?? [];
  const conflicts = event.conflicts ?? [];
  return layout(
    `Event ${event.id}`,
    session,
    html`${notice(message)}
    <h1>Event <span class="mono">${event.type}</span> ${status(event.status)}</h1>
    <dl>
      <dt>Id</dt><dd class="mono">${event.id}</dd>
      <dt>Key</dt><dd class="mono">${event.eventKey}</dd>
      <dt>Job</dt><dd>${eventJob(event)}</dd>
      <dt>Received</dt><dd>${time(event.receivedAt)}</dd>
      ${event.staleSignedAt === null
        ? null
        : html`<dt>Signed</dt><dd>${time(event.staleSignedAt)} <span class="muted">(outside the timestamp tolerance when it was delivered)</span></dd>`}
      <dt>Processed</dt><dd>${time(event.processedAt)}</dd>
      <dt>Attempts</dt><dd>${event.attempts}</dd>
      ${event.lastError === null ? null : html`<dt>Last error</dt><dd class="error" id="last-error">${event.lastError}</dd>`}
    </dl>
    ${replayButton(event, session)}
    ${runs.length === 0
      ? null
      : html`<h2>Handler runs</h2>
        <table><thead><tr><th>Handler</th><th>Status</th><th>Attempts</th><th>Took</th><th>Last error</th><th>Updated</th></tr></thead>
        <tbody>${runs.map(
          (run) => html`<tr><td class="mono">${run.handler}</td><td>${status(run.status)}</td><td>${run.attempts}</td>
            <td>${run.durationMs === null ? '–' : duration(run.durationMs)}</td><td class="error">${run.lastError}</td><td>${time(run.updatedAt)}</td></tr>`,
        )}</tbody></table>`}
    <h2>Payload</h2>
    <pre class="mono">${payloadText(event.payload)}</pre>
    ${conflicts.length === 0
      ? null
      : html`<h2 id="conflicts">Conflicting redeliveries</h2>
        <p class="muted">Bodies delivered under this event's key that differed from its payload: kept as they came, never processed.</p>
        <table><thead><tr><th>Deliveries</th><th>First received</th><th>Last received</th><th>Payload</th></tr></thead>
        <tbody>${conflicts.map(
          (conflict) => html`<tr><td>${conflict.deliveries}</td><td>${time(conflict.firstReceivedAt)}</td><td>${time(conflict.lastReceivedAt)}</td>
            <td><pre class="mono">${payloadText(conflict.payload)}</pre></td></tr>`,
        )}</tbody></table>`}`,
  );
}

/** An error as a page, for a browser. */
export function errorPage(session: AdminSession | null, error: ErrorBody): string {
  const messages = Array.isArray(error.message) ? error.message : [error.message];
  return layout(
    `${error.statusCode} ${error.error}`,
    session,
    html`<h1>${error.statusCode} ${error.error}</h1>
    ${messages.map((text) => notice({ kind: 'error', text }))}
    <p><a href="${ADMIN_PATH}">Back to the jobs</a></p>`,
  );
}

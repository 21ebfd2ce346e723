import type { ErrorBody } from '../common/http-error.filter.js';
import type { EventResponse } from '../events/dto/event.response.js';
import type { JobPageResponse, JobResponse } from '../jobs/dto/job.response.js';
import { EVENT_STATUSES, isTerminalStatus, JOB_STATUSES, MEDIA, type EventSource } from '../magic-hour/magic-hour-event.types.js';
import { ADMIN_PATH } from './admin.constants.js';
import type { AdminSession } from './admin-session.service.js';

/**
 * What the console's templates (`views/*.hbs`) show, as plain data: texts, times, and links that are
 * already safe to follow. The templates escape every value; this file decides which URLs become links.
 */

/** A message at the top of a page. */
export interface Notice {
  kind: 'ok' | 'error' | 'warning';
  text: string;
}

/** A time as the `time` partial shows it: `iso` for the `<time>` element, `null` for none. */
export interface TimeView {
  iso: string | null;
  text: string;
}

/** A link, or only its text when `href` is `null` (an outside URL that is not http(s)). */
export interface LinkView {
  href: string | null;
  text: string;
}

/** What every page's frame (`views/layout.hbs`) needs; `session` is `null` on the login page. */
export interface FrameView {
  title: string;
  session: {
    /** The Log out form's CSRF token; `null` when there is nothing to log out of (Bearer, open console). */
    logoutCsrf: string | null;
    /** Whether to warn that no API key is configured. */
    open: boolean;
  } | null;
}

/** A `<select>` option (the `options` partial adds one for "any"). */
export interface OptionView {
  value: string;
  selected: boolean;
}

/** Statuses whose events `EventsService.replay` takes without a handler name. */
export const REPLAYABLE_STATUSES: readonly string[] = ['failed', 'quarantined', 'stale'];

const PAYLOAD_SHOWN_MAX = 64 * 1024;
const LAST_ERROR_LISTED_MAX = 300;
/** Longest name a row of the jobs list shows; a job's page shows up to `TEXT_SHOWN_MAX` of a name or error. */
const NAME_LISTED_MAX = 120;
const TEXT_SHOWN_MAX = 2000;

/**
 * `text` cut at `max` characters for display, saying how long it is; the API keeps it whole. Not cut
 * inside a surrogate pair.
 */
export function shownText(text: string, max: number): string;
export function shownText(text: string | null, max: number): string | null;
export function shownText(text: string | null, max: number): string | null {
  if (text === null || text.length <= max) return text;
  return `${text.slice(0, max).replace(/[\ud800-\udbff]$/, '')}… (${text.length} characters)`;
}

/** `2026-11-27T10:00:01.120Z` as `2026-11-27 10:00:01` (the template adds `UTC`). */
function time(iso: string | null): TimeView {
  return { iso, text: iso === null ? '' : iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') };
}

/** A span of milliseconds, readably: `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 10 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** From the job's creation to its completion or error; `–` while it renders (and for a canceled job). */
function jobDuration(job: JobResponse): string {
  const end = job.completedAt ?? job.erroredAt;
  return end === null ? '–' : duration(Date.parse(end) - Date.parse(job.createdAt));
}

/**
 * An outside URL fit for an `href`: only `http:` and `https:` (a `javascript:` or `data:` URL would run
 * in the console's origin however well escaped). `null` for anything else.
 */
export function externalUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** A console path with its query string; empty or missing values are left out. */
export function pathWithQuery(path: string, query: Record<string, string | number | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') params.set(name, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

const jobHref = (id: string): string => `${ADMIN_PATH}/jobs/${encodeURIComponent(id)}`;
const eventHref = (id: string): string => `${ADMIN_PATH}/events/${encodeURIComponent(id)}`;

function options(values: readonly string[], selected: string | undefined): OptionView[] {
  return values.map((value) => ({ value, selected: value === selected }));
}

function frame(title: string, session: AdminSession | null): FrameView {
  if (session === null) return { title, session: null };
  return { title, session: { logoutCsrf: session.access === 'cookie' ? session.csrfToken() : null, open: session.access === 'open' } };
}

/**
 * The event's job, linked only when the event was applied to it (processed, or failed in a handler
 * after that): a job's page exists once one of its events was applied, and a stale, quarantined,
 * ignored or waiting event, or one that failed before it was applied, may be the only one there is.
 */
function eventJob(event: EventResponse): { id: string | null; href: string | null } {
  if (event.jobId === null) return { id: null, href: null };
  const applied = (event.status === 'processed' || event.status === 'failed') && event.processedAt !== null;
  return { id: event.jobId, href: applied ? jobHref(event.jobId) : null };
}

/** A payload as indented JSON, cut at `PAYLOAD_SHOWN_MAX` characters. */
function payloadText(payload: unknown): string {
  const text = JSON.stringify(payload, null, 2) ?? 'null';
  return text.length > PAYLOAD_SHOWN_MAX ? `${text.slice(0, PAYLOAD_SHOWN_MAX)}\n… (cut at ${PAYLOAD_SHOWN_MAX} characters)` : text;
}

/** The Replay button's form, for an event a replay can take. */
function replayForm(event: EventResponse, session: AdminSession): { action: string; eventId: string; csrf: string } | null {
  if (!REPLAYABLE_STATUSES.includes(event.status)) return null;
  return { action: `${eventHref(event.id)}/replay`, eventId: event.id, csrf: session.csrfToken() };
}

/** `views/login.hbs`. */
export function loginView(next: string, error?: string) {
  return { ...frame('Log in', null), next, notice: error === undefined ? null : ({ kind: 'error', text: error } satisfies Notice) };
}

/** Filters of the jobs page. */
export interface JobsFilter {
  status?: string;
  media?: string;
}

/** `views/jobs.hbs`: the newest jobs, with filters and the next page's link. */
export function jobsView(session: AdminSession, page: JobPageResponse, filter: JobsFilter) {
  return {
    ...frame('Jobs', session),
    statusOptions: options(JOB_STATUSES, filter.status),
    mediaOptions: options(MEDIA, filter.media),
    emptyText: page.items.length > 0 ? null : `No jobs${filter.status || filter.media ? ' match these filters' : ' yet'}.`,
    jobs: page.items.map((job) => ({
      id: job.id,
      href: jobHref(job.id),
      name: shownText(job.name, NAME_LISTED_MAX),
      media: job.media,
      projectType: shownText(job.projectType, NAME_LISTED_MAX),
      status: job.status,
      createdAt: time(job.createdAt),
      updatedAt: time(job.updatedAt),
      took: jobDuration(job),
      downloads: job.downloads.map((download, index): LinkView => ({ href: externalUrl(download.url), text: `output ${index + 1}` })),
      storedFiles: job.files.length,
    })),
    nextHref: page.nextCursor ? pathWithQuery(ADMIN_PATH, { ...filter, cursor: page.nextCursor }) : null,
  };
}

/** What the console knows of the service's settings that changes what a page offers. */
export interface ConsoleSettings {
  /** Whether reconciliation with Magic Hour's API is on (`MAGIC_HOUR_API_KEY` set). */
  reconcileOn: boolean;
  /** Why and since when it is paused (the API refused the key or the account); `null` or absent: not paused. */
  pause?: { httpStatus: number; reason: string; pausedAt: Date } | null;
}

/** Where an event came from, as the console words it. */
const SOURCE_TEXT: Record<EventSource, string> = { webhook: 'webhook', api: "Magic Hour's API" };

/**
 * The "Reconcile now" button: a form (`POST .../reconcile` with the CSRF token) while the job is
 * unfinished and reconciliation is on, else the button disabled with the reason.
 */
function reconcileButton(job: JobResponse, session: AdminSession, settings: ConsoleSettings) {
  let reason: string | null = null;
  if (!settings.reconcileOn) reason = "Reconciliation is off: set MAGIC_HOUR_API_KEY to let the service ask Magic Hour's API.";
  else if (isTerminalStatus(job.status)) reason = `The job is ${job.status}: its status will not change, so there is nothing to ask.`;
  if (reason !== null) return { form: null, reason };
  return { form: { action: `${jobHref(job.id)}/reconcile`, csrf: session.csrfToken() }, reason: null };
}

/** `views/job.hbs`: one job, its outputs, where it stands with reconciliation and the timeline of its events. */
export function jobView(session: AdminSession, job: JobResponse, settings: ConsoleSettings, notice?: Notice) {
  const { reconciliation } = job;
  return {
    ...frame(`Job ${job.id}`, session),
    notice: notice ?? null,
    job: {
      id: job.id,
      status: job.status,
      name: shownText(job.name, TEXT_SHOWN_MAX) ?? '–',
      media: job.media,
      projectType: shownText(job.projectType, TEXT_SHOWN_MAX) ?? '–',
      creditsCharged: job.creditsCharged ?? '–',
      createdAt: time(job.createdAt),
      startedAt: time(job.startedAt),
      completedAt: time(job.completedAt),
      erroredAt: time(job.erroredAt),
      updatedAt: time(job.updatedAt),
      took: jobDuration(job),
      error: job.error ? shownText(`${job.error.code ?? ''}: ${job.error.message ?? ''}`, TEXT_SHOWN_MAX) : null,
      details: Object.entries(job.details).map(([name, value]) => ({ name, value: String(value) })),
    },
    reconciliation: {
      lastCheckedAt: time(reconciliation.lastCheckedAt),
      nextCheckAt: time(reconciliation.nextCheckAt),
      lastOutcome: reconciliation.lastOutcome ?? '–',
      notFoundAt: reconciliation.notFoundAt === null ? null : time(reconciliation.notFoundAt),
      paused: settings.pause
        ? ({
            kind: 'warning',
            text:
              `Reconciliation is paused since ${time(settings.pause.pausedAt.toISOString()).text} UTC: ${settings.pause.reason}. ` +
              'A worker tries the API again now and then and resumes once it answers; until then no job is checked.',
          } satisfies Notice)
        : null,
      button: reconcileButton(job, session, settings),
    },
    downloads: job.downloads.map((download) => ({
      link: { href: externalUrl(download.url), text: download.url },
      expiresAt: time(download.expiresAt),
    })),
    files: job.files.map((file) => ({ path: file.path, bytes: file.bytes, sha256: file.sha256, storedAt: time(file.storedAt) })),
    timeline: job.events.map((event) => ({
      receivedAt: time(event.receivedAt),
      type: event.type,
      status: event.status,
      source: event.source,
      sourceText: SOURCE_TEXT[event.source],
      processedAt: time(event.processedAt),
      after: event.processedAt === null ? '–' : duration(Date.parse(event.processedAt) - Date.parse(event.receivedAt)),
    })),
    eventsHref: pathWithQuery(`${ADMIN_PATH}/events`, { jobId: job.id }),
  };
}

/** Filters of the events page. */
export interface EventsFilter {
  status?: string;
  type?: string;
  jobId?: string;
}

/** `views/events.hbs`: stored events, newest first, with a Replay button where a replay is possible. */
export function eventsView(session: AdminSession, page: { items: EventResponse[]; nextCursor: string | null }, filter: EventsFilter) {
  const heading = filter.status ? `${filter.status[0].toUpperCase()}${filter.status.slice(1)} events` : 'Events';
  return {
    ...frame(heading, session),
    heading,
    statusOptions: options(EVENT_STATUSES, filter.status),
    type: filter.type ?? '',
    jobId: filter.jobId ?? '',
    emptyText: page.items.length > 0 ? null : `No events${filter.status || filter.type || filter.jobId ? ' match these filters' : ' yet'}.`,
    events: page.items.map((event) => ({
      id: event.id,
      href: eventHref(event.id),
      receivedAt: time(event.receivedAt),
      type: event.type,
      job: eventJob(event),
      status: event.status,
      conflicts:
        event.conflictCount === 0
          ? null
          : ({
              href: `${eventHref(event.id)}#conflicts`,
              text: `${event.conflictCount} conflicting ${event.conflictCount === 1 ? 'body' : 'bodies'}`,
            } satisfies LinkView),
      attempts: event.attempts,
      lastError: event.lastError?.slice(0, LAST_ERROR_LISTED_MAX) ?? null,
      replay: replayForm(event, session),
    })),
    nextHref: page.nextCursor ? pathWithQuery(`${ADMIN_PATH}/events`, { ...filter, cursor: page.nextCursor }) : null,
  };
}

/**
 * `views/event.hbs`: one event, when a stale one was signed, its handler runs, payload and
 * conflicting redeliveries, and its Replay button.
 */
export function eventView(session: AdminSession, event: EventResponse, notice?: Notice) {
  return {
    ...frame(`Event ${event.id}`, session),
    notice: notice ?? null,
    event: {
      id: event.id,
      type: event.type,
      status: event.status,
      eventKey: event.eventKey,
      job: eventJob(event),
      receivedAt: time(event.receivedAt),
      source: event.source,
      sourceText: SOURCE_TEXT[event.source],
      signedAt: event.staleSignedAt === null ? null : time(event.staleSignedAt),
      processedAt: time(event.processedAt),
      attempts: event.attempts,
      lastError: event.lastError,
    },
    replay: replayForm(event, session),
    runs: (event.handlerRuns ?? []).map((run) => ({
      handler: run.handler,
      status: run.status,
      attempts: run.attempts,
      took: run.durationMs === null ? '–' : duration(run.durationMs),
      lastError: run.lastError,
      updatedAt: time(run.updatedAt),
    })),
    payload: payloadText(event.payload),
    conflicts: (event.conflicts ?? []).map((conflict) => ({
      deliveries: conflict.deliveries,
      firstReceivedAt: time(conflict.firstReceivedAt),
      lastReceivedAt: time(conflict.lastReceivedAt),
      payload: payloadText(conflict.payload),
    })),
  };
}

/** `views/error.hbs`: an error as a page, for a browser. */
export function errorView(session: AdminSession | null, error: ErrorBody) {
  return {
    ...frame(`${error.statusCode} ${error.error}`, session),
    heading: `${error.statusCode} ${error.error}`,
    messages: Array.isArray(error.message) ? error.message : [error.message],
  };
}

import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Response } from 'express';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { ADMIN_PATH } from './admin.constants.js';
import type { AdminSession } from './admin-session.service.js';

/**
 * The console's own pages: nothing but its stylesheet, forms to itself, no scripts at all, never framed.
 * They need no relaxation of a strict policy.
 */
export const CONSOLE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * What Bull Board's UI needs: its own scripts and stylesheet, inline `style` attributes and a
 * `<style>` element (its loading screen; React sets styles too), `data:` images, `fetch` to its API
 * and a `<base href>`. Its page also links a Google Fonts stylesheet, which this policy blocks on
 * purpose (no third party learns who opens the board; it falls back to system fonts).
 */
export const QUEUE_BOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** Sets the headers every console answer carries, with the page's content security policy. */
export function setConsoleHeaders(response: ServerResponse, csp: string = CONSOLE_CSP): void {
  response.setHeader('content-security-policy', csp);
  response.setHeader('cache-control', 'no-store');
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('referrer-policy', 'same-origin');
}

/** Whether the client asked for HTML (a browser navigating), rather than JSON. */
export function wantsHtml(headers: IncomingHttpHeaders): boolean {
  return (headers.accept ?? '').includes('text/html');
}

/**
 * Whether a request that changes something comes from a page of this host. Browsers send `Origin`
 * with every such request (and `Sec-Fetch-Site`); a request with neither is not a browser's, so no
 * cookie of an unwitting operator rides on it.
 */
export function isSameOrigin(headers: IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}

/** C0 control characters (NUL among them) and DEL. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/**
 * Whether a URL's path or query holds a control character once decoded (`%00`, `%1b`, ...). Nothing
 * the console or Bull Board serves is named with one, and Bull Board passes what it is given on to
 * Redis, where a NUL in a job status ended in a `500`.
 */
export function hasControlCharacters(url: string): boolean {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  let decodedPath = path;
  try {
    decodedPath = decodeURIComponent(path);
  } catch {
    // A malformed escape is no control character; the router refuses it.
  }
  if (CONTROL_CHARACTER.test(decodedPath)) return true;
  if (query < 0) return false;
  for (const [name, value] of new URLSearchParams(url.slice(query + 1))) {
    if (CONTROL_CHARACTER.test(name) || CONTROL_CHARACTER.test(value)) return true;
  }
  return false;
}

/**
 * Where to go after logging in: `next` when it is a console path, else the console's front page.
 * Never another site: `//host`, `/\\host` and absolute URLs are refused.
 */
export function consolePath(next: string | undefined): string {
  if (next === undefined || !/^\/admin(?:[/?#]|$)/.test(next) || next.includes('//') || next.includes('\\')) return ADMIN_PATH;
  return next;
}

/** Where `AdminAuthMiddleware` leaves the session for the handlers. */
const SESSION_LOCAL = 'adminSession';

export function setAdminSession(response: Response, session: AdminSession): void {
  response.locals[SESSION_LOCAL] = session;
}

/** The session `AdminAuthMiddleware` found for the request, or `null` on a route it does not guard. */
export function findAdminSession(response: Response): AdminSession | null {
  return (response.locals[SESSION_LOCAL] as AdminSession | undefined) ?? null;
}

/** The session of the request, as `AdminAuthMiddleware` found it. */
export function adminSessionOf(response: Response): AdminSession {
  const session = findAdminSession(response);
  if (!session) throw new Error('No console session: AdminAuthMiddleware did not run for this route');
  return session;
}

/** Handler parameter: the console session of the request. */
export const CurrentAdminSession = createParamDecorator((_: unknown, context: ExecutionContext): AdminSession =>
  adminSessionOf(context.switchToHttp().getResponse<Response>()),
);

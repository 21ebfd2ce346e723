import type { Server } from 'node:http';

/** How often Node looks for requests past their time: often enough that a 408 comes close to on time. */
const CHECK_INTERVAL_MS = 500;

/**
 * Bounds what one client can hold on the HTTP server, so that slow or idle clients cannot use up the
 * file descriptors or the memory that real deliveries need:
 * - a whole request (headers and body) must arrive within `requestTimeoutMs`, else it is answered 408
 *   (by `answerClientErrorsWithJson`) and its connection closed; a connection that sends nothing is
 *   closed after the same time;
 * - past `maxConnections` open connections, a new one is closed as soon as it is accepted.
 * Idle keep-alive connections keep Node's 5 s timeout.
 */
export function limitHttpServer(server: Server, limits: { requestTimeoutMs: number; maxConnections: number }): void {
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = limits.requestTimeoutMs;
  server.maxConnections = limits.maxConnections;
  // Read by Node when the server starts listening; it is only typed as a constructor option.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = CHECK_INTERVAL_MS;
}

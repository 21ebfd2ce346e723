/**
 * The service's entry point: `node dist/src/main.js`. It tunes V8 before anything else is loaded,
 * then starts the service (`server.ts`).
 */
import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived its last full collection before it
 * collects again, in percent, in a process that processes events (`APP_ROLE` `worker` or `all`).
 * V8 picks a factor of up to 4 by itself; over the app's 50 to 70 MB of live objects, a process
 * draining a 300,000-event backlog swung between 190 and 260 MB of RSS and peaked at 289 MB, nearly
 * all of it garbage waiting for the next collection. At 50% the same drain peaked at 172 to 177 MB,
 * for about 5% fewer events a second (README, "Performance"). An API-only process keeps V8's own
 * choice: there the extra full collections cost intake about 8% of its requests a second.
 */
const HEAP_GROWING_PERCENT = 50;

// Before the app's modules load, so that every limit V8 sets follows it. The role is validated with
// the rest of the configuration at start; anything but `api` processes events.
if (process.env.APP_ROLE !== 'api') setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
await import('./server.js');

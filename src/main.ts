/**
 * The service's entry point: `node dist/src/main.js`. It tunes V8 before anything else is loaded,
 * then starts the service (`server.ts`).
 */
import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived its last full collection before it
 * collects again, in percent, by role.
 *
 * A process that processes events (`APP_ROLE` `worker` or `all`): 50. V8 picks a factor of up to 4
 * by itself; over the app's 50 to 70 MB of live objects, a process draining a 300,000-event backlog
 * swung between 190 and 260 MB of RSS and peaked at 289 MB, nearly all of it garbage waiting for the
 * next collection. At 50% the same drain peaked at 172 to 177 MB, for about 5% fewer events a second.
 *
 * An API-only process: 300, V8's own upper bound held fixed. At a steady 1,000 events/s after a
 * burst, V8 chose a factor near its lowest and collected about 43 MB of live objects every 8 to 10 s;
 * each collection marked on helper threads that, beside Postgres and the client, queued up to 8
 * threads on 2 cores for about 40 ms, and the slowest requests of those rounds waited in such spells.
 * At 300, three runs of the same rounds had their slowest 0.1% at 7.7 to 9.5 ms, against 21 to 161 ms
 * in three runs with V8's choice (README, "Performance"). The cost is memory: the heap may grow to
 * four times what is live before a full collection.
 */
const HEAP_GROWING_PERCENT = process.env.APP_ROLE === 'api' ? 300 : 50;

// Before the app's modules load, so that every limit V8 sets follows it. The role is validated with
// the rest of the configuration at start; anything but `api` processes events.
setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
await import('./server.js');

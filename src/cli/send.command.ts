import { createHash } from 'node:crypto';
import { isKnownEventType, mediaOf, type Media } from '../magic-hour/magic-hour-event.types.js';
import { postSignedEvent } from '../simulator/delivery.js';
import { ALL_TYPES, projectEventBody, projectId, randomProject } from '../simulator/events.js';
import { seededRandom } from '../simulator/random.js';
import { signedHeaders, unixSeconds } from '../simulator/signing.js';
import type { CliCommand } from './cli-command.js';
import { COMMON_FLAGS, COMMON_HELP, commonOptions, numberFlag, parseFlags, UsageError, type CliIo } from './cli-options.js';

const HELP = `Usage: mh send <type> [--id <project id>] [--url <url>] [--secret <secret>] [options]

Sends one event, signed as Magic Hour signs it, with a realistic payload for its media (the shape of
GET /v1/{video,image,audio}-projects/:id). One attempt, no retries; exit code 0 on a 2xx answer, 1 otherwise.

Types: ${ALL_TYPES.join(', ')}

Options:
  --id <id>          the project id (default: a fresh cuid); send several types with one id to
                     follow one job, e.g. mh send video.started --id X, then video.completed --id X
  --timestamp <s>    Unix seconds to sign at (default now); an old one tests the tolerance
  --timeout-ms <ms>  how long to wait for the answer (default 10000, as Magic Hour)
  --dry-run          print the headers and the body instead of sending them
  --json             print the result as JSON
${COMMON_HELP}`;

const FLAGS = {
  ...COMMON_FLAGS,
  id: { type: 'string' },
  timestamp: { type: 'string' },
  'timeout-ms': { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** `mh send <type>`: one correctly signed, realistic event. */
export const sendCommand: CliCommand = {
  name: 'send',
  summary: 'send one signed event of one of the nine types',
  help: HELP,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, FLAGS, 1);
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const type = positionals[0];
    if (type === undefined) throw new UsageError(`name the event type, one of ${ALL_TYPES.join(', ')}`);
    if (!isKnownEventType(type)) throw new UsageError(`unknown event type '${type}'; one of ${ALL_TYPES.join(', ')}`);
    const { url, secret } = commonOptions(values, io.env);
    const id = values.id ?? projectId();
    if (!/^[\x21-\x7e]{1,200}$/.test(id)) throw new UsageError('--id must be 1 to 200 printable ASCII characters without spaces');
    const timestamp = numberFlag('timestamp', values.timestamp, unixSeconds(), { min: 0, max: 999_999_999_999, integer: true });
    const timeoutMs = numberFlag('timeout-ms', values['timeout-ms'], 10_000, { min: 1, max: 600_000, integer: true });

    // Seeded by the id, so that the events of one job (`--id X` several times) describe the same project.
    const now = new Date();
    const random = seededRandom(createHash('sha256').update(id).digest().readUInt32BE(0));
    const project = randomProject(mediaOf(type) as Media, random, new Date(now.getTime() - 60_000), id);
    const body = projectEventBody(type, project, now);

    if (values['dry-run']) {
      const headers = signedHeaders(body, secret, timestamp);
      if (values.json) io.stdout.write(`${JSON.stringify({ url, headers, body: JSON.parse(body) as unknown })}\n`);
      else {
        io.stdout.write(`POST ${url}\n`);
        for (const [name, value] of Object.entries(headers)) io.stdout.write(`${name}: ${value}\n`);
        io.stdout.write(`\n${body}\n`);
      }
      return 0;
    }

    const outcome = await postSignedEvent(url, body, secret, timeoutMs, timestamp);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ type, id, url, ok: outcome.ok, status: outcome.status, answer: outcome.detail })}\n`);
    } else {
      const answer = outcome.status === null ? `no answer: ${outcome.detail}` : `${outcome.status} ${outcome.detail}`;
      io.stdout.write(`${type} ${id} -> ${url}\n${answer}\n`);
    }
    return outcome.ok ? 0 : 1;
  },
};

import { signedHeaders, unixSeconds } from '../simulator/signing.js';
import { COMMON_FLAGS, COMMON_HELP, commonOptions, numberFlag, parseFlags, readAll, UsageError, type CliIo } from './cli-options.js';
import type { CliCommand } from './cli-command.js';

const HELP = `Usage: mh sign [--secret <secret>] [--timestamp <unix seconds>] [--json] < body.json

Prints the headers Magic Hour would send with the body read from stdin: content-type, the timestamp and
the HMAC-SHA256 signature of "{timestamp}.{body}". The body is signed byte for byte as read (a trailing
newline included), so send the same bytes: curl --data-binary @body.json, never -d.

Options:
  --timestamp <s>    Unix seconds to sign at (default now); an old one tests the tolerance
  --json             print the headers as a JSON object instead of "name: value" lines
${COMMON_HELP}

Example:
  curl http://localhost:3000/webhook -H @<(npx mh sign < body.json) --data-binary @body.json`;

/** `mh sign`: headers for a body on stdin, for use with curl. */
export const signCommand: CliCommand = {
  name: 'sign',
  summary: 'print the signature headers for a body on stdin, for curl',
  help: HELP,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values } = parseFlags(args, { ...COMMON_FLAGS, timestamp: { type: 'string' }, json: { type: 'boolean' } });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const { secret } = commonOptions(values, io.env);
    const timestamp = numberFlag('timestamp', values.timestamp, unixSeconds(), { min: 0, max: 999_999_999_999, integer: true });
    if (io.stdin.isTTY) throw new UsageError('pipe the body to sign on stdin, e.g. mh sign < body.json');

    const body = await readAll(io.stdin);
    if (body.length === 0) io.stderr.write('mh sign: warning: the body on stdin is empty\n');
    const headers = signedHeaders(body, secret, timestamp);
    io.stdout.write(
      values.json
        ? `${JSON.stringify(headers)}\n`
        : Object.entries(headers)
            .map(([name, value]) => `${name}: ${value}\n`)
            .join(''),
    );
    return 0;
  },
};

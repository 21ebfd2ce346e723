import { setTimeout as sleep } from 'node:timers/promises';
import type { CliCommand } from './cli-command.js';
import { COMMON_FLAGS, COMMON_HELP, commonOptions, numberFlag, parseFlags, UsageError, type CliIo } from './cli-options.js';

const HELP = `Usage: mh reconcile [--job <id>] [--api-url <url>] [--api-key <key>] [options]

Asks a running service to check jobs with Magic Hour's API now (the service needs MAGIC_HOUR_API_KEY).
Without --job: one pass, every unfinished job is due a check (POST /jobs/reconcile); its workers make
the calls within RECONCILE_MAX_PER_SECOND. With --job: that job only (POST /jobs/:id/reconcile), then
waits for the check and prints what it found. Exit code 0 when done, 1 when the service refused or the
check did not happen within the timeout.

Options:
  --job <id>         check this job only, and wait for the outcome
  --timeout-ms <ms>  how long to wait for the job's check (default 30000)
  --json             print the result as JSON
${COMMON_HELP}`;

const FLAGS = {
  ...COMMON_FLAGS,
  job: { type: 'string' },
  'timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
} as const;

interface JobAnswer {
  id: string;
  status: string;
  reconciliation: { lastCheckedAt: string | null; lastOutcome: string | null; nextCheckAt: string | null; notFoundAt: string | null };
}

/** `mh reconcile [--job ID]`: one reconcile pass, or one job's check, on a running service. */
export const reconcileCommand: CliCommand = {
  name: 'reconcile',
  summary: "have a running service check jobs with Magic Hour's API now",
  help: HELP,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values } = parseFlags(args, FLAGS);
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const { apiUrl, apiKey } = commonOptions(values, io.env);
    const timeoutMs = numberFlag('timeout-ms', values['timeout-ms'], 30_000, { min: 1, max: 3_600_000, integer: true });
    const job = values.job;
    if (job !== undefined && !/^[\x21-\x7e]{1,200}$/.test(job))
      throw new UsageError('--job must be 1 to 200 printable ASCII characters without spaces');
    const base = apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;
    const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
    const call = async (method: string, path: string): Promise<{ status: number; body: unknown }> => {
      const response = await fetch(new URL(path, base), { method, headers, signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: shown as text.
      }
      return { status: response.status, body };
    };
    const refused = (answer: { status: number; body: unknown }) => {
      const message = (answer.body as { message?: unknown })?.message ?? answer.body;
      io.stderr.write(
        `mh reconcile: the service answered ${answer.status}: ${typeof message === 'string' ? message : JSON.stringify(message)}\n`,
      );
      return 1;
    };

    if (job === undefined) {
      const answer = await call('POST', 'jobs/reconcile');
      if (answer.status !== 202) return refused(answer);
      const { due } = answer.body as { due: number };
      if (values.json) io.stdout.write(`${JSON.stringify({ due })}\n`);
      else io.stdout.write(`${due} unfinished job(s) due a check now; the workers ask Magic Hour's API within its budget\n`);
      return 0;
    }

    const asked = await call('POST', `jobs/${encodeURIComponent(job)}/reconcile`);
    if (asked.status !== 202) return refused(asked);
    const askedAt = Date.parse((asked.body as JobAnswer).reconciliation.lastCheckedAt ?? '') || 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await call('GET', `jobs/${encodeURIComponent(job)}`);
      if (answer.status !== 200) return refused(answer);
      const found = answer.body as JobAnswer;
      const { lastCheckedAt, lastOutcome } = found.reconciliation;
      if (Date.parse(lastCheckedAt ?? '') > askedAt && lastOutcome !== null && lastOutcome !== 'checking') {
        if (values.json)
          io.stdout.write(`${JSON.stringify({ id: job, status: found.status, outcome: lastOutcome, checkedAt: lastCheckedAt })}\n`);
        else io.stdout.write(`job ${job}: checked at ${lastCheckedAt}: ${lastOutcome}; status ${found.status}\n`);
        return 0;
      }
      if (Date.now() > deadline) {
        io.stderr.write(
          `mh reconcile: job ${job} was not checked within ${timeoutMs} ms (is a worker running, with MAGIC_HOUR_API_KEY?)\n`,
        );
        return 1;
      }
      await sleep(200);
    }
  },
};

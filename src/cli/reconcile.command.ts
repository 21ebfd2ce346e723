import { concurrencyLimit, describeFetchError, sleep } from '../simulator/delivery.js';
import { retryAfterMs } from '../simulator/job-status.check.js';
import type { CliCommand } from './cli-command.js';
import { COMMON_FLAGS, COMMON_HELP, commonOptions, numberFlag, parseFlags, UsageError, type CliIo } from './cli-options.js';

/**
 * How long a worker holds a job it claimed before another may check it: while a check is under way the
 * job's next check is exactly this far after its last (the service's `RECONCILE_LEASE_SECONDS`; a spec
 * keeps the two equal).
 */
export const CLAIM_LEASE_MS = 300_000;

const UNFINISHED = new Set(['queued', 'rendering']);

const DEFAULTS = { waitMs: 60_000, concurrency: 8, pollMs: 250, requestTimeoutMs: 10_000 } as const;

const HELP = `Usage: mh reconcile [--job <id>] [--wait-ms <ms>] [--concurrency <n>] [--json] [options]

Asks a running service to check jobs with Magic Hour's API now, as POST /jobs/:id/reconcile does,
and waits for its workers to do so (within the deployment's API budget, RECONCILE_MAX_PER_SECOND):
  --job <id>            that one job
  (no --job)            one pass: every unfinished job (queued or rendering, as GET /jobs lists them),
                        whatever its schedule
Then prints what each check found: the job's status and the check's outcome (applied, unchanged,
not_found, rate_limited, ...). The service must have reconciliation on (MAGIC_HOUR_API_KEY).
Exit code 0 when every job was checked; 1 when reconciliation is off, a job is unknown or finished
(--job), or checks did not happen within --wait-ms; 2 for bad usage.

Options:
  --wait-ms <ms>        how long to wait for the checks (default ${DEFAULTS.waitMs})
  --concurrency <n>     most requests to the service in flight at once (default ${DEFAULTS.concurrency})
  --json                print the result as JSON
${COMMON_HELP}

Examples:
  npx mh reconcile --job cm3testjob000001
  npx mh reconcile --api-url https://webhooks.example.com --api-key key1 --json`;

const FLAGS = {
  ...COMMON_FLAGS,
  job: { type: 'string' },
  'wait-ms': { type: 'string' },
  concurrency: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** What `GET /jobs/:id` tells about a job, as far as this command reads it. */
interface JobView {
  id: string;
  status: string;
  reconciliation?: { lastCheckedAt: string | null; nextCheckAt: string | null; lastOutcome: string | null };
}

/** One job's check, as `mh reconcile` reports it. */
export interface ReconcileResult {
  id: string;
  /** The job's status when the check was asked for. */
  before: string;
  /** Its status once checked (or when the wait ended). */
  after: string;
  /** What the check found; `null` when it was not asked or not done. */
  outcome: string | null;
  /** Whether a worker checked it. */
  checked: boolean;
  /** Why it was not asked or not checked. */
  problem?: string;
}

/** Everything `mh reconcile` reports; `--json` prints exactly this. */
export interface ReconcileSummary {
  ok: boolean;
  apiUrl: string;
  /** Jobs asked about. */
  jobs: number;
  checked: number;
  /** Checked jobs by status after their check. */
  statuses: Record<string, number>;
  /** Checks by outcome. */
  outcomes: Record<string, number>;
  results: ReconcileResult[];
  /** Why nothing could be asked (reconciliation off, a refused key). */
  error?: string;
}

/** The service refused in a way no other job would fare better with. */
class ServiceRefusal extends Error {}

/** The service's REST API, as `mh reconcile` uses it: JSON, Bearer key, a 429 waited out. */
function serviceClient(apiUrl: string, apiKey: string | undefined, concurrency: number) {
  const limit = concurrencyLimit(concurrency);
  const base = apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const call = async (method: string, path: string): Promise<{ status: number; body: unknown }> => {
    for (;;) {
      const response = await limit(() =>
        fetch(new URL(path, base), { method, headers, signal: AbortSignal.timeout(DEFAULTS.requestTimeoutMs) }),
      );
      const text = await response.text();
      if (response.status === 429) {
        await sleep(retryAfterMs(response));
        continue;
      }
      if (response.status === 401 || response.status === 403) {
        throw new ServiceRefusal(
          `${method} /${path.split('?')[0]} answered ${response.status}: set the API key with --api-key or MH_API_KEY`,
        );
      }
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: kept as text for the message.
      }
      return { status: response.status, body };
    }
  };
  return { call };
}

const messageOf = (body: unknown): string => {
  const message = (body as { message?: unknown } | null)?.message;
  return Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : JSON.stringify(body).slice(0, 200);
};

/**
 * Whether a worker has checked the job since `requestedAt` (the `lastCheckedAt` the request set): it
 * claimed it (a later `lastCheckedAt`) and finished (its next check is no longer the claim's lease).
 */
function checkedSince(job: JobView, requestedAt: string | null): boolean {
  const state = job.reconciliation;
  if (!state?.lastCheckedAt || (requestedAt !== null && Date.parse(state.lastCheckedAt) <= Date.parse(requestedAt))) return false;
  if (state.lastOutcome === null) return false;
  return state.nextCheckAt === null || Date.parse(state.nextCheckAt) - Date.parse(state.lastCheckedAt) !== CLAIM_LEASE_MS;
}

/** `mh reconcile`: one pass of reconciliation (or one job's check), asked of a running service. */
export const reconcileCommand: CliCommand = {
  name: 'reconcile',
  summary: "ask a running service to check one job, or every unfinished one, with Magic Hour's API now",
  help: HELP,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values } = parseFlags(args, FLAGS);
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const { apiUrl, apiKey } = commonOptions(values, io.env);
    if (values.job !== undefined && !/^[\x21-\x7e]{1,200}$/.test(values.job)) {
      throw new UsageError('--job must be 1 to 200 printable ASCII characters without spaces');
    }
    const waitMs = numberFlag('wait-ms', values['wait-ms'], DEFAULTS.waitMs, { min: 0, max: 86_400_000, integer: true });
    const concurrency = numberFlag('concurrency', values.concurrency, DEFAULTS.concurrency, { min: 1, max: 1000, integer: true });
    const service = serviceClient(apiUrl, apiKey, concurrency);

    let summary: ReconcileSummary;
    try {
      const ids = values.job !== undefined ? [values.job] : await unfinishedJobs(service);
      summary = await reconcileJobs(service, ids, waitMs, apiUrl);
    } catch (error) {
      if (!(error instanceof ServiceRefusal)) throw error;
      summary = { ok: false, apiUrl, jobs: 0, checked: 0, statuses: {}, outcomes: {}, results: [], error: error.message };
    }
    io.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatReconcileSummary(summary));
    return summary.ok ? 0 : 1;
  },
};

type ServiceClient = ReturnType<typeof serviceClient>;

/** Every unfinished job's id, newest first, from `GET /jobs?status=queued` and `?status=rendering`. */
async function unfinishedJobs(service: ServiceClient): Promise<string[]> {
  const ids: string[] = [];
  for (const status of ['queued', 'rendering']) {
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ status, limit: '100', ...(cursor ? { cursor } : {}) });
      const { status: code, body } = await service.call('GET', `jobs?${query.toString()}`);
      if (code !== 200) throw new ServiceRefusal(`GET /jobs answered ${code}: ${messageOf(body)}`);
      const page = body as { items: JobView[]; nextCursor: string | null };
      ids.push(...page.items.map((job) => job.id));
      cursor = page.nextCursor;
    } while (cursor);
  }
  return ids;
}

/** Asks for each job's check, then waits until each was checked or `waitMs` passes. */
async function reconcileJobs(service: ServiceClient, ids: readonly string[], waitMs: number, apiUrl: string): Promise<ReconcileSummary> {
  const results: ReconcileResult[] = [];
  const waiting: Array<{ result: ReconcileResult; requestedAt: string | null }> = [];
  await Promise.all(
    ids.map(async (id) => {
      const { status, body } = await service.call('POST', `jobs/${encodeURIComponent(id)}/reconcile`);
      if (status === 409 && /reconciliation is off/i.test(messageOf(body))) {
        throw new ServiceRefusal(`the service answered 409: ${messageOf(body)}`);
      }
      if (status !== 202) {
        results.push({
          id,
          before: status === 404 ? 'not found' : '–',
          after: '–',
          outcome: null,
          checked: false,
          problem: `${status} ${messageOf(body)}`,
        });
        return;
      }
      const job = body as JobView;
      const result: ReconcileResult = { id, before: job.status, after: job.status, outcome: null, checked: false };
      results.push(result);
      waiting.push({ result, requestedAt: job.reconciliation?.lastCheckedAt ?? null });
    }),
  );

  const deadline = Date.now() + waitMs;
  let pending = waiting;
  while (pending.length > 0) {
    const seen = await Promise.all(
      pending.map(async (entry) => {
        const { status, body } = await service.call('GET', `jobs/${encodeURIComponent(entry.result.id)}`).catch((error: Error) => ({
          status: 0,
          body: { message: error instanceof ServiceRefusal ? error.message : describeFetchError(error, DEFAULTS.requestTimeoutMs) },
        }));
        if (status !== 200) return false;
        const job = body as JobView;
        entry.result.after = job.status;
        if (!checkedSince(job, entry.requestedAt)) return false;
        entry.result.checked = true;
        entry.result.outcome = job.reconciliation?.lastOutcome ?? null;
        // An event recorded from the API is applied by the worker's queue a moment later: wait for it.
        return !(entry.result.outcome === 'applied' && UNFINISHED.has(job.status));
      }),
    );
    pending = pending.filter((_, index) => !seen[index]);
    if (pending.length === 0 || Date.now() >= deadline) break;
    await sleep(DEFAULTS.pollMs);
  }
  for (const { result } of pending) if (!result.checked) result.problem = `not checked within ${waitMs} ms`;

  const checked = results.filter((result) => result.checked);
  const tally = (values: string[]) => {
    const counts: Record<string, number> = {};
    for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
    return counts;
  };
  results.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
  return {
    ok: checked.length === results.length,
    apiUrl,
    jobs: results.length,
    checked: checked.length,
    statuses: tally(checked.map((result) => result.after)),
    outcomes: tally(checked.map((result) => result.outcome ?? 'none')),
    results,
  };
}

/** The summary for a terminal. */
export function formatReconcileSummary(s: ReconcileSummary): string {
  const counts = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([name, n]) => `${n} ${name}`)
      .join(', ') || 'none';
  if (s.error !== undefined) return `mh reconcile: ${s.apiUrl}\n  failed: ${s.error}\nFAILED\n`;
  const lines = [
    `mh reconcile: ${s.jobs} job${s.jobs === 1 ? '' : 's'} asked about at ${s.apiUrl}`,
    `  checked    ${s.checked} of ${s.jobs} with Magic Hour's API (outcomes: ${counts(s.outcomes)})`,
    `  now        ${counts(s.statuses)}`,
  ];
  const shown = s.results.filter((result) => result.before !== result.after || !result.checked).slice(0, 50);
  for (const result of shown) {
    lines.push(`    ${result.id}: ${result.checked ? `${result.before} -> ${result.after} (${result.outcome})` : result.problem}`);
  }
  lines.push(s.ok ? 'OK' : 'FAILED');
  return `${lines.join('\n')}\n`;
}

import { randomInt } from 'node:crypto';
import { checkJobStatuses, StatusCheckError, type StatusCheckResult } from '../simulator/job-status.check.js';
import { planLifecycles, type JobPlan } from '../simulator/lifecycle.js';
import { seededRandom } from '../simulator/random.js';
import { deliverLifecycles, type DeliveryTotals } from '../simulator/simulation.js';
import type { CliCommand } from './cli-command.js';
import { COMMON_FLAGS, COMMON_HELP, commonOptions, httpUrl, numberFlag, parseFlags, rateFlag, type CliIo } from './cli-options.js';

/** Defaults: quick enough for a local run, where Magic Hour itself waits 1 s, 2 s, 4 s, ... for 24 hours. */
export const SIMULATE_DEFAULTS = {
  jobs: 20,
  concurrency: 8,
  failureRate: 0.1,
  maxRetries: 5,
  backoffBaseMs: 250,
  backoffCapMs: 4000,
  timeoutMs: 10_000,
  checkTimeoutMs: 30_000,
} as const;

const D = SIMULATE_DEFAULTS;

const HELP = `Usage: mh simulate [--jobs N] [--concurrency C] [--failure-rate r] [--duplicates p]
                   [--out-of-order p] [--skip-started p] [options]

Plays Magic Hour's side: N job lifecycles spread over video, image and audio, each "started" then
"completed" (or "errored"), with realistic payloads, signed, POSTed to the webhook URL. A job's events go
out one after the other; any answer but 2xx (or none within --timeout-ms) is retried with exponential
backoff while the job's next event goes ahead. Then it reads GET /jobs/:id until every job shows the
status its last event implies ("complete" or "error"), and prints a summary.
Exit code 0 when every event was delivered and every job checked out; 1 otherwise; 2 for bad usage.

Job lifecycles:
  --jobs <N>             jobs to simulate (default ${D.jobs})
  --concurrency <C>      most requests in flight at once (default ${D.concurrency})
  --failure-rate <r>     fraction of jobs that end "errored" instead of "completed" (default ${D.failureRate})
  --duplicates <p>       probability an event is delivered twice, both copies at once (default 0)
  --out-of-order <p>     probability a job's final event is sent before its "started" (default 0)
  --skip-started <p>     probability a job's "started" is never sent (default 0)
  --seed <n>             replay the same plan (which jobs fail, repeat, reorder); printed in the summary
  --outputs-url <url>    serve the outputs from <url>/<job id>/<file> instead of Magic Hour's hosts (to try
                         the download handler, DOWNLOAD_DIR, against a file server of your own)

Retries (Magic Hour waits 1 s, 2 s, 4 s, 8 s, ... for up to 24 hours; the defaults are shorter so a
local run ends quickly; --backoff-base-ms 1000 --backoff-cap-ms 86400000 --max-retries 16 is Magic Hour's):
  --max-retries <n>      retries of one delivery before it is given up (default ${D.maxRetries})
  --backoff-base-ms <ms> wait before the first retry; each later one waits twice as long (default ${D.backoffBaseMs})
  --backoff-cap-ms <ms>  longest wait between two attempts (default ${D.backoffCapMs})
  --timeout-ms <ms>      no answer within this is a failed attempt (default ${D.timeoutMs}, as Magic Hour)

Status check:
  --check-timeout-ms <ms> how long to wait for every job to reach its status (default ${D.checkTimeoutMs})
  --no-check             skip GET /jobs/:id (for an endpoint that is not this service)

Output:
  --json                 print the summary as JSON
  --verbose              print every attempt on stderr
${COMMON_HELP}

Example:
  npx mh simulate --jobs 200 --concurrency 16 --failure-rate 0.2 --duplicates 0.3 --out-of-order 0.3 --skip-started 0.2`;

const FLAGS = {
  ...COMMON_FLAGS,
  jobs: { type: 'string' },
  concurrency: { type: 'string' },
  'failure-rate': { type: 'string' },
  duplicates: { type: 'string' },
  'out-of-order': { type: 'string' },
  'skip-started': { type: 'string' },
  seed: { type: 'string' },
  'outputs-url': { type: 'string' },
  'max-retries': { type: 'string' },
  'backoff-base-ms': { type: 'string' },
  'backoff-cap-ms': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'check-timeout-ms': { type: 'string' },
  'no-check': { type: 'boolean' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const;

/** Everything `mh simulate` reports; `--json` prints exactly this. */
export interface SimulationSummary extends Omit<DeliveryTotals, 'jobsGivenUp'> {
  ok: boolean;
  url: string;
  seed: number;
  jobs: number;
  media: Record<string, number>;
  plan: {
    /** Distinct events (each job's started, unless skipped, and its final event). */
    events: number;
    complete: number;
    error: number;
    skippedStarted: number;
    outOfOrder: number;
    /** Events delivered twice. */
    duplicated: number;
  };
  /** `null` with `--no-check`. */
  check: (StatusCheckResult & { error?: string }) | null;
}

/** `mh simulate`: Magic Hour's side of many jobs, faults included, then a check of the outcome. */
export const simulateCommand: CliCommand = {
  name: 'simulate',
  summary: 'play Magic Hour: many signed job lifecycles with retries, duplicates and reordering, then check',
  help: HELP,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values } = parseFlags(args, FLAGS);
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const common = commonOptions(values, io.env);
    const jobs = numberFlag('jobs', values.jobs, D.jobs, { min: 1, max: 100_000, integer: true });
    const concurrency = numberFlag('concurrency', values.concurrency, D.concurrency, { min: 1, max: 10_000, integer: true });
    const rates = {
      failureRate: rateFlag('failure-rate', values['failure-rate'], D.failureRate),
      duplicates: rateFlag('duplicates', values.duplicates, 0),
      outOfOrder: rateFlag('out-of-order', values['out-of-order'], 0),
      skipStarted: rateFlag('skip-started', values['skip-started'], 0),
    };
    const seed = numberFlag('seed', values.seed, randomInt(2 ** 31), { min: 0, max: 2 ** 32 - 1, integer: true });
    const backoff = {
      maxRetries: numberFlag('max-retries', values['max-retries'], D.maxRetries, { min: 0, max: 100, integer: true }),
      baseMs: numberFlag('backoff-base-ms', values['backoff-base-ms'], D.backoffBaseMs, { min: 0, max: 86_400_000, integer: true }),
      capMs: numberFlag('backoff-cap-ms', values['backoff-cap-ms'], D.backoffCapMs, { min: 0, max: 86_400_000, integer: true }),
    };
    const timeoutMs = numberFlag('timeout-ms', values['timeout-ms'], D.timeoutMs, { min: 1, max: 600_000, integer: true });
    const checkTimeoutMs = numberFlag('check-timeout-ms', values['check-timeout-ms'], D.checkTimeoutMs, {
      min: 0,
      max: 86_400_000,
      integer: true,
    });

    const plans = planLifecycles(jobs, rates, seededRandom(seed), new Date(), outputsUrlFlag(values['outputs-url']));
    const totals = await deliverLifecycles(plans, {
      url: common.url,
      secret: common.secret,
      concurrency,
      timeoutMs,
      backoff,
      onAttempt: values.verbose
        ? ({ type, projectId, attempt, outcome }) =>
            io.stderr.write(`${type} ${projectId} attempt ${attempt}: ${outcome.status ?? 'no answer'} ${outcome.detail.slice(0, 200)}\n`)
        : undefined,
    });

    let check: SimulationSummary['check'] = null;
    if (!values['no-check']) {
      const givenUp = new Set(totals.jobsGivenUp);
      const expectations = plans.map((plan) => ({
        id: plan.project.id,
        media: plan.project.media,
        expected: plan.expectedStatus,
        wait: !givenUp.has(plan.project.id),
      }));
      try {
        check = await checkJobStatuses(expectations, {
          apiUrl: common.apiUrl,
          apiKey: common.apiKey,
          timeoutMs: checkTimeoutMs,
          concurrency,
        });
      } catch (error) {
        if (!(error instanceof StatusCheckError)) throw error;
        check = { checked: 0, ok: 0, mismatched: [], error: error.message };
      }
    }

    const summary = summarize(common.url, seed, plans, totals, check);
    io.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
    return summary.ok ? 0 : 1;
  },
};

/** `--outputs-url`: an http(s) URL, without a trailing slash. */
function outputsUrlFlag(value: string | undefined): string | undefined {
  return value === undefined ? undefined : httpUrl('--outputs-url', value).replace(/\/+$/, '');
}

function summarize(
  url: string,
  seed: number,
  plans: readonly JobPlan[],
  totals: DeliveryTotals,
  check: SimulationSummary['check'],
): SimulationSummary {
  const count = (predicate: (plan: JobPlan) => boolean) => plans.filter(predicate).length;
  const media: Record<string, number> = {};
  for (const plan of plans) media[plan.project.media] = (media[plan.project.media] ?? 0) + 1;
  const checkOk = check === null || (check.error === undefined && check.mismatched.length === 0);
  return {
    ok: totals.givenUp === 0 && checkOk,
    url,
    seed,
    jobs: plans.length,
    media,
    plan: {
      events: plans.reduce((sum, plan) => sum + plan.events.length, 0),
      complete: count((plan) => plan.expectedStatus === 'complete'),
      error: count((plan) => plan.expectedStatus === 'error'),
      skippedStarted: count((plan) => plan.skippedStarted),
      outOfOrder: count((plan) => plan.outOfOrder),
      duplicated: plans.reduce((sum, plan) => sum + plan.events.filter((event) => event.copies === 2).length, 0),
    },
    deliveries: totals.deliveries,
    sent: totals.sent,
    retried: totals.retried,
    delivered: totals.delivered,
    givenUp: totals.givenUp,
    answeredDuplicate: totals.answeredDuplicate,
    answers: totals.answers,
    check,
  };
}

/** The summary for a terminal. */
export function formatSummary(s: SimulationSummary): string {
  const media = Object.entries(s.media)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ');
  const answers = Object.entries(s.answers)
    .map(([answer, n]) => `${answer} x${n}`)
    .join(', ');
  const lines = [
    `mh simulate: ${s.jobs} jobs (${media}) to ${s.url}, seed ${s.seed}`,
    `  planned    ${s.plan.events} events: ${s.plan.complete} jobs to complete, ${s.plan.error} to error; ` +
      `${s.plan.skippedStarted} without started, ${s.plan.outOfOrder} out of order, ${s.plan.duplicated} events sent twice`,
    `  sent       ${s.sent} requests for ${s.deliveries} deliveries (answers: ${answers || 'none'})`,
    `  retried    ${s.retried}`,
    `  delivered  ${s.delivered} of ${s.deliveries} (${s.answeredDuplicate} answered as a duplicate)`,
    `  given up   ${s.givenUp}`,
  ];
  if (s.check === null) lines.push('  check      skipped (--no-check)');
  else if (s.check.error !== undefined) lines.push(`  check      failed: ${s.check.error}`);
  else {
    lines.push(`  check      ${s.check.ok} of ${s.check.checked} jobs reached their final status (GET /jobs/:id)`);
    const shown = s.check.mismatched.slice(0, 20);
    for (const m of shown) lines.push(`    ${m.id} (${m.media}): expected ${m.expected}, got ${m.actual}`);
    if (s.check.mismatched.length > shown.length) lines.push(`    ... and ${s.check.mismatched.length - shown.length} more`);
  }
  lines.push(s.ok ? 'OK' : 'FAILED');
  return `${lines.join('\n')}\n`;
}

import { randomInt } from 'node:crypto';
import { startFakeMagicHourApi, type FakeMagicHourApi } from '../simulator/fake-magic-hour-api.js';
import { registerJobs, type RegistrationResult } from '../simulator/job-registration.js';
import { checkJobStatuses, StatusCheckError, type StatusCheckResult } from '../simulator/job-status.check.js';
import { planLifecycles, type JobPlan } from '../simulator/lifecycle.js';
import { seededRandom } from '../simulator/random.js';
import { SimulatedProjects } from '../simulator/simulated-projects.js';
import { deliverLifecycles, type DeliveryTotals } from '../simulator/simulation.js';
import type { CliCommand } from './cli-command.js';
import {
  COMMON_FLAGS,
  COMMON_HELP,
  commonOptions,
  httpUrl,
  numberFlag,
  parseFlags,
  rateFlag,
  UsageError,
  type CliIo,
} from './cli-options.js';

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
  /** With the fake API the service must first notice the jobs without news and ask about them. */
  fakeApiCheckTimeoutMs: 60_000,
  fakeApiHost: '127.0.0.1',
} as const;

const D = SIMULATE_DEFAULTS;

const HELP = `Usage: mh simulate [--jobs N] [--concurrency C] [--failure-rate r] [--duplicates p]
                   [--out-of-order p] [--skip-started p] [--lose r] [--cancel r]
                   [--fake-api-port P] [options]

Plays Magic Hour's side: N job lifecycles spread over video, image and audio, each "started" then
"completed" (or "errored"), with realistic payloads, signed, POSTed to the webhook URL. A job's events go
out one after the other; any answer but 2xx (or none within --timeout-ms) is retried with exponential
backoff while the job's next event goes ahead. Then it reads GET /jobs/:id until every job shows its
true final status ("complete", "error" or "canceled"), and prints a summary.
Exit code 0 when every job checked out (and, without the fake API, every event was delivered); 1
otherwise, with what was wrong; 2 for bad usage.

Job lifecycles:
  --jobs <N>             jobs to simulate (default ${D.jobs})
  --concurrency <C>      most requests in flight at once (default ${D.concurrency})
  --failure-rate <r>     fraction of jobs that end "errored" instead of "completed" (default ${D.failureRate})
  --duplicates <p>       probability an event is delivered twice, both copies at once (default 0)
  --out-of-order <p>     probability a job's final event is sent before its "started" (default 0)
  --skip-started <p>     probability a job's "started" is never sent (default 0)
  --lose <r>             fraction of jobs that get no webhook at all (default 0; needs --fake-api-port)
  --cancel <r>           fraction of jobs canceled at Magic Hour after they start: no final webhook, as
                         Magic Hour sends none for a cancel (default 0; needs --fake-api-port)
  --seed <n>             replay the same plan (which jobs fail, repeat, reorder); printed in the summary
  --outputs-url <url>    serve the outputs from <url>/<job id>/<file> instead of Magic Hour's hosts (to try
                         the download handler, DOWNLOAD_DIR, against a file server of your own)

Magic Hour's API (reconciliation):
  --fake-api-port <P>    start a fake of Magic Hour's API on this port for the run; it answers
                         GET /v1/{video|image|audio}-projects/:id with each project's true state (queued,
                         rendering, then its final status). Every job is first registered with POST /jobs,
                         as a company does when it creates the project, and a given-up delivery no longer
                         fails the run: the service must find out from the API.
  --fake-api-host <host> the address it listens on (default ${D.fakeApiHost}; 0.0.0.0 for a service in a container)
  --fake-api-key <key>   answer 401 unless the service sends this key (default: any key is taken)
  Start the service pointed at it, with short reconcile settings, for example:
    MAGIC_HOUR_API_KEY=mhk_sim MAGIC_HOUR_API_URL=http://127.0.0.1:4010 RECONCILE_AFTER_SECONDS=2 \\
    RECONCILE_INTERVAL_MS=500 RECONCILE_MAX_PER_SECOND=20 API_RATE_LIMIT=100000 npm start
    npx mh simulate --jobs 200 --lose 0.2 --cancel 0.1 --fake-api-port 4010

Retries (Magic Hour waits 1 s, 2 s, 4 s, 8 s, ... for up to 24 hours; the defaults are shorter so a
local run ends quickly; --backoff-base-ms 1000 --backoff-cap-ms 86400000 --max-retries 16 is Magic Hour's):
  --max-retries <n>      retries of one delivery before it is given up (default ${D.maxRetries})
  --backoff-base-ms <ms> wait before the first retry; each later one waits twice as long (default ${D.backoffBaseMs})
  --backoff-cap-ms <ms>  longest wait between two attempts (default ${D.backoffCapMs})
  --timeout-ms <ms>      no answer within this is a failed attempt (default ${D.timeoutMs}, as Magic Hour)

Status check:
  --check-timeout-ms <ms> how long to wait for every job to reach its status (default ${D.checkTimeoutMs},
                         ${D.fakeApiCheckTimeoutMs} with --fake-api-port). An answer 429 (over API_RATE_LIMIT, 600
                         requests a minute by default: raise it for runs of hundreds of jobs) is waited out.
  --no-check             skip GET /jobs/:id (for an endpoint that is not this service)

Output:
  --json                 print the summary as JSON
  --verbose              print every attempt on stderr
${COMMON_HELP}

Examples:
  npx mh simulate --jobs 200 --concurrency 16 --failure-rate 0.2 --duplicates 0.3 --out-of-order 0.3 --skip-started 0.2
  npx mh simulate --jobs 200 --lose 0.2 --cancel 0.1 --fake-api-port 4010`;

const FLAGS = {
  ...COMMON_FLAGS,
  jobs: { type: 'string' },
  concurrency: { type: 'string' },
  'failure-rate': { type: 'string' },
  duplicates: { type: 'string' },
  'out-of-order': { type: 'string' },
  'skip-started': { type: 'string' },
  lose: { type: 'string' },
  cancel: { type: 'string' },
  'fake-api-port': { type: 'string' },
  'fake-api-host': { type: 'string' },
  'fake-api-key': { type: 'string' },
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
    /** Jobs canceled at Magic Hour (no final webhook). */
    canceled: number;
    /** Jobs that got no webhook at all. */
    lost: number;
  };
  /** `POST /jobs` before the webhooks; `null` without the fake API. */
  registration: (RegistrationResult & { error?: string }) | null;
  /** What the service asked the fake of Magic Hour's API; `null` without it. */
  fakeApi: FakeApiReport | null;
  /** `null` with `--no-check`. */
  check: (StatusCheckResult & { error?: string }) | null;
}

/** The requests the fake of Magic Hour's API got during a run. */
export interface FakeApiReport {
  url: string;
  requests: number;
  /** How many requests got each HTTP status. */
  answers: Record<string, number>;
  /** Most requests within any one second. */
  peakPerSecond: number;
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
      lose: rateFlag('lose', values.lose, 0),
      cancel: rateFlag('cancel', values.cancel, 0),
    };
    const seed = numberFlag('seed', values.seed, randomInt(2 ** 31), { min: 0, max: 2 ** 32 - 1, integer: true });
    const backoff = {
      maxRetries: numberFlag('max-retries', values['max-retries'], D.maxRetries, { min: 0, max: 100, integer: true }),
      baseMs: numberFlag('backoff-base-ms', values['backoff-base-ms'], D.backoffBaseMs, { min: 0, max: 86_400_000, integer: true }),
      capMs: numberFlag('backoff-cap-ms', values['backoff-cap-ms'], D.backoffCapMs, { min: 0, max: 86_400_000, integer: true }),
    };
    const timeoutMs = numberFlag('timeout-ms', values['timeout-ms'], D.timeoutMs, { min: 1, max: 600_000, integer: true });

    const fakeApiPort =
      values['fake-api-port'] === undefined
        ? null
        : numberFlag('fake-api-port', values['fake-api-port'], 0, { min: 1, max: 65_535, integer: true });
    if (fakeApiPort === null && (rates.lose > 0 || rates.cancel > 0)) {
      throw new UsageError("--lose and --cancel need --fake-api-port: only Magic Hour's API can tell the service about those jobs");
    }
    const checkTimeoutMs = numberFlag(
      'check-timeout-ms',
      values['check-timeout-ms'],
      fakeApiPort === null ? D.checkTimeoutMs : D.fakeApiCheckTimeoutMs,
      { min: 0, max: 86_400_000, integer: true },
    );

    const plans = planLifecycles(jobs, rates, seededRandom(seed), new Date(), outputsUrlFlag(values['outputs-url']));
    let fake: FakeMagicHourApi | null = null;
    if (fakeApiPort !== null) {
      const host = values['fake-api-host'] ?? D.fakeApiHost;
      try {
        fake = await startFakeMagicHourApi({ port: fakeApiPort, host, token: values['fake-api-key'] });
      } catch (error) {
        io.stderr.write(`mh simulate: could not start the fake API on ${host}:${fakeApiPort}: ${(error as Error).message}\n`);
        return 1;
      }
    }
    try {
      const projects = fake && new SimulatedProjects(fake);
      let registration: SimulationSummary['registration'] = null;
      if (projects) {
        for (const plan of plans) projects.created(plan);
        try {
          registration = await registerJobs(plans, { apiUrl: common.apiUrl, apiKey: common.apiKey, concurrency });
        } catch (error) {
          if (!(error instanceof StatusCheckError)) throw error;
          registration = { registered: 0, failed: [], error: error.message };
        }
      }

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
        onSending: projects ? (plan, event) => projects.sending(plan, event) : undefined,
        onJobSent: projects ? (plan) => projects.finished(plan) : undefined,
      });

      let check: SimulationSummary['check'] = null;
      if (!values['no-check'] && registration?.error === undefined) {
        // With the fake API every job can still reach its status, whatever became of its webhooks.
        const givenUp = new Set(fake ? [] : totals.jobsGivenUp);
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
          check = { checked: 0, ok: 0, mismatched: [], fromApi: 0, error: error.message };
        }
      }

      const summary = summarize(common.url, seed, plans, totals, { registration, fakeApi: fake && fakeApiReport(fake), check });
      io.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      return summary.ok ? 0 : 1;
    } finally {
      await fake?.close();
    }
  },
};

/** `--outputs-url`: an http(s) URL, without a trailing slash. */
function outputsUrlFlag(value: string | undefined): string | undefined {
  return value === undefined ? undefined : httpUrl('--outputs-url', value).replace(/\/+$/, '');
}

/** What the fake API was asked during the run. */
function fakeApiReport(fake: FakeMagicHourApi): FakeApiReport {
  const answers: Record<string, number> = {};
  const perSecond = new Map<number, number>();
  for (const request of fake.requests) {
    answers[request.answeredStatus] = (answers[request.answeredStatus] ?? 0) + 1;
    const second = Math.floor(request.at / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  return { url: fake.url, requests: fake.requests.length, answers, peakPerSecond: Math.max(0, ...perSecond.values()) };
}

function summarize(
  url: string,
  seed: number,
  plans: readonly JobPlan[],
  totals: DeliveryTotals,
  outcome: Pick<SimulationSummary, 'registration' | 'fakeApi' | 'check'>,
): SimulationSummary {
  const { registration, fakeApi, check } = outcome;
  const count = (predicate: (plan: JobPlan) => boolean) => plans.filter(predicate).length;
  const media: Record<string, number> = {};
  for (const plan of plans) media[plan.project.media] = (media[plan.project.media] ?? 0) + 1;
  const checkOk = check === null || (check.error === undefined && check.mismatched.length === 0);
  const registrationOk = registration === null || (registration.error === undefined && registration.failed.length === 0);
  // With the fake API a given-up delivery is what the service must recover from; the check says whether it did.
  const deliveryOk = fakeApi !== null || totals.givenUp === 0;
  return {
    ok: deliveryOk && registrationOk && checkOk,
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
      canceled: count((plan) => plan.canceled),
      lost: count((plan) => plan.lost),
    },
    deliveries: totals.deliveries,
    sent: totals.sent,
    retried: totals.retried,
    delivered: totals.delivered,
    givenUp: totals.givenUp,
    answeredDuplicate: totals.answeredDuplicate,
    answers: totals.answers,
    registration,
    fakeApi,
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
  ];
  if (s.plan.lost > 0 || s.plan.canceled > 0) {
    lines.push(`  no news    ${s.plan.lost} jobs get no webhook at all; ${s.plan.canceled} are canceled, with no final webhook`);
  }
  if (s.registration !== null) {
    if (s.registration.error !== undefined) lines.push(`  registered failed: ${s.registration.error}`);
    else lines.push(`  registered ${s.registration.registered} of ${s.jobs} jobs with POST /jobs`);
    const shown = s.registration.failed.slice(0, 20);
    for (const f of shown) lines.push(`    ${f.id} (${f.media}): ${f.answer}`);
    if (s.registration.failed.length > shown.length) lines.push(`    ... and ${s.registration.failed.length - shown.length} more`);
  }
  lines.push(
    `  sent       ${s.sent} requests for ${s.deliveries} deliveries (answers: ${answers || 'none'})`,
    `  retried    ${s.retried}`,
    `  delivered  ${s.delivered} of ${s.deliveries} (${s.answeredDuplicate} answered as a duplicate)`,
    `  given up   ${s.givenUp}`,
  );
  if (s.fakeApi !== null) {
    const apiAnswers = Object.entries(s.fakeApi.answers)
      .map(([answer, n]) => `${answer} x${n}`)
      .join(', ');
    lines.push(
      `  fake API   ${s.fakeApi.url} was asked ${s.fakeApi.requests} times (answers: ${apiAnswers || 'none'}), ` +
        `at most ${s.fakeApi.peakPerSecond} in one second`,
    );
  }
  if (s.check === null) lines.push('  check      skipped (--no-check)');
  else if (s.check.error !== undefined) lines.push(`  check      failed: ${s.check.error}`);
  else {
    const fromApi = s.check.fromApi > 0 ? `, ${s.check.fromApi} of them with news from Magic Hour's API` : '';
    lines.push(`  check      ${s.check.ok} of ${s.check.checked} jobs reached their final status (GET /jobs/:id)${fromApi}`);
    const shown = s.check.mismatched.slice(0, 20);
    for (const m of shown) lines.push(`    ${m.id} (${m.media}): expected ${m.expected}, got ${m.actual}`);
    if (s.check.mismatched.length > shown.length) lines.push(`    ... and ${s.check.mismatched.length - shown.length} more`);
  }
  lines.push(s.ok ? 'OK' : 'FAILED');
  return `${lines.join('\n')}\n`;
}

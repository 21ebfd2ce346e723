import type { WebhookOutcome } from '../metrics/metrics.service.js';

export type { WebhookOutcome };

/** The outcome of a delivery that was answered 200. */
export function outcomeOf(result: { duplicate: boolean; quarantined?: true; ignored?: true }): WebhookOutcome {
  if (result.duplicate) return 'duplicate';
  if (result.quarantined) return 'quarantined';
  if (result.ignored) return 'ignored';
  return 'stored';
}

/**
 * The level of a delivery's log line. Deliveries that went as expected log at debug, so that the hot
 * path writes nothing at the default level; anything an operator should look at logs at warn. (A 503's
 * cause is logged once per batch, as an error, by the batcher; a 500 is a bug and logs at error.)
 */
export const OUTCOME_LOG_LEVEL: Record<WebhookOutcome, 'debug' | 'info' | 'warn' | 'error'> = {
  stored: 'debug',
  duplicate: 'debug',
  ignored: 'info',
  quarantined: 'warn',
  rejected: 'warn',
  stale: 'warn',
  error: 'warn',
  aborted: 'warn',
};

/**
 * What became of one delivery to `POST /webhook`: the `outcome` of its metric and its log line.
 * `rejected` is a 4xx (signature, body, encoding, size), `stale` a 401 for an authentic delivery signed
 * outside the tolerance (recorded, not processed), `error` a 5xx (the event could not be stored).
 * To add an outcome, add it here and to `outcomeOf`; the typecheck then asks for its log level.
 */
export const WEBHOOK_OUTCOMES = ['stored', 'duplicate', 'quarantined', 'ignored', 'rejected', 'stale', 'error'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

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
};

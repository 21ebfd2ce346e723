/** Base of the errors services throw; `HttpErrorFilter` maps each to an HTTP answer. */
export abstract class DomainError extends Error {
  override readonly name: string = this.constructor.name;
}

/** A request body that is not a valid webhook event, when it cannot be kept (signing is off). */
export class InvalidWebhookError extends DomainError {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid webhook event: ${problems.join('; ')}`);
  }
}

/** Postgres could not store or read what was asked; the sender should try again. */
export class StorageUnavailableError extends DomainError {
  constructor(cause: unknown) {
    super('Storage is unavailable; try again later', { cause });
  }
}

/** A job that does not exist. */
export class JobNotFoundError extends DomainError {
  constructor(readonly jobId: string) {
    super(`Job ${jobId} not found`);
  }
}

/** A request parameter that is well-typed but not usable, such as a cursor from elsewhere. */
export class InvalidRequestError extends DomainError {}

/** An event that is not stored. */
export class EventNotFoundError extends DomainError {
  constructor(readonly eventId: string) {
    super(`Event ${eventId} not found`);
  }
}

/** A request that the current state does not allow, such as replaying an event that did not fail. */
export class ConflictError extends DomainError {}

/** A replayed event that still does not validate; `problems` says why. */
export class StillInvalidError extends DomainError {
  constructor(readonly problems: readonly string[]) {
    super(`The event still does not validate: ${problems.join('; ')}`);
  }
}

/** Magic Hour's API could not answer now (refused, rate limited, down); try again later. */
export class UpstreamUnavailableError extends DomainError {}

/** Magic Hour's API answered, but not with what was asked for (it does not know the job). */
export class UpstreamError extends DomainError {}

/** `thrown` as an Error: what a catch block receives need not be one. */
export const asError = (thrown: unknown): Error => (thrown instanceof Error ? thrown : new Error(String(thrown)));

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

/** A queued event that is not in the inbox (deleted, or from another database): nothing to retry. */
export class EventNotFoundError extends DomainError {
  constructor(readonly eventId: string) {
    super(`Event ${eventId} is not stored`);
  }
}

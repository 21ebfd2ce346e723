import { SetMetadata, type Type } from '@nestjs/common';
import type { EventPattern } from './magic-hour-event.js';

/** Metadata key under which `@OnMagicHourEvent` stores a method's patterns. */
export const MAGIC_HOUR_HANDLER = Symbol('MAGIC_HOUR_HANDLER');

/** Every class that declared a handler, so the start can refuse one that is not a provider. */
export const DECLARED_HANDLER_CLASSES = new Set<Type>();

/**
 * Runs the decorated method for the matching Magic Hour events, in the worker, after the event has
 * been applied to its job. Patterns: an exact type (`'video.completed'`, `'video.canceled'`), every
 * event of one media (`'video.*'`), one action of every media (`'*.canceled'`) or every event (`'*'`).
 * `<media>.canceled` events come from the reconciler, which reads them from Magic Hour's API. The class must be a provider listed in `HandlersModule`
 * (`src/handlers/handlers.module.ts`); the start fails with a clear message otherwise, or for an
 * unknown type. Each run is recorded, retried with backoff on its own when it throws, and kept as a
 * dead letter after its last attempt.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class NotifyOnFinish {
 *   @OnMagicHourEvent('video.completed', 'image.*')
 *   async notify(event: MagicHourEvent, job: JobResponse, context: HandlerContext) { ... }
 * }
 * ```
 */
export function OnMagicHourEvent(...patterns: [EventPattern, ...EventPattern[]]): MethodDecorator {
  const setMetadata = SetMetadata(MAGIC_HOUR_HANDLER, patterns);
  return (target, property, descriptor) => {
    // A method decorator gets the class's prototype, whose `constructor` is the class itself.
    DECLARED_HANDLER_CLASSES.add(target.constructor as Type);
    return setMetadata(target, property, descriptor);
  };
}

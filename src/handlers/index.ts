/**
 * The public entry point for writing event handlers: the decorator and the event types.
 * @packageDocumentation
 */
export { OnMagicHourEvent } from './on-magic-hour-event.decorator.js';
export {
  PermanentHandlerError,
  type AudioEvent,
  type EventPattern,
  type HandlerContext,
  type ImageEvent,
  type MagicHourEvent,
  type MagicHourEventHandler,
  type VideoEvent,
} from './magic-hour-event.js';
export type { JobResponse } from '../jobs/dto/job.response.js';

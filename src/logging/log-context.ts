import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every line logged in the current request or queue job carries (request id, event key, ...). */
export type LogBindings = Readonly<Record<string, unknown>>;

const storage = new AsyncLocalStorage<LogBindings>();

/** The bindings of the work under way, or `undefined` outside any. */
export const currentLogBindings = (): LogBindings | undefined => storage.getStore();

/**
 * Runs `work` with `bindings` added to those already in force, so that every line logged inside it,
 * through Nest's `Logger` or `PinoLogger`, carries them.
 */
export function runWithLogBindings<T>(bindings: LogBindings, work: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer ? { ...outer, ...bindings } : bindings, work);
}

/**
 * Every value sent for each of `names` (lower case), read from `rawHeaders`, where Node keeps each
 * occurrence as sent (its `headers` joins or drops repeats). The same answer as `headersDistinct` for
 * those names, without building it for every header of every delivery.
 */
export function distinctHeaders(rawHeaders: readonly string[], names: readonly string[]): Record<string, string[] | undefined> {
  const found: Record<string, string[] | undefined> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i];
    for (const name of names) {
      if (raw.length === name.length && raw.toLowerCase() === name) (found[name] ??= []).push(rawHeaders[i + 1]);
    }
  }
  return found;
}

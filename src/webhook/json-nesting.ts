/** Deepest nesting of arrays and objects intake accepts in a body, and the read paths show as JSON. */
export const JSON_DEPTH_MAX = 64;

/**
 * Whether `value` nests arrays and objects deeper than `max` (a bare `{}` is one level). It walks with
 * its own stack, not recursion, so that any depth JSON.parse accepted can be measured.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const current = values.pop();
    const depth = depths.pop()! + 1;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) {
        values.push(child);
        depths.push(depth);
      }
    }
  }
  return false;
}

/**
 * Stored JSON text as a value to show: parsed, or the text itself (a string) when it nests deeper
 * than `JSON_DEPTH_MAX`, since the recursive code that renders it (JSON.stringify, the console's
 * templates) would overflow the stack on it.
 */
export function showableJson(text: string | null): unknown {
  if (text === null) return null;
  const value: unknown = JSON.parse(text);
  return nestedDeeperThan(value, JSON_DEPTH_MAX) ? text : value;
}

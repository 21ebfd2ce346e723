/** One line an app wrote, parsed. */
export type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A log destination for `startApp` (`logDestination`) that keeps what the app writes, to assert on. */
export function captureLog(): { destination: { write(line: string): void }; text(): string; lines(): LogLine[] } {
  const written: string[] = [];
  const text = () => written.join('');
  return {
    destination: { write: (line: string) => void written.push(line) },
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LogLine),
  };
}

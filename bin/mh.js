#!/usr/bin/env node
// `mh`, this package's bin: plays Magic Hour's side against a webhook endpoint (see src/cli/). It runs
// the CLI as built by `npm run build`, which `npm ci` runs through the `prepare` script.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli', 'mh.js');
if (!existsSync(entry)) {
  process.stderr.write('mh: not built; run `npm ci` (or `npm run build`) in the repository first\n');
  process.exit(1);
}
await import(pathToFileURL(entry).href);

#!/usr/bin/env node
// `mh`, this package's bin: plays Magic Hour's side against a webhook endpoint (see src/cli/). The CLI is
// TypeScript compiled with the service by `npm run build`; this launcher builds first when dist/ is
// missing or older than src/, so `npx mh` works straight after `npm ci` without a `prepare` script
// slowing down every install.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'cli', 'mh.js');
const sources = join(root, 'src');

/** The newest modification time of a .ts file under `dir`. */
function newestSource(dir) {
  let newest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    if (item.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (item.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const built = existsSync(entry);
if (!built || (existsSync(sources) && newestSource(sources) > statSync(entry).mtimeMs)) {
  process.stderr.write(built ? 'mh: src/ changed since the last build; building\n' : 'mh: not built yet; building\n');
  // The build's own output goes to stderr, so that mh's stdout stays what the command prints.
  // tsc itself rather than `npm run build`, which empties dist/ first: a service running from dist/ (or
  // a second mh building at the same time) must not see its files vanish.
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) {
    if (!existsSync(entry)) {
      process.stderr.write('mh: the build failed (see above); run `npm ci` and `npm run build` in the repository, then try again\n');
      process.exit(1);
    }
    process.stderr.write('mh: the build failed (see above); running the previous build\n');
  }
}

await import(pathToFileURL(entry).href);

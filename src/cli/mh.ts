/**
 * The `mh` program (started by bin/mh.js). It is not the service: it hands the process's own environment
 * and streams to the CLI, whose option layer (cli-options.ts) is the only code reading them.
 */
import { main } from './main.js';

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env })
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    process.stderr.write(`mh: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });

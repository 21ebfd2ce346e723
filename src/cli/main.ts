import type { CliCommand } from './cli-command.js';
import { UsageError, type CliIo } from './cli-options.js';
import { reconcileCommand } from './reconcile.command.js';
import { sendCommand } from './send.command.js';
import { signCommand } from './sign.command.js';
import { simulateCommand } from './simulate.command.js';

/** Every `mh` command, in the order `mh --help` lists them. */
export const COMMANDS: readonly CliCommand[] = [sendCommand, simulateCommand, signCommand, reconcileCommand];

/** `mh --help`. */
export const TOOL_HELP = `mh: play Magic Hour's side against your webhook endpoint

Usage: mh <command> [options]      (npx mh ... from this repository)

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(10)} ${command.summary}`).join('\n')}

Run mh <command> --help for a command's options. Every command takes --url, --secret, --api-url and
--api-key, or the environment variables MH_WEBHOOK_URL, MH_WEBHOOK_SECRET, MH_API_URL and MH_API_KEY;
without them it talks to a service on http://localhost:3000.

Examples:
  npx mh send video.completed
  npx mh simulate --jobs 100 --failure-rate 0.2 --duplicates 0.3 --out-of-order 0.3 --skip-started 0.2
  curl http://localhost:3000/webhook -H @<(npx mh sign < body.json) --data-binary @body.json`;

/**
 * Runs `mh` with `argv` (the arguments after the program name) and resolves to its exit code: 0 done,
 * 1 the command ran and something failed (an answer, a delivery, a status), 2 bad usage.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr.write(`${TOOL_HELP}\n`);
    return 2;
  }
  if (name === '--help' || name === '-h') {
    io.stdout.write(`${TOOL_HELP}\n`);
    return 0;
  }
  if (name === 'help') {
    const command = COMMANDS.find((candidate) => candidate.name === args[0]);
    io.stdout.write(`${command ? command.help : TOOL_HELP}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.stderr.write(`mh: unknown command '${name}'. Commands: ${COMMANDS.map((c) => c.name).join(', ')}; see mh --help\n`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`mh ${command.name}: ${error.message}\nSee mh ${command.name} --help\n`);
    return 2;
  }
}

import type { CliIo } from './cli-options.js';

/** One `mh` command. */
export interface CliCommand {
  name: string;
  /** One line for `mh --help`. */
  summary: string;
  /** The command's `--help`. */
  help: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

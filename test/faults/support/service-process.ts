import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { resolve } from 'node:path';

/** The built service, as `npm start` runs it; `npm run test:faults` builds it first. */
export const MAIN_SCRIPT = resolve('dist/src/main.js');

/** Most of a process's output kept for a failure report (the end of it). */
const LOG_LIMIT = 200_000;

/** How a service process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `Date.now()` when it ended. */
  at: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** `GET /health`'s status, or 0 when nothing answered. */
function healthStatus(port: number): Promise<number> {
  return new Promise((done) => {
    const request = get({ host: '127.0.0.1', port, path: '/health', timeout: 2000, agent: false }, (response) => {
      response.resume();
      done(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => done(0));
  });
}

/**
 * The service running as a real process (`node dist/src/main.js`) with its own environment, its
 * output kept in memory for when a test fails.
 */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private output = '';

  private constructor(
    readonly name: string,
    readonly port: number,
    env: Record<string, string>,
    maxOpenFiles?: number,
  ) {
    if (!existsSync(MAIN_SCRIPT)) throw new Error(`${MAIN_SCRIPT} is missing: run \`npm run build\` (npm run test:faults does)`);
    // With a limit, under util-linux's prlimit, which sets it (soft and hard) and then becomes the service.
    const [command, args] =
      maxOpenFiles === undefined
        ? [process.execPath, [MAIN_SCRIPT]]
        : ['prlimit', [`--nofile=${maxOpenFiles}:${maxOpenFiles}`, '--', process.execPath, MAIN_SCRIPT]];
    this.child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (this.output.length > LOG_LIMIT * 1.5) this.output = this.output.slice(-LOG_LIMIT);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((done) => this.child.once('exit', (code, signal) => done({ code, signal, at: Date.now() })));
  }

  /**
   * Starts the service and waits until its `/health` answers 200 (Postgres reachable); `maxOpenFiles`
   * caps the file descriptors it may open, as systemd's or Docker's default limit does.
   */
  static async start(
    name: string,
    port: number,
    env: Record<string, string>,
    timeoutMs = 60_000,
    maxOpenFiles?: number,
  ): Promise<ServiceProcess> {
    const service = new ServiceProcess(name, port, env, maxOpenFiles);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!service.running) throw new Error(`${name} exited before it was ready:\n${service.logs()}`);
      if ((await healthStatus(port)) === 200) return service;
      if (Date.now() > deadline) {
        service.kill('SIGKILL');
        throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${service.logs()}`);
      }
      await sleep(100);
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal (SIGKILL to crash it, SIGTERM to stop it); nothing if it has ended. */
  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Kills it if it still runs and waits for the end. */
  async stop(): Promise<Exit> {
    this.kill('SIGKILL');
    return this.exited;
  }

  /** Its output so far, each line prefixed with its name. */
  logs(): string {
    return this.output
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => `[${this.name}] ${line}`)
      .join('\n');
  }
}

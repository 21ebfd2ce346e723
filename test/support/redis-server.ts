import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { eventually } from './app.js';

/** Whether something accepts TCP connections on `port` of 127.0.0.1. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** How a test's `redis-server` is set up beyond its port. */
export interface RedisServerOptions {
  /** Only TLS on the port (no plain one), with this certificate; clients are not asked for one. */
  tls?: { cert: string; key: string; ca: string };
  /** `requirepass` (and `masterauth`, for a replica of a master with the same password). */
  password?: string;
  /** Starts as a replica of the Redis on this port of 127.0.0.1. */
  replicaOf?: number;
}

/**
 * A `redis-server` of a test's own on `port`, with no persistence: stopping it loses all its data, as
 * a crashed Redis without a disk would. The machine's own Redis is never touched.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private dir: string | undefined;

  constructor(
    readonly port: number,
    private readonly options: RedisServerOptions = {},
  ) {}

  get url(): string {
    const auth = this.options.password === undefined ? '' : `:${encodeURIComponent(this.options.password)}@`;
    return this.options.tls ? `rediss://${auth}localhost:${this.port}` : `redis://${auth}127.0.0.1:${this.port}`;
  }

  /** `redis-cli`'s arguments to reach it. */
  get cliArgs(): string[] {
    const { tls, password } = this.options;
    return [
      '-p',
      String(this.port),
      ...(tls ? ['--tls', '--cacert', tls.ca] : []),
      ...(password === undefined ? [] : ['-a', password, '--no-auth-warning']),
    ];
  }

  /** Starts it (empty) and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null) return;
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    const { tls, password, replicaOf } = this.options;
    const args = [
      ...(tls
        ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key]
        : ['--port', String(this.port)]),
      ...(tls ? ['--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no', '--tls-replication', 'yes'] : []),
      ...(password === undefined ? [] : ['--requirepass', password, '--masterauth', password]),
      ...(replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(replicaOf)]),
      ...['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      // A replica's full sync writes an RDB file: into a directory of the test's, never the checkout.
      ...['--dir', (this.dir = mkdtempSync(join(tmpdir(), 'mh-redis-')))],
    ];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    await eventually(() => portOpen(this.port), 10000, 50);
  }

  /** Kills it at once (SIGKILL): connections drop, its data (and its directory) is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
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

/**
 * A `redis-server` of a test's own on `port`, with no persistence: stopping it loses all its data, as
 * a crashed Redis without a disk would. The machine's own Redis is never touched.
 */
export class RedisServer {
  private child: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (empty) and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null) return;
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await eventually(() => portOpen(this.port), 10000, 50);
  }

  /** Kills it at once (SIGKILL): connections drop, its data is gone. */
  stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    return new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

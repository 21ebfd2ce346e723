import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';

/** A process the benchmark started, with its peak memory. */
export interface Started {
  name: string;
  child: ChildProcess;
  /** Peak resident set size so far, in MB (the kernel's high-water mark, VmHWM). */
  peakRssMb(): number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Whether the process has ended, with a code or by a signal. */
const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Every process started, so that a run that fails half-way stops them all (`stopAll`). */
const started: Started[] = [];

/** Stops every process `startNode` started that still runs. */
export async function stopAll(): Promise<void> {
  await Promise.all(started.map((process) => process.stop()));
}

/**
 * Starts `node script` with `env` and waits until it listens on `port`. The service gets the heap
 * setting its npm scripts give it (`--heap-growing-percent=50`).
 */
export async function startNode(name: string, script: string, env: Record<string, string>, port: number): Promise<Started> {
  const heap = script.endsWith('dist/src/main.js') ? ['--heap-growing-percent=50'] : [];
  const child = spawn(process.execPath, [...heap, script], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const handle = startedProcess(name, child);
  started.push(handle);
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(port))) {
    if (exited(child)) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening`);
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port} within 60 s`);
    await sleep(100);
  }
  return handle;
}

function startedProcess(name: string, child: ChildProcess): Started {
  return {
    name,
    child,
    peakRssMb() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
        return kb / 1024;
      } catch {
        return NaN;
      }
    },
    stop() {
      return new Promise<void>((resolve) => {
        if (exited(child)) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}

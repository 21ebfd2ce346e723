import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, freePort } from './app.js';
import { portOpen, RedisServer } from './redis-server.js';

/** The master's name at the test's Sentinel. */
export const SENTINEL_MASTER_NAME = 'mh-test-master';

const run = promisify(execFile);

/**
 * Redis as a managed service runs it, in miniature: a master, a replica of it, and a Redis Sentinel
 * (`redis-server --sentinel`) watching them, each a process of the test's own on a free port. The
 * service finds the master through the Sentinel (`REDIS_SENTINELS`, `REDIS_SENTINEL_NAME`);
 * `failover()` makes the replica the master as a managed Redis does when its master fails.
 */
export class RedisSentinelGroup {
  private sentinel: ChildProcess | undefined;

  private constructor(
    readonly servers: [RedisServer, RedisServer],
    readonly sentinelPort: number,
    private readonly dir: string,
  ) {}

  /** Starts the master, its replica (in sync), and the Sentinel, and waits until the Sentinel sees both. */
  static async start(): Promise<RedisSentinelGroup> {
    const masterPort = await freePort();
    const master = new RedisServer(masterPort);
    const replica = new RedisServer(await freePort(), { replicaOf: masterPort });
    const group = new RedisSentinelGroup([master, replica], await freePort(), mkdtempSync(join(tmpdir(), 'mh-sentinel-')));
    try {
      await master.start();
      await replica.start();
      await eventually(async () => (await group.cli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'), 15_000);
      await group.startSentinel(masterPort);
    } catch (error) {
      await group.stop();
      throw error;
    }
    return group;
  }

  /** The service's environment to reach the master through the Sentinel. */
  get env(): Record<string, string> {
    return {
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_SENTINELS: `127.0.0.1:${this.sentinelPort}`,
      REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME,
    };
  }

  /** The port of the master, as the Sentinel names it now. */
  async masterPort(): Promise<number> {
    const answer = await this.cli(this.sentinelPort, 'SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER_NAME);
    return Number(answer.trim().split('\n')[1]);
  }

  /** The Redis that is master now. */
  async master(): Promise<RedisServer> {
    const port = await this.masterPort();
    return this.servers.find((server) => server.port === port)!;
  }

  /**
   * `SENTINEL FAILOVER`: the replica becomes the master and the old master its replica. Resolves once
   * the Sentinel names the new master and it takes writes, with `demoted`, which resolves once the old
   * master follows the new one (the Sentinel gets to it 10 to 20 s later), to the time it did.
   */
  async failover(): Promise<{ from: number; to: number; switchedAt: number; demoted: Promise<number> }> {
    const from = await this.masterPort();
    await this.cli(this.sentinelPort, 'SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME);
    const to = await eventually(
      async () => {
        const port = await this.masterPort();
        return port !== from ? port : 0;
      },
      30_000,
      20,
    );
    await eventually(async () => (await this.cli(to, 'ROLE')).startsWith('master'), 30_000, 20);
    const switchedAt = Date.now();
    // The Sentinel demotes the old master 8 s after it sees it still claiming the role, at its next
    // 10-second INFO, so 10-20 s; a minute leaves room for one 30 s TILT (its timer late by 2 s or more).
    const demoted = eventually(async () => (await this.cli(from, 'ROLE')).startsWith('slave'), 60_000).then(() => Date.now());
    return { from, to, switchedAt, demoted };
  }

  /** The Sentinel's own log (its view of the failover), for a failure report. */
  log(): string {
    const file = join(this.dir, 'sentinel.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Stops the Sentinel and both servers; never throws. */
  async stop(): Promise<void> {
    const sentinel = this.sentinel;
    this.sentinel = undefined;
    if (sentinel && sentinel.exitCode === null && sentinel.signalCode === null) {
      await new Promise<void>((resolve) => {
        sentinel.once('exit', () => resolve());
        sentinel.kill('SIGKILL');
      });
    }
    await Promise.all(this.servers.map((server) => server.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** `redis-cli -p port args...`'s output. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 });
    return stdout;
  }

  private async startSentinel(masterPort: number): Promise<void> {
    const config = join(this.dir, 'sentinel.conf');
    // The Sentinel rewrites its file as it learns; quorum 1: it alone decides (a test has one).
    writeFileSync(
      config,
      [
        `port ${this.sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `logfile ${join(this.dir, 'sentinel.log')}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 2000`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    this.sentinel = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
    await eventually(() => portOpen(this.sentinelPort), 10_000, 50);
    // Ready once it has found the replica through the master.
    await eventually(async () => {
      const replicas = await this.cli(this.sentinelPort, 'SENTINEL', 'replicas', SENTINEL_MASTER_NAME);
      return replicas.includes(String(this.servers[1].port)) && !replicas.includes('s_down');
    }, 20_000);
  }
}

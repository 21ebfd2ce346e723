import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where Debian installs the Postgres server's programs (`initdb`, `pg_ctl`), newest version first. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`no Postgres server under ${root}`);
  return join(root, versions[0], 'bin');
}

/**
 * A Postgres cluster of a test's own: `initdb` in a temporary directory, started with `pg_ctl` on
 * `port` of 127.0.0.1 with TLS on and plain connections refused, trust authentication. Run as the
 * `postgres` user when the test runs as root (Postgres refuses to run as root). The machine's own
 * server is never touched.
 */
export class PostgresCluster {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly asPostgres: boolean,
  ) {}

  /** `database` on this cluster, as user `postgres`, with `params` (such as `sslmode`). */
  url(database: string, params: Record<string, string> = {}, host = '127.0.0.1'): string {
    const query = new URLSearchParams(params).toString();
    return `postgres://postgres@${host}:${this.port}/${database}${query ? `?${query}` : ''}`;
  }

  /** Runs `sql` as `postgres` over the cluster's Unix socket (no TLS needed there), for assertions. */
  async query<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<Row>> {
    const client = new pg.Client({ host: this.dir, port: this.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      return await client.query<Row>(sql, params);
    } finally {
      await client.end();
    }
  }

  static start(port: number, tls: { cert: string; key: string }): PostgresCluster {
    const asPostgres = process.getuid?.() === 0;
    const dir = mkdtempSync(join(tmpdir(), 'mh-pg-'));
    const cluster = new PostgresCluster(port, dir, asPostgres);
    const data = join(dir, 'data');
    if (asPostgres) {
      const { uid, gid } = postgresIds();
      chownSync(dir, uid, gid);
    }
    cluster.run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    copyFileSync(tls.cert, join(data, 'server.crt'));
    copyFileSync(tls.key, join(data, 'server.key'));
    chmodSync(join(data, 'server.key'), 0o600);
    // Only TLS from 127.0.0.1: a plain connection is refused, so a client that connects used TLS.
    writeFileSync(
      join(data, 'pg_hba.conf'),
      'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 0.0.0.0/0 reject\n',
    );
    if (asPostgres) {
      const { uid, gid } = postgresIds();
      for (const file of ['server.crt', 'server.key', 'pg_hba.conf']) chownSync(join(data, file), uid, gid);
    }
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c ssl=on',
      '-c fsync=off',
      '-c max_connections=40',
      '-c shared_buffers=16MB',
    ].join(' ');
    cluster.run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    return cluster;
  }

  /** Stops it at once (`-m immediate`) and removes its directory. */
  stop(): void {
    try {
      this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private run(program: string, args: string[]): void {
    const path = join(postgresBin(), program);
    const [command, commandArgs] = this.asPostgres ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
    execFileSync(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'], cwd: tmpdir() });
  }
}

function postgresIds(): { uid: number; gid: number } {
  const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
  return { uid, gid };
}

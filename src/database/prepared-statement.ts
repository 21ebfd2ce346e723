import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/**
 * Whether the connection a statement failed on should be closed rather than reused: it broke (no
 * SQLSTATE: the socket went away), Postgres says the connection or server is going (class 08, 57), or
 * the prepared statement is no longer good on it (0A000: a schema change altered its result type;
 * 26000: it is gone). A statement Postgres merely refused (bad data, a constraint) leaves it usable.
 */
function closesConnection(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code.startsWith('57') || code === '0A000' || code === '26000';
}

/**
 * A statement Postgres parses and plans once per connection, then only binds and runs: node-postgres
 * prepares a query that carries a name on each pooled connection the first time that connection runs
 * it. TypeORM's `DataSource.query` sends every statement unnamed, to be parsed and planned again each
 * time; for intake's insert, run per batch, that planning was a large part of the database's work.
 *
 * Runs outside any transaction, on the pool TypeORM made from the same settings (timeouts included).
 */
export class PreparedStatement<Row extends QueryResultRow> {
  /**
   * @param name unique in the process: node-postgres refuses one name with two texts on a connection
   * @param text the SQL, with `$1`-style parameters
   */
  constructor(
    readonly name: string,
    readonly text: string,
  ) {}

  /** Runs the statement with `values` on a connection from the data source's pool; gives its rows. */
  async run(dataSource: DataSource, values: readonly unknown[]): Promise<Row[]> {
    // PostgresDriver's public `master` is its node-postgres pool (typed `any` by TypeORM).
    const pool = (dataSource.driver as PostgresDriver).master as Pool;
    const client = await pool.connect();
    // `Pool.query` would close the connection on any error, so a refused row would cost a new
    // connection, login and prepare; only a connection that is no good is closed here.
    let broken: Error | undefined;
    // A checked-out client's connection dropping is emitted as 'error' (the query fails with it too);
    // unheard, it would end the process.
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      return (await client.query<Row>({ name: this.name, text: this.text, values: [...values] })).rows;
    } catch (error) {
      if (closesConnection(error)) broken ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}

import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * A statement Postgres parses and plans once per connection, then only binds and runs: node-postgres
 * prepares a query that carries a name on each pooled connection the first time that connection runs
 * it. TypeORM's `DataSource.query` sends every statement unnamed, to be parsed and planned again each
 * time; for intake's insert, a statement per request at low load, that planning was most of the
 * database's work (see README, "Performance").
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
    const pool = (dataSource.driver as unknown as { master: Pool }).master;
    const result = await pool.query<Row>({ name: this.name, text: this.text, values: [...values] });
    return result.rows;
  }
}

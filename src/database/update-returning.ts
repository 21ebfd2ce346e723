import type { DataSource } from 'typeorm';

/**
 * Runs an `UPDATE ... RETURNING` and gives its rows. TypeORM's `DataSource.query` answers an UPDATE
 * on Postgres with `[rows, affectedCount]` rather than the rows, unlike a SELECT or an INSERT.
 */
export async function updateReturning<T>(dataSource: DataSource, sql: string, parameters: unknown[]): Promise<T[]> {
  const result: unknown = await dataSource.query(sql, parameters);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

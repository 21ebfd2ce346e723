import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options.js';
import { dropDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { PreparedStatement } from '../src/database/prepared-statement.js';
import { WebhookEventRepository, type NewWebhookEvent } from '../src/webhook/webhook-event.repository.js';
import { POSTGRES_URL, uniqueName } from './support/app.js';

/** How often each prepared statement of the connection `dataSource` (a pool of one) has run. */
async function preparedRuns(dataSource: DataSource): Promise<Record<string, number>> {
  const rows: Array<{ name: string; runs: number }> = await dataSource.query(
    `SELECT name, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.runs]));
}

describe('Statements prepared once per connection (real Postgres)', () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_test')}`;
  let dataSource: DataSource;

  beforeAll(async () => {
    await prepareDatabase(url);
    // One connection, so that the statements this test runs and its look at them share a session.
    dataSource = new DataSource({ ...dataSourceOptions(url), extra: { max: 1 } });
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await dropDatabase(url);
  });

  it('a PreparedStatement is parsed once and run by name after that', async () => {
    const double = new PreparedStatement<{ doubled: number }>('test_double', 'SELECT ($1::int * 2) AS doubled');
    expect(await double.run(dataSource, [21])).toEqual([{ doubled: 42 }]);
    expect(await double.run(dataSource, [5])).toEqual([{ doubled: 10 }]);
    expect((await preparedRuns(dataSource)).test_double).toBe(2);
  });

  it("intake's insert goes through its prepared statement, duplicates included", async () => {
    const events = new WebhookEventRepository(dataSource);
    const row = (key: string): NewWebhookEvent => ({
      eventKey: key,
      type: 'video.completed',
      media: 'video',
      projectId: key,
      status: 'received',
      payloadJson: JSON.stringify({ id: key }),
      lastError: null,
    });
    const before = (await preparedRuns(dataSource)).mh_insert_events ?? 0;
    const first = await events.insertMany([row('prepared-a'), row('prepared-b')]);
    const second = await events.insertMany([row('prepared-b'), row('prepared-c')]);

    expect([...first.keys()].sort()).toEqual(['prepared-a', 'prepared-b']);
    // prepared-b was stored by the first call: a duplicate, not in the map.
    expect([...second.keys()]).toEqual(['prepared-c']);
    expect((await preparedRuns(dataSource)).mh_insert_events).toBe(before + 2);
  });
});

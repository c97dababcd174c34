/** One query on a test PostgreSQL, on a connection of its own. */
import pg from 'pg';

export async function pgQuery(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined); // a server killed by the test: the query fails instead
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

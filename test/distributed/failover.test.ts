/**
 * PostgreSQL failover: a primary with a synchronous streaming standby; the
 * primary is killed with SIGKILL during ingest and the standby promoted.
 * Every write acknowledged before the kill is present afterwards; the
 * client and the nodes find the new primary among their URLs and go on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initDeployment } from '../../src/distributed/admin.js';
import { DistributedClient } from '../../src/distributed/client.js';
import { startNodeServer, type NodeServer } from '../../src/distributed/node-server.js';
import { ErrorCode } from '../../src/index.js';
import { pgQuery } from '../helpers/pg-query.js';
import { POSTGRES_MISSING, postgresBin, TestPostgres } from '../helpers/postgres.js';

const bin = postgresBin();
if (!bin) console.warn(`skipping test/distributed/failover.test.ts: ${POSTGRES_MISSING}`);

const NODES = ['n1', 'n2', 'n3'];
const vec = (i: number) => [i, i % 7, i % 13, 1];

describe.skipIf(!bin)('PostgreSQL failover under a distributed deployment', () => {
  let primary: TestPostgres;
  let standby: TestPostgres;
  let dir: string;
  const nodes: NodeServer[] = [];
  let client: DistributedClient | undefined;

  beforeAll(async () => {
    primary = await TestPostgres.start(bin as string);
    standby = await primary.standby();
    // Commits wait for the standby: an acknowledged write is on both servers.
    await pgQuery(primary.url, "ALTER SYSTEM SET synchronous_standby_names = '*'");
    await pgQuery(primary.url, 'SELECT pg_reload_conf()');
    const deadline = performance.now() + 60_000;
    let state = '';
    while (state !== 'sync' && performance.now() < deadline) {
      state = String((await pgQuery(primary.url, 'SELECT sync_state FROM pg_stat_replication'))[0]?.sync_state ?? '');
      if (state !== 'sync') await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toBe('sync');
    dir = mkdtempSync(join(tmpdir(), 'semvec-failover-'));
  });

  afterAll(async () => {
    await client?.close();
    for (const n of nodes) await n.close().catch(() => undefined);
    primary?.destroy();
    standby?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL the primary during ingest and promote the standby: every acknowledged write is present, the nodes and the client go on', async () => {
    const urls = [primary.url, standby.url];
    await initDeployment(urls, { shards: 6, nodes: NODES, replicas: 2 });
    for (const name of NODES) nodes.push(await startNodeServer({ urls, node: name, dataDir: join(dir, name), pollMs: 200, heartbeatMs: 200, connectTimeoutMs: 60_000 }));
    client = await DistributedClient.connect({ urls, refreshMs: 200, liveSeconds: 5 });
    const col = await client.createCollection('failover', { metric: 'l2' });
    const acknowledged: string[] = [];
    const failures = new Set<string>();
    let killed = false;
    let promoted = false;
    for (let b = 0; b < 30; b++) {
      const ids = Array.from({ length: 10 }, (_, j) => `f${b * 10 + j}`);
      const embeddings = ids.map((_, j) => vec(b * 10 + j));
      // A batch is retried (upsert: the same records) until it is acknowledged.
      const deadline = performance.now() + 120_000;
      for (;;) {
        try {
          await col.upsert({ ids, embeddings });
          break;
        } catch (err) {
          failures.add((err as { code?: string }).code ?? String(err));
          if (performance.now() > deadline) throw err;
          if (killed && !promoted) {
            standby.promote();
            promoted = true;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      acknowledged.push(...ids);
      if (b === 10) {
        primary.kill();
        killed = true;
      }
    }
    expect(promoted).toBe(true);
    expect([...failures]).toEqual([ErrorCode.UNAVAILABLE]);
    // Every acknowledged write is in the new primary.
    const [row] = await pgQuery(standby.url, 'SELECT count(*)::int AS n FROM semvec.records');
    expect(Number(row?.n)).toBe(acknowledged.length);
    expect(await col.count()).toBe(acknowledged.length);
    // And found by the nodes, each record its own nearest neighbour (read-your-writes: the nodes have caught up).
    const found = await col.query({ queryEmbeddings: acknowledged.map((_, i) => vec(i)), nResults: 1 });
    expect(found.map((r) => r[0]?.id)).toEqual(acknowledged);
    const all = await col.query({ queryEmbeddings: [vec(0)], nResults: acknowledged.length + 10 });
    expect(all[0]?.map((m) => m.id).sort()).toEqual([...acknowledged].sort());
    // The nodes talk to the new primary: their heartbeats are recent there.
    const beats = await pgQuery(standby.url, 'SELECT node FROM semvec.nodes WHERE seen_at > now() - interval \'30 seconds\' ORDER BY node');
    expect(beats.map((r) => r.node)).toEqual(NODES);
  });
});

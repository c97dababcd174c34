/**
 * The change log's sequence numbers follow commit order: a write that has
 * taken its number but not committed holds back every later write to the
 * same shard (they wait on its row lock in semvec.shard_seq), so a node
 * reading the log never sees number n+1 before n and never skips a write
 * that commits late.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Pg } from '../../src/distributed/pg.js';
import { shardOf } from '../../src/distributed/shard-map.js';
import { putRecords, type PutBatch } from '../../src/distributed/writes.js';
import { TestCluster } from '../helpers/cluster.js';
import { pgQuery } from '../helpers/pg-query.js';
import { POSTGRES_MISSING, postgresBin } from '../helpers/postgres.js';

const bin = postgresBin();
if (!bin) console.warn(`skipping test/distributed/commit-order.test.ts: ${POSTGRES_MISSING}`);

/** A connection whose transactions stop before COMMIT until released. */
class PausingPg extends Pg {
  entered!: Promise<void>;
  release!: () => void;
  #entered!: () => void;
  #gate!: Promise<void>;

  arm(): void {
    this.entered = new Promise((r) => (this.#entered = r));
    this.#gate = new Promise((r) => (this.release = r));
  }

  override async transaction<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>, mode = ''): Promise<T> {
    return super.transaction(
      what,
      async (c) => {
        const out = await fn(c);
        this.#entered();
        await this.#gate;
        return out;
      },
      mode,
    );
  }
}

const DIM = 4;
const batch = (ids: string[]): PutBatch => ({ ids, vectors: new Float32Array(ids.length * DIM).fill(0.5), dim: DIM, documents: undefined, metadatas: ids.map(() => null) });

describe.skipIf(!bin)('the change log follows commit order', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    // Nodes poll often, so a poll would see a write committed out of order if there were one.
    cluster = await TestCluster.start(bin as string, { shards: 4, nodes: ['n1', 'n2'], replicas: 2, pollMs: 50 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('a write that commits late is not skipped: the next write to its shard waits for it and takes the next number', async () => {
    const client = await cluster.client();
    const col = await client.createCollection('order', { metric: 'l2' });
    await col.add({ ids: ['seed'], embeddings: [[1, 2, 3, 4]] });
    const shards = client.shardCount;
    const shard = shardOf(col.cid, 'late', shards);
    const second = Array.from({ length: 1000 }, (_, i) => `next${i}`).find((id) => shardOf(col.cid, id, shards) === shard) as string;
    const node = cluster.nodes.get(client.shardMap?.assignments[shard]?.replicas[0] as string)?.node;
    if (!node) throw new Error('no node holds the shard');
    const [head] = await pgQuery(cluster.pg.url, 'SELECT last_seq FROM semvec.shard_seq WHERE shard = $1', [shard]);
    const start = Number(head?.last_seq);
    expect(await node.waitFor(shard, start, performance.now() + 60_000)).toBe(true);

    const pausing = new PausingPg({ urls: [cluster.pg.url] });
    const plain = new Pg({ urls: [cluster.pg.url] });
    try {
      pausing.arm();
      const late = putRecords(pausing, shards, col.cid, 'order', batch(['late']), false);
      await pausing.entered; // it has taken its number and written, not committed
      const next = putRecords(plain, shards, col.cid, 'order', batch([second]), false);
      // PostgreSQL shows the second write waiting on a lock (the shard's sequence row).
      const deadline = performance.now() + 60_000;
      let waiting = 0;
      while (waiting === 0 && performance.now() < deadline) {
        const [row] = await pgQuery(cluster.pg.url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%shard_seq%'");
        waiting = Number(row?.n);
      }
      expect(waiting).toBe(1);
      // Meanwhile a node's catch-up sees neither write.
      await node.kick(shard);
      expect(node.replica(shard)?.seq).toBe(start);
      expect(node.replica(shard)?.parts.get(col.cid)?.keyOf.has('late') ?? false).toBe(false);
      pausing.release();
      const a = await late;
      const b = await next;
      expect(a.seqs.get(shard)).toBe(start + 1);
      expect(b.seqs.get(shard)).toBe(start + 2);
      expect(await node.waitFor(shard, start + 2, performance.now() + 60_000)).toBe(true);
      const part = node.replica(shard)?.parts.get(col.cid);
      expect(part?.keyOf.has('late')).toBe(true);
      expect(part?.keyOf.has(second)).toBe(true);
      expect(cluster.logs.filter((l) => l.includes('rebuilt') && l.includes(`shard ${shard}:`) && l.includes('gap'))).toEqual([]);
    } finally {
      pausing.release?.();
      await pausing.close();
      await plain.close();
    }
  });
});

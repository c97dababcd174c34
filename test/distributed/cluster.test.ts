/**
 * semvec/distributed end to end, on a PostgreSQL made for the test: writes
 * through the client's router are committed in PostgreSQL, nodes apply
 * them, queries fan out to one replica per shard and merge; exact search
 * equals one FlatIndex over the same data bit for bit, with and without
 * `where`; read-your-writes across routers; failover to the other replica;
 * a node that lost its disk rebuilds from PostgreSQL.
 *
 * Skipped (with the reason printed) when PostgreSQL is not installed.
 */
import { rmSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Client, ErrorCode, FlatIndex, type Metadata, type Metric } from '../../src/index.js';
import { distanceAndScore } from '../../src/scores.js';
import type { Where, WhereDocument } from '../../src/collection/filter.js';
import { moveShardAt } from '../../src/distributed/admin.js';
import type { DistributedCollection } from '../../src/distributed/collection.js';
import { shardOf } from '../../src/distributed/shard-map.js';
import { TestCluster } from '../helpers/cluster.js';
import { randomVectors } from '../helpers/data.js';
import { expectRejects } from '../helpers/errors.js';
import { pgQuery } from '../helpers/pg-query.js';
import { POSTGRES_MISSING, postgresBin } from '../helpers/postgres.js';

const bin = postgresBin();
if (!bin) console.warn(`skipping test/distributed/cluster.test.ts: ${POSTGRES_MISSING}`);

const DIM = 16;
const N = 600;
const NODES = ['n1', 'n2', 'n3'];

const rows = (v: Float32Array, from: number, to: number) => Array.from({ length: to - from }, (_, i) => Array.from(v.subarray((from + i) * DIM, (from + i + 1) * DIM)));
const tagOf = (i: number) => (i % 3 === 0 ? 'a' : 'b');

/** Loads N records into a collection (one batch through COPY, one as arrays) and the same into a FlatIndex keyed by number. */
async function load(col: DistributedCollection, metric: Metric, seed: number): Promise<{ index: FlatIndex; vectors: Float32Array }> {
  const vectors = randomVectors(N, DIM, seed);
  const ids = Array.from({ length: N }, (_, i) => `r${i}`);
  const metadatas = ids.map((_, i) => ({ tag: tagOf(i), n: i }));
  await col.add({ ids: ids.slice(0, 500), embeddings: rows(vectors, 0, 500), metadatas: metadatas.slice(0, 500), documents: ids.slice(0, 500).map((id) => `doc ${id}`) });
  await col.add({ ids: ids.slice(500), embeddings: rows(vectors, 500, N), metadatas: metadatas.slice(500), documents: ids.slice(500).map((id) => `doc ${id}`) });
  const index = new FlatIndex({ dim: DIM, metric });
  index.add(vectors, Float64Array.from({ length: N }, (_, i) => i));
  return { index, vectors };
}

/** Checks the router's answer against the reference index, bit for bit. */
async function expectSameAsFlat(col: DistributedCollection, index: FlatIndex, metric: Metric, queries: Float32Array, k: number, where?: { tag: string }): Promise<void> {
  const nq = queries.length / DIM;
  const allowIds = where ? Float64Array.from({ length: N }, (_, i) => i).filter((i) => tagOf(i) === where.tag) : undefined;
  const expected = index.searchBatch(queries, k, allowIds ? { allowIds } : undefined);
  const got = await col.query({ queryEmbeddings: rows(queries, 0, nq), nResults: k, ...(where ? { where } : {}), include: ['metadatas'] });
  expect(got).toHaveLength(nq);
  for (let q = 0; q < nq; q++) {
    const e = expected[q] as { ids: Float64Array; scores: Float32Array };
    expect(got[q]?.map((m) => m.id)).toEqual(Array.from(e.ids, (i) => `r${i}`));
    expect(got[q]?.map((m) => m.distance)).toEqual(Array.from(e.scores, (s) => distanceAndScore(metric, s).distance));
    if (where) for (const m of got[q] ?? []) expect(m.metadata?.tag).toBe(where.tag);
  }
}

describe.skipIf(!bin)('a distributed deployment: PostgreSQL, three nodes, two replicas per shard', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start(bin as string, { shards: 8, nodes: NODES, replicas: 2 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('exact search through the router equals one FlatIndex over the same data, bit for bit (l2 and cosine, with and without where)', async () => {
    const client = await cluster.client();
    for (const [metric, seed] of [['l2', 1], ['cosine', 2]] as const) {
      const col = await client.createCollection(`exact-${metric}`, { metric });
      const { index } = await load(col, metric, seed);
      expect(await col.count()).toBe(N);
      const queries = randomVectors(6, DIM, seed + 100);
      await expectSameAsFlat(col, index, metric, queries, 10);
      await expectSameAsFlat(col, index, metric, queries, 25, { tag: 'a' });
      await expectSameAsFlat(col, index, metric, queries, 3, { tag: 'b' });
    }
  });

  it('every node holds exactly the records of its shards, as PostgreSQL has them', async () => {
    const client = await cluster.client();
    const col = await client.getCollection('exact-l2');
    await col.query({ queryEmbeddings: [new Array(DIM).fill(0.1)], nResults: 1 }); // read-your-writes: every node is caught up with this router's writes
    const map = client.shardMap;
    const perShard = new Map<number, number>();
    for (const r of await col.get({ include: [] })) {
      const s = shardOf(col.cid, r.id, client.shardCount);
      perShard.set(s, (perShard.get(s) ?? 0) + 1);
    }
    for (const a of map?.assignments ?? []) {
      expect(a.replicas).toHaveLength(2);
      for (const name of a.replicas) {
        const server = cluster.nodes.get(name);
        const replica = server?.node.replica(a.shard);
        const deadline = performance.now() + 60_000;
        while ((replica?.parts.get(col.cid)?.size ?? 0) !== (perShard.get(a.shard) ?? 0) && performance.now() < deadline) await server?.node.kick(a.shard);
        expect(replica?.parts.get(col.cid)?.size ?? 0).toBe(perShard.get(a.shard) ?? 0);
      }
    }
  });

  it('read-your-writes: a write is seen by the next query through the same router, and through another router given its sequence numbers', async () => {
    const writer = await cluster.client();
    const reader = await cluster.client();
    const col = await writer.createCollection('ryw', { metric: 'l2' });
    const other = await reader.getCollection('ryw');
    for (let round = 0; round < 5; round++) {
      const v = Array.from({ length: DIM }, (_, c) => round * 10 + c);
      const { seqs } = await col.upsert({ ids: [`w${round}`], embeddings: [v], metadatas: [{ round }] });
      expect(Object.keys(seqs)).toHaveLength(1);
      const [mine] = await col.query({ queryEmbeddings: [v], nResults: 1 });
      expect(mine?.[0]?.id).toBe(`w${round}`);
      expect(mine?.[0]?.distance).toBe(0);
      const [theirs] = await other.query({ queryEmbeddings: [v], nResults: 1, minSeq: seqs });
      expect(theirs?.[0]?.id).toBe(`w${round}`);
    }
    // Updates and deletes too.
    await col.update({ ids: ['w0'], metadatas: [{ round: 'changed' }] });
    const [updated] = await col.query({ queryEmbeddings: [new Array(DIM).fill(0).map((_, c) => c)], nResults: 1, include: ['metadatas'] });
    expect(updated?.[0]?.metadata).toEqual({ round: 'changed' });
    expect(await col.delete({ ids: ['w0'] })).toBe(1);
    const [afterDelete] = await col.query({ queryEmbeddings: [new Array(DIM).fill(0).map((_, c) => c)], nResults: 10 });
    expect(afterDelete?.map((m) => m.id)).not.toContain('w0');
    expect(afterDelete).toHaveLength(4);
  });

  it('get, count and delete with where and whereDocument (filters run as SQL) select what a semvec collection selects', async () => {
    const client = await cluster.client();
    const local = new Client();
    const col = await client.createCollection('filters', { metric: 'l2' });
    const ref = await local.createCollection('filters', { metric: 'l2' });
    const ids = Array.from({ length: 60 }, (_, i) => `f${i}`);
    const input = {
      ids,
      embeddings: ids.map((_, i) => [i, 1, 2, 3]),
      metadatas: ids.map((_, i): Metadata => (i % 10 === 0 ? { other: true } : { kind: i % 3 === 0 ? 'x' : 'y', n: i, flag: i % 2 === 0, ...(i % 4 === 0 ? { s: '1' } : { s: 1 }) })),
      documents: ids.map((_, i) => (i % 5 === 0 ? null : `text ${i % 4 === 0 ? 'alpha' : 'beta'} ${i}`)),
    };
    await col.add(input);
    await ref.add(input);
    const filters: { where?: Where; whereDocument?: WhereDocument }[] = [
      { where: { kind: 'x' } },
      { where: { kind: { $ne: 'x' } } },
      { where: { n: { $gte: 10, $lt: 40 } } },
      { where: { $or: [{ flag: true }, { kind: { $in: ['x'] } }] } },
      { where: { kind: { $nin: ['y'] } } },
      { where: { s: 1 } },
      { where: { s: '1' } },
      { whereDocument: { $contains: 'alpha' } },
      { whereDocument: { $not_contains: 'alpha' } },
      { where: { flag: false }, whereDocument: { $or: [{ $contains: 'beta' }, { $contains: '4' }] } },
    ];
    for (const f of filters) {
      const got = (await col.get({ ...f, include: ['metadatas', 'documents'] })).map((r) => r.id).sort();
      const want = (await ref.get({ ...f, include: ['metadatas', 'documents'] })).map((r) => r.id).sort();
      expect(got, JSON.stringify(f)).toEqual(want);
    }
    // delete by where: the parameters of the filter are bound after the collection number.
    expect(await col.delete({ where: { kind: 'x' } })).toBe(await ref.delete({ where: { kind: 'x' } }));
    expect(await col.delete({ ids: ['f1', 'f2', 'f3'], whereDocument: { $contains: 'beta' } })).toBe(await ref.delete({ ids: ['f1', 'f2', 'f3'], whereDocument: { $contains: 'beta' } }));
    expect(await col.count()).toBe(await ref.count());
    expect((await col.get()).map((r) => r.id)).toEqual((await ref.get()).map((r) => r.id));
    // Metadata keeps the order of its keys, through an update too (a patch's new keys go last).
    await col.update({ ids: ['f7'], metadatas: [{ n: null, added: 'z', kind: 'w' }] });
    await ref.update({ ids: ['f7'], metadatas: [{ n: null, added: 'z', kind: 'w' }] });
    const [mine] = await col.get({ ids: ['f7'], include: ['metadatas'] });
    const [theirs] = await ref.get({ ids: ['f7'], include: ['metadatas'] });
    expect(JSON.stringify(mine?.metadata)).toBe(JSON.stringify(theirs?.metadata));
    expect(Object.keys(mine?.metadata ?? {})).toEqual(['kind', 'flag', 's', 'added']);
    const [near] = await col.query({ queryEmbeddings: [[0, 1, 2, 3]], nResults: 100 });
    expect(near?.map((m) => m.id).sort()).toEqual((await ref.get()).map((r) => r.id).sort());
    await local.close();
  });

  it('keyword and hybrid modes and rerank are refused with ERR_UNSUPPORTED, not ignored', async () => {
    const col = await (await cluster.client()).getOrCreateCollection('vectors-only', { metric: 'l2' });
    const q = { queryEmbeddings: [new Array(DIM).fill(0.5)], queryTexts: ['x'] };
    for (const extra of [{ mode: 'keyword' }, { mode: 'hybrid' }, { fusion: { method: 'rrf' } }, { candidates: 5 }, { rerank: { model: { score: async () => [] } } }]) {
      await expectRejects(col.query({ ...q, ...extra } as never), ErrorCode.UNSUPPORTED, /rank by vectors only/);
    }
  });

  it('a query needing a sequence number no node reaches fails with ERR_TIMEOUT after the wait', async () => {
    const client = await cluster.client({ waitMs: 300 });
    const col = await client.getCollection('ryw');
    const shard = Number(Object.keys((await col.upsert({ ids: ['t'], embeddings: [new Array(DIM).fill(1)] })).seqs)[0]);
    await expectRejects(col.query({ queryEmbeddings: [new Array(DIM).fill(1)], nResults: 1, minSeq: { [shard]: 1e12 } }), ErrorCode.TIMEOUT, /did not|not 1000000000000|reached/);
  });

  it('a node stopped: queries are served by the other replica of each of its shards; restarted, it catches up from its snapshot with the writes it missed', async () => {
    const client = await cluster.client();
    const col = await client.getCollection('exact-l2');
    const queries = randomVectors(4, DIM, 101);
    const reference = await col.query({ queryEmbeddings: rows(queries, 0, 4), nResults: 10 });
    await cluster.stopNode('n2');
    for (let i = 0; i < 3; i++) expect(await col.query({ queryEmbeddings: rows(queries, 0, 4), nResults: 10 })).toEqual(reference);
    const extra = randomVectors(50, DIM, 7);
    await col.add({ ids: Array.from({ length: 50 }, (_, i) => `late${i}`), embeddings: rows(extra, 0, 50) });
    const [hit] = await col.query({ queryEmbeddings: rows(extra, 10, 11), nResults: 1 });
    expect(hit?.[0]?.id).toBe('late10');
    const restarted = await cluster.startNode('n2');
    expect(cluster.logs.some((l) => l.startsWith('n2: ') && l.includes('loaded from its snapshot'))).toBe(true);
    for (const s of restarted.node.status().shards) {
      const server = restarted.node;
      const [row] = await pgQuery(cluster.pg.url, 'SELECT last_seq FROM semvec.shard_seq WHERE shard = $1', [s.shard]);
      expect(await server.waitFor(s.shard, Number(row?.last_seq), performance.now() + 60_000)).toBe(true);
    }
  });

  it('a node that lost its disk rebuilds its shards from PostgreSQL', async () => {
    const client = await cluster.client();
    const col = await client.getCollection('exact-cosine');
    const queries = randomVectors(3, DIM, 55);
    const reference = await col.query({ queryEmbeddings: rows(queries, 0, 3), nResults: 20 });
    await cluster.stopNode('n3');
    rmSync(cluster.dataDir('n3'), { recursive: true, force: true });
    const before = cluster.logs.length;
    const back = await cluster.startNode('n3');
    const rebuilt = cluster.logs.slice(before).filter((l) => l.startsWith('n3: ') && l.includes('rebuilt from PostgreSQL'));
    expect(rebuilt.length).toBe(back.node.status().shards.length);
    for (const s of back.node.status().shards) expect(s.state).toBe('ready');
    // Stop the other nodes one at a time: each time, the rebuilt node answers for the shards it shares.
    for (const other of ['n1', 'n2']) {
      await cluster.stopNode(other);
      const got = await col.query({ queryEmbeddings: rows(queries, 0, 3), nResults: 20 });
      expect(got).toEqual(reference);
      await cluster.startNode(other);
    }
  });

  it('a node refuses a query under another epoch (ERR_STALE_EPOCH, 409) and a shard it does not hold', async () => {
    const client = await cluster.client();
    const a = client.shardMap?.assignments[0];
    const holder = cluster.nodes.get(a?.replicas[0] as string);
    const outsider = NODES.find((n) => !a?.replicas.includes(n)) as string;
    const body = (epoch: number) => ({ cid: 1, nq: 1, k: 1, queries: Buffer.from(new Float32Array(DIM).buffer).toString('base64'), include: { metadatas: false, documents: false }, shards: [{ shard: 0, epoch, minSeq: 0 }], waitMs: 100 });
    const post = async (url: string, b: unknown) => {
      const res = await fetch(`${url}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
      return { status: res.status, json: (await res.json()) as { code?: string } };
    };
    const ok = await post(holder?.url as string, body(a?.epoch as number));
    expect(ok.status).toBe(200);
    const old = await post(holder?.url as string, body((a?.epoch as number) - 1));
    expect(old).toMatchObject({ status: 409, json: { code: ErrorCode.STALE_EPOCH } });
    const notMine = await post(cluster.nodes.get(outsider)?.url as string, body(a?.epoch as number));
    expect(notMine).toMatchObject({ status: 409, json: { code: ErrorCode.STALE_EPOCH } });
    const bad = await post(holder?.url as string, { cid: 1 });
    expect(bad).toMatchObject({ status: 400, json: { code: ErrorCode.INVALID_ARGUMENT } });
  });
  it('a malformed shard map written to PostgreSQL is refused: running routers and nodes keep the map in force, a new router does not start', async () => {
    const routerLog: string[] = [];
    const client = await cluster.client({ log: (m) => routerLog.push(m) });
    const col = await client.getCollection('exact-l2');
    const before = structuredClone(client.shardMap);
    const replicas = before?.assignments[0]?.replicas as string[];
    await pgQuery(cluster.pg.url, "UPDATE semvec.shard_map SET replicas = '{}' WHERE shard = 0");
    try {
      await pgQuery(cluster.pg.url, "SELECT pg_notify('semvec_map', 'map')");
      await expectRejects(cluster.client(), ErrorCode.INVALID_ARGUMENT, /malformed shard map: shard 0 has no replicas/);
      const deadline = performance.now() + 60_000;
      while ((!routerLog.some((l) => l.includes('refusing the shard map')) || !cluster.logs.some((l) => l.includes('refusing the shard map'))) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(routerLog.find((l) => l.includes('refusing the shard map'))).toMatch(/shard 0 has no replicas/);
      expect(cluster.logs.find((l) => l.includes('refusing the shard map'))).toMatch(/shard 0 has no replicas/);
      expect(client.shardMap).toEqual(before);
      for (const server of cluster.nodes.values()) expect(server.node.map).toEqual(before);
      const [hits] = await col.query({ queryEmbeddings: [new Array(DIM).fill(0.3)], nResults: 5 });
      expect(hits).toHaveLength(5);
    } finally {
      await pgQuery(cluster.pg.url, 'UPDATE semvec.shard_map SET replicas = $1 WHERE shard = 0', [replicas]);
    }
  });
  it('a shard moved to another node under load: no duplicate or missing id, the epoch flips once, the old node lets it go', async () => {
    const client = await cluster.client();
    const col = await client.createCollection('move', { metric: 'l2' });
    const vec = (i: number) => [i, i % 5, i % 11, 1];
    await col.add({ ids: ['m0'], embeddings: [vec(0)] });
    const map = client.shardMap as NonNullable<typeof client.shardMap>;
    const shard = shardOf(col.cid, 'm0', client.shardCount);
    const before = map.assignments[shard] as (typeof map.assignments)[number];
    const from = before.replicas[0] as string;
    const to = NODES.find((n) => !before.replicas.includes(n)) as string;
    const acknowledged = ['m0'];
    let writing = true;
    const epochsSeen: number[] = [];
    const load = (async () => {
      for (let i = 1; writing; i++) {
        const ids = Array.from({ length: 10 }, (_, j) => `m${i * 10 + j}`);
        await col.add({ ids, embeddings: ids.map((_, j) => vec(i * 10 + j)) });
        acknowledged.push(...ids);
        const [hits] = await col.query({ queryEmbeddings: [vec(i * 10 + 3)], nResults: 3 });
        expect(hits?.[0]?.id).toBe(`m${i * 10 + 3}`);
        expect(new Set(hits?.map((h) => h.id)).size).toBe(hits?.length);
        const e = client.shardMap?.assignments[shard]?.epoch as number;
        if (epochsSeen[epochsSeen.length - 1] !== e) epochsSeen.push(e);
      }
    })();
    let epoch: number;
    try {
      epoch = await moveShardAt(cluster.pg.url, shard, from, to, { timeoutMs: 120_000 });
      // A little more load after the flip.
      const after = acknowledged.length;
      while (acknowledged.length < after + 50) await new Promise((r) => setTimeout(r, 20));
    } finally {
      writing = false;
      await load;
    }
    expect(epoch).toBe(before.epoch + 1);
    const [row] = await pgQuery(cluster.pg.url, 'SELECT epoch, replicas FROM semvec.shard_map WHERE shard = $1', [shard]);
    expect({ epoch: Number(row?.epoch), replicas: row?.replicas }).toEqual({ epoch: before.epoch + 1, replicas: before.replicas.map((r) => (r === from ? to : r)) });
    const others = await pgQuery(cluster.pg.url, 'SELECT shard, epoch FROM semvec.shard_map WHERE shard <> $1 ORDER BY shard', [shard]);
    expect(others.map((r) => Number(r.epoch))).toEqual(map.assignments.filter((a) => a.shard !== shard).map((a) => a.epoch));
    // The router saw the old epoch, then the new one, and nothing else.
    expect(epochsSeen.filter((e) => e !== before.epoch && e !== before.epoch + 1)).toEqual([]);
    expect(epochsSeen.indexOf(before.epoch + 1)).toBeGreaterThanOrEqual(epochsSeen.lastIndexOf(before.epoch));
    // Every acknowledged id once, none missing, none twice.
    const all = await col.query({ queryEmbeddings: [vec(0)], nResults: acknowledged.length + 10 });
    const got = all[0]?.map((m) => m.id) ?? [];
    expect(got.length).toBe(new Set(got).size);
    expect([...got].sort()).toEqual([...acknowledged].sort());
    // With the other replica stopped, the new node answers for the shard alone.
    const other = before.replicas.find((r) => r !== from) as string;
    await cluster.stopNode(other);
    try {
      const inShard = acknowledged.filter((id) => shardOf(col.cid, id, client.shardCount) === shard);
      const again = await col.query({ queryEmbeddings: [vec(0)], nResults: acknowledged.length + 10 });
      expect(again[0]?.map((m) => m.id).filter((id) => inShard.includes(id)).sort()).toEqual([...inShard].sort());
    } finally {
      await cluster.startNode(other);
    }
    // The old node lets the shard go once it reads the new map.
    const old = cluster.nodes.get(from)?.node;
    const deadline = performance.now() + 60_000;
    while (old?.replica(shard) !== undefined && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(old?.replica(shard)).toBeUndefined();
  });
});

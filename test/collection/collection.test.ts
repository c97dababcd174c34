import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeEach, describe, expect, it } from 'vitest';

import { Client, type Collection, type Metadata, type Where } from '../../src/index.js';
import { randomVectors } from '../helpers/data.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'semvec-collection-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function rejectsCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeDefined();
  expect((err as { code: string }).code).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
}

// 40 records with varied metadata.
const N = 40;
const DIM = 8;
const vectors = randomVectors(N, DIM, 7);
const rows = (i: number) => Array.from(vectors.subarray(i * DIM, (i + 1) * DIM));
const meta = (i: number): Metadata => {
  const m: Metadata = { n: i, cat: ['ml', 'db', 'web'][i % 3] as string, even: i % 2 === 0 };
  if (i % 5 === 0) m.score = i / 10;
  if (i === 7) m.n = 'seven' as unknown as number; // a string where others hold numbers
  return m;
};

async function filled(client: Client, name = 'docs'): Promise<Collection> {
  const col = await client.createCollection(name, { metric: 'l2' });
  await col.add({
    ids: Array.from({ length: N }, (_, i) => `r${i}`),
    embeddings: Array.from({ length: N }, (_, i) => rows(i)),
    documents: Array.from({ length: N }, (_, i) => (i % 4 === 0 ? `about vectors ${i}` : i % 4 === 1 ? `about databases ${i}` : `misc ${i}`)),
    metadatas: Array.from({ length: N }, (_, i) => meta(i)),
  });
  return col;
}

/** Reference evaluation of a where filter, written independently of the implementation. */
function matches(m: Metadata, where: Where): boolean {
  return Object.entries(where).every(([key, cond]) => {
    if (key === '$and') return (cond as Where[]).every((w) => matches(m, w));
    if (key === '$or') return (cond as Where[]).some((w) => matches(m, w));
    const v = m[key];
    const ops = typeof cond === 'object' && cond !== null ? (cond as Record<string, unknown>) : { $eq: cond };
    return Object.entries(ops).every(([op, x]) => {
      const eq = (a: unknown) => v !== undefined && typeof v === typeof a && v === a;
      switch (op) {
        case '$eq': return eq(x);
        case '$ne': return !eq(x);
        case '$in': return (x as unknown[]).some(eq);
        case '$nin': return !(x as unknown[]).some(eq);
        case '$gt': return typeof v === 'number' && v > (x as number);
        case '$gte': return typeof v === 'number' && v >= (x as number);
        case '$lt': return typeof v === 'number' && v < (x as number);
        case '$lte': return typeof v === 'number' && v <= (x as number);
        default: throw new Error(op);
      }
    });
  });
}

describe('where filters: every operator, against a reference evaluation', () => {
  let col: Collection;
  beforeEach(async () => {
    col = await filled(new Client());
  });

  const filters: Where[] = [
    { cat: 'ml' },
    { cat: { $eq: 'db' } },
    { cat: { $ne: 'db' } },
    { n: { $gt: 30 } },
    { n: { $gte: 30 } },
    { n: { $lt: 5 } },
    { n: { $lte: 5 } },
    { n: { $gt: 5, $lt: 9 } },
    { cat: { $in: ['ml', 'web'] } },
    { cat: { $nin: ['ml', 'web'] } },
    { even: true },
    { even: { $ne: false } },
    { score: { $gte: 1 } },
    { score: { $ne: 2 } }, // records without score match $ne
    { n: 7 }, // record 7 holds the string 'seven': 7 never equals '7'
    { n: 'seven' },
    { $and: [{ cat: 'ml' }, { even: true }] },
    { $or: [{ cat: 'db' }, { n: { $lt: 3 } }] },
    { $or: [{ $and: [{ cat: 'ml' }, { n: { $gt: 20 } }] }, { score: 0 }] },
    { cat: 'web', even: false },
    { missing: { $nin: ['x'] } },
  ];
  for (const where of filters) {
    it(JSON.stringify(where), async () => {
      const got = (await col.get({ where })).map((r) => r.id).sort();
      const want = Array.from({ length: N }, (_, i) => i).filter((i) => matches(meta(i), where)).map((i) => `r${i}`).sort();
      expect(got).toEqual(want);
    });
  }

  it('whereDocument $contains / $not_contains, combined with where', async () => {
    expect((await col.get({ whereDocument: { $contains: 'vectors' } })).length).toBe(10);
    expect((await col.get({ whereDocument: { $not_contains: 'about' } })).length).toBe(20);
    const both = await col.get({ where: { even: true }, whereDocument: { $or: [{ $contains: 'vectors' }, { $contains: 'databases' }] } });
    expect(both.map((r) => r.id)).toEqual(['r0', 'r4', 'r8', 'r12', 'r16', 'r20', 'r24', 'r28', 'r32', 'r36']);
  });

  it('filters apply before the top-k: nResults matches whenever that many exist', async () => {
    const [hits] = await col.query({ queryEmbeddings: [rows(1)], nResults: 5, where: { cat: 'web' } });
    expect(hits).toHaveLength(5);
    expect(hits!.every((h) => h.metadata?.cat === 'web')).toBe(true);
    // The exact best 5 among web records.
    const web = Array.from({ length: N }, (_, i) => i).filter((i) => i % 3 === 2);
    const d = (i: number) => rows(i).reduce((s, x, c) => s + (x - (rows(1)[c] as number)) ** 2, 0);
    const want = web.sort((a, b) => d(a) - d(b)).slice(0, 5).map((i) => `r${i}`);
    expect(hits!.map((h) => h.id)).toEqual(want);
    hits!.forEach((h, j) => expect(h.distance).toBeCloseTo(d(Number(want[j]!.slice(1))), 4));
    const [few] = await col.query({ queryEmbeddings: [rows(1)], nResults: 50, where: { score: { $gte: 3 } } });
    expect(few!.map((h) => h.id).sort()).toEqual(['r30', 'r35']);
  });

  it('invalid filters are typed errors', async () => {
    for (const where of [{}, { n: { $regex: 'x' } }, { $not: { n: 1 } }, { n: { $gt: 'a' } }, { n: { $in: [] } }, { n: null }, { $and: [] }, { '': 1 }]) {
      await rejectsCode(col.get({ where: where as Where }), 'ERR_INVALID_ARGUMENT');
    }
    await rejectsCode(col.get({ whereDocument: { $contains: '' } }), 'ERR_INVALID_ARGUMENT');
    await rejectsCode(col.get({ whereDocument: { $like: 'x' } as never }), 'ERR_INVALID_ARGUMENT', /unknown operator/);
  });
});

describe('collection writes', () => {
  it('add rejects duplicates (in the call or existing) and leaves the collection unchanged', async () => {
    const col = await filled(new Client());
    await rejectsCode(col.add({ ids: ['x', 'x'], embeddings: [rows(0), rows(1)] }), 'ERR_DUPLICATE_ID');
    await rejectsCode(col.add({ ids: ['new', 'r3'], embeddings: [rows(0), rows(1)] }), 'ERR_DUPLICATE_ID', /"r3" is already in the collection/);
    expect(await col.count()).toBe(N);
    expect(await col.get({ ids: ['new'] })).toEqual([]);
  });

  it('wrong dimension, bad metadata and missing embeddings are typed errors; nothing changes', async () => {
    const col = await filled(new Client());
    await rejectsCode(col.add({ ids: ['x'], embeddings: [[1, 2, 3]] }), 'ERR_DIMENSION_MISMATCH');
    await rejectsCode(col.add({ ids: ['x'], embeddings: [rows(0)], metadatas: [{ bad: [1, 2] } as never] }), 'ERR_INVALID_ARGUMENT');
    await rejectsCode(col.add({ ids: ['x'], embeddings: [rows(0)], metadatas: [{ $bad: 1 }] }), 'ERR_INVALID_ARGUMENT');
    await rejectsCode(col.add({ ids: ['x'], documents: ['no embedder'] }), 'ERR_INVALID_ARGUMENT', /no embedder/);
    await rejectsCode(col.add({ ids: ['x'], embeddings: [[NaN, 0, 0, 0, 0, 0, 0, 0]] }), 'ERR_INVALID_ARGUMENT');
    await rejectsCode(col.add({ ids: [''], embeddings: [rows(0)] }), 'ERR_INVALID_ARGUMENT');
    await rejectsCode(col.add({ ids: ['x', 'y'], embeddings: [rows(0)] }), 'ERR_INVALID_ARGUMENT', /one embedding per id/);
    expect(await col.count()).toBe(N);
  });

  it('update changes only what it is given, merges metadata, and rejects missing ids', async () => {
    const col = await filled(new Client());
    await col.update({ ids: ['r1'], metadatas: [{ cat: 'new', even: null }] });
    expect((await col.get({ ids: ['r1'] }))[0]).toEqual({ id: 'r1', document: 'about databases 1', metadata: { n: 1, cat: 'new' } });
    await col.update({ ids: ['r1'], embeddings: [rows(20)], documents: ['moved'] });
    const [hits] = await col.query({ queryEmbeddings: [rows(20)], nResults: 2 });
    expect(hits!.map((h) => h.id).sort()).toEqual(['r1', 'r20']);
    expect(hits![0]!.distance).toBeCloseTo(0, 5);
    await rejectsCode(col.update({ ids: ['r2', 'nope'], metadatas: [{ cat: 'z' }, { cat: 'z' }] }), 'ERR_NOT_FOUND', /"nope"/);
    expect((await col.get({ ids: ['r2'] }))[0]!.metadata?.cat).toBe('web');
    expect((await col.get({ where: { cat: 'new' } })).map((r) => r.id)).toEqual(['r1']);
  });

  it('upsert adds new ids and replaces existing ones', async () => {
    const col = await filled(new Client());
    await col.upsert({ ids: ['r0', 'fresh'], embeddings: [rows(5), rows(6)], documents: ['replaced', 'new'], metadatas: [{ cat: 'up' }, null] });
    expect(await col.count()).toBe(N + 1);
    expect(await col.get({ ids: ['r0', 'fresh'] })).toEqual([
      { id: 'r0', document: 'replaced', metadata: { cat: 'up' } },
      { id: 'fresh', document: 'new', metadata: null },
    ]);
    const [hits] = await col.query({ queryEmbeddings: [rows(5)], nResults: 2 });
    expect(hits!.map((h) => h.id).sort()).toEqual(['r0', 'r5']);
  });

  it('delete by ids, by filter, by both; get and query no longer see deleted records', async () => {
    const col = await filled(new Client());
    expect(await col.delete({ ids: ['r0', 'r1', 'nope'] })).toBe(2);
    expect(await col.delete({ where: { cat: 'db' } })).toBe(12);
    expect(await col.delete({ ids: ['r2', 'r3'], where: { cat: 'web' } })).toBe(1); // r2 is web, r3 is ml
    expect(await col.count()).toBe(N - 15);
    const [hits] = await col.query({ queryEmbeddings: [rows(0)], nResults: 100 });
    expect(hits!.some((h) => ['r0', 'r1', 'r2', 'r4'].includes(h.id))).toBe(false);
    expect(hits!.length).toBe(N - 15);
    await rejectsCode(col.delete({}), 'ERR_INVALID_ARGUMENT');
  });

  it('get with ids keeps their order; limit, offset, include and peek', async () => {
    const col = await filled(new Client());
    expect((await col.get({ ids: ['r5', 'r1', 'zz', 'r3'] })).map((r) => r.id)).toEqual(['r5', 'r1', 'r3']);
    expect((await col.get({ limit: 3, offset: 2 })).map((r) => r.id)).toEqual(['r2', 'r3', 'r4']);
    const [one] = await col.get({ ids: ['r4'], include: ['embeddings'] });
    expect(one).toEqual({ id: 'r4', embedding: new Float32Array(rows(4)) });
    expect((await col.peek(2)).map((r) => r.id)).toEqual(['r0', 'r1']);
  });

  it('query: minScore / maxDistance thresholds, include, and several queries at once', async () => {
    const client = new Client();
    const col = await client.createCollection('cos', { metric: 'cosine' });
    await col.add({ ids: ['a', 'b', 'c'], embeddings: [[1, 0], [0.8, 0.6], [0, 1]] });
    const [near, far] = await col.query({ queryEmbeddings: [[1, 0], [0, 1]], nResults: 3, minScore: 0.7, include: [] });
    expect(near).toEqual([
      { id: 'a', distance: 0, score: 1 },
      { id: 'b', distance: expect.closeTo(0.2, 5), score: expect.closeTo(0.8, 5) },
    ]);
    expect(far!.map((m) => m.id)).toEqual(['c']);
    const [close] = await col.query({ queryEmbeddings: [[1, 0]], nResults: 3, maxDistance: 0.1 });
    expect(close!.map((m) => m.id)).toEqual(['a']);
    await rejectsCode(col.query({ nResults: 1 }), 'ERR_INVALID_ARGUMENT', /exactly one of queryEmbeddings and queryTexts/);
    await rejectsCode(col.query({ queryTexts: ['x'] }), 'ERR_INVALID_ARGUMENT', /needs an embedder/);
    await rejectsCode(col.query({ queryEmbeddings: [[1, 0, 0]] }), 'ERR_DIMENSION_MISMATCH');
  });
});

describe('clients and persistence', () => {
  it('manages collections and validates names', async () => {
    const client = new Client();
    await client.createCollection('alpha', { metadata: { owner: 'me' } });
    await rejectsCode(client.createCollection('alpha'), 'ERR_DUPLICATE_ID');
    for (const bad of ['ab', '-abc', 'abc-', 'a..b', 'has space', 'x'.repeat(64), 3 as never]) {
      await rejectsCode(client.createCollection(bad), 'ERR_INVALID_ARGUMENT');
    }
    await rejectsCode(client.getCollection('missing'), 'ERR_NOT_FOUND');
    const again = await client.getOrCreateCollection('alpha');
    expect(again.metadata).toEqual({ owner: 'me' });
    await client.getOrCreateCollection('beta', { metric: 'ip' });
    expect((await client.listCollections()).map((c) => [c.name, c.metric, c.count])).toEqual([
      ['alpha', 'cosine', 0],
      ['beta', 'ip', 0],
    ]);
    await client.deleteCollection('alpha');
    await rejectsCode(client.deleteCollection('alpha'), 'ERR_NOT_FOUND');
    expect((await client.listCollections()).map((c) => c.name)).toEqual(['beta']);
  });

  it('everything survives close and reopen; queries agree', async () => {
    const dir = tempDir();
    let client = await Client.open(dir);
    const col = await filled(client);
    await col.delete({ ids: ['r3'] });
    const before = await col.query({ queryEmbeddings: [rows(2), rows(9)], nResults: 7, where: { even: false } });
    await client.close();
    client = await Client.open(dir);
    const back = await client.getCollection('docs');
    expect(await back.count()).toBe(N - 1);
    expect(await back.query({ queryEmbeddings: [rows(2), rows(9)], nResults: 7, where: { even: false } })).toEqual(before);
    await client.close();
  });

  it('a missing or corrupt snapshot is rebuilt from the database', async () => {
    const dir = tempDir();
    let client = await Client.open(dir);
    await filled(client);
    await client.close(); // snapshot written
    const [snap] = readdirSync(join(dir, 'indexes'));
    expect(snap).toBeDefined();
    writeFileSync(join(dir, 'indexes', snap!), 'garbage');
    client = await Client.open(dir);
    const [hits] = await (await client.getCollection('docs')).query({ queryEmbeddings: [rows(11)], nResults: 1 });
    expect(hits![0]!.id).toBe('r11');
    await client.close();
    rmSync(join(dir, 'indexes'), { recursive: true });
    client = await Client.open(dir);
    expect(await (await client.getCollection('docs')).count()).toBe(N);
    const [again] = await (await client.getCollection('docs')).query({ queryEmbeddings: [rows(12)], nResults: 1 });
    expect(again![0]!.id).toBe('r12');
    await client.close();
  });

  it('a second client on the same directory, in this process or another, gets ERR_LOCKED', async () => {
    const dir = tempDir();
    const client = await Client.open(dir);
    await rejectsCode(Client.open(dir), 'ERR_LOCKED', /open in another process/);
    const opener = fileURLToPath(new URL('../helpers/open-dir.ts', import.meta.url));
    const other = () => spawnSync(process.execPath, ['--import', 'tsx', opener, dir], { encoding: 'utf8' }).stdout.trim();
    expect(other()).toBe('ERR_LOCKED');
    await client.close();
    expect(other()).toBe('opened'); // the lock goes with the client
  });

  it('a closed client refuses work, and so do its collections (ERR_CLOSED, never a raw error)', async () => {
    const client = new Client();
    const col = await filled(client);
    await client.close();
    await rejectsCode(client.listCollections(), 'ERR_CLOSED', /closed/);
    await rejectsCode(col.count(), 'ERR_CLOSED', /closed/);
    await rejectsCode(col.query({ queryEmbeddings: [rows(0)] }), 'ERR_CLOSED', /closed/);
    await rejectsCode(col.add({ ids: ['z'], embeddings: [rows(0)] }), 'ERR_CLOSED', /closed/);
    const persistent = await Client.open(tempDir());
    const pcol = await filled(persistent);
    await persistent.close();
    await rejectsCode(pcol.get(), 'ERR_CLOSED', /closed/);
    await rejectsCode(pcol.delete({ ids: ['r1'] }), 'ERR_CLOSED', /closed/);
  });
});

describe('wide filters', () => {
  it('are exact whether the unfiltered shortcut finds enough matches or falls back to the allow-list', async () => {
    const col = await new Client().createCollection('wide', { metric: 'l2' });
    const n = 1000;
    // 80% of the records sit near the origin (cat a), 20% far away (cat b).
    const emb = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? [100 + i / 100, 100, 100] : [i / 1000, 0, 0]));
    await col.add({ ids: emb.map((_, i) => `p${i}`), embeddings: emb, metadatas: emb.map((_, i) => ({ cat: i % 5 === 0 ? 'b' : 'a' })) });
    const q = [0, 0, 0];
    const exact = (cat: string) =>
      emb
        .map((v, i) => ({ id: `p${i}`, d: v.reduce((s, x) => s + x * x, 0), cat: i % 5 === 0 ? 'b' : 'a' }))
        .filter((r) => r.cat === cat)
        .sort((a, b) => a.d - b.d)
        .slice(0, 10)
        .map((r) => r.id);
    for (const cat of ['a', 'b']) {
      const [hits] = await col.query({ queryEmbeddings: [q], nResults: 10, where: { cat } });
      expect(hits!.map((h) => h.id)).toEqual(exact(cat));
    }
  });
});

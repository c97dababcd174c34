/**
 * Nothing lost, nothing poisoned: bad input is refused before anything is
 * written, a damaged row never keeps a collection from opening, handles
 * belong to one collection, snapshots are bound to their collection, and
 * writes leave the event loop free.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { Client, Embedder, FileFormatError, SemvecIOError, type SemvecWarning } from '../../src/index.js';
import { randomVectors } from '../helpers/data.js';
import { haveToyModel, useToyModel } from '../helpers/models.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'semvec-integrity-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function errorOf(p: Promise<unknown>): Promise<{ code?: string; message: string } & Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the call to fail').toBeInstanceOf(Error);
  return err as { code?: string; message: string } & Error;
}

const DIM = 4;
const vec = (i: number) => [Math.cos(i), Math.sin(i), (i % 5) / 5, 1];

async function seeded(client: Client, name = 'docs', n = 10) {
  const col = await client.createCollection(name, { metric: 'l2' });
  await col.add({
    ids: Array.from({ length: n }, (_, i) => `r${i}`),
    embeddings: Array.from({ length: n }, (_, i) => vec(i)),
    documents: Array.from({ length: n }, (_, i) => `doc ${i}`),
    metadatas: Array.from({ length: n }, (_, i) => ({ i })),
  });
  return col;
}

describe('non-finite embeddings never reach the database', () => {
  it('NaN or Infinity in a Float32Array is refused by add, upsert and update, and nothing changes', async () => {
    const dir = tempDir();
    const client = await Client.open(dir);
    const col = await seeded(client);
    const bad = new Float32Array([0.1, NaN, 0.3, 0.4]);
    expect((await errorOf(col.add({ ids: ['x'], embeddings: bad }))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await errorOf(col.upsert({ ids: ['r1'], embeddings: new Float32Array([Infinity, 0, 0, 0]) }))).message).toMatch(/finite/);
    expect((await errorOf(col.update({ ids: ['r2'], embeddings: bad }))).code).toBe('ERR_INVALID_ARGUMENT');
    expect(await col.count()).toBe(10);
    const [hits] = await col.query({ queryEmbeddings: [vec(1)], nResults: 1 });
    expect(hits![0]!.id).toBe('r1');
    await client.close();
    // The directory reopens, and every record is still searchable.
    const again = await Client.open(dir);
    const reopened = await again.getCollection('docs');
    const [h2] = await reopened.query({ queryEmbeddings: [vec(2)], nResults: 1 });
    expect(h2![0]!.id).toBe('r2');
    expect(await reopened.get({ ids: ['x'] })).toEqual([]);
    await again.close();
  });

  it('a damaged stored embedding is skipped with a SEMVEC_SKIPPED_RECORD warning; the collection still opens', async () => {
    const dir = tempDir();
    const client = await Client.open(dir);
    await seeded(client);
    await client.close();
    // Damage two records behind semvec's back, and drop the snapshot so the index is rebuilt.
    const db = new Database(join(dir, 'semvec.db'));
    const nan = Buffer.from(new Float32Array([NaN, 0, 0, 0]).buffer);
    db.prepare("UPDATE embeddings SET embedding = ? WHERE rid = (SELECT rid FROM records WHERE id = 'r3')").run(nan);
    db.prepare("UPDATE embeddings SET embedding = ? WHERE rid = (SELECT rid FROM records WHERE id = 'r4')").run(Buffer.alloc(6));
    db.prepare('DELETE FROM snapshots').run();
    db.close();
    for (const f of readdirSync(join(dir, 'indexes'))) rmSync(join(dir, 'indexes', f));

    const warnings: SemvecWarning[] = [];
    const again = await Client.open(dir, { onWarning: (w) => warnings.push(w) });
    const col = await again.getCollection('docs');
    expect(warnings.map((w) => w.code)).toEqual(['SEMVEC_SKIPPED_RECORD', 'SEMVEC_SKIPPED_RECORD']);
    expect(warnings.map((w) => w.message).join('\n')).toMatch(/"r3".*NaN/s);
    expect(warnings.map((w) => w.message).join('\n')).toMatch(/"r4".*values/s);
    expect(await col.count()).toBe(10);
    const [hits] = await col.query({ queryEmbeddings: [vec(5)], nResults: 10 });
    expect(hits!.map((h) => h.id).sort()).toEqual(['r0', 'r1', 'r2', 'r5', 'r6', 'r7', 'r8', 'r9']);
    // Rewriting the damaged record repairs it.
    await col.upsert({ ids: ['r3'], embeddings: [vec(3)] });
    const [h3] = await col.query({ queryEmbeddings: [vec(3)], nResults: 1 });
    expect(h3![0]!.id).toBe('r3');
    await again.close();
  });
});

describe.skipIf(!haveToyModel)('embedders: texts and vectors never disagree', () => {
  const toy = useToyModel();

  it('update of documents without an embedder is refused, and the stored text is unchanged', async () => {
    const client = new Client();
    const created = await client.createCollection('notes', { embedder: toy.model() });
    await created.add({ ids: ['a'], documents: ['first text'] });
    const dir = tempDir();
    const persistent = await Client.open(dir);
    const col = await persistent.createCollection('plain', { metric: 'cosine' });
    await col.add({ ids: ['a'], embeddings: [[1, 0, 0]], documents: ['old'] });
    const err = await errorOf(col.update({ ids: ['a'], documents: ['new text'] }));
    expect(err.code).toBe('ERR_INVALID_ARGUMENT');
    expect(err.message).toMatch(/no embedder/);
    expect((await col.get({ ids: ['a'] }))[0]!.document).toBe('old');
    // With the embedder, the document is re-embedded.
    await created.update({ ids: ['a'], documents: ['second text'] });
    const [hit] = await created.query({ queryTexts: 'second text', nResults: 1 });
    expect(hit![0]!.score).toBeCloseTo(1, 5);
    await persistent.close();
    await client.close();
  });

  it('getCollection refuses an embedder other than the one the collection was built with (ERR_EMBEDDER_MISMATCH)', async () => {
    const dir = tempDir();
    const client = await Client.open(dir);
    await client.createCollection('notes', { embedder: toy.model() });
    await client.close();
    const cls = await Embedder.load(toy.dir(), { pooling: 'cls' });
    try {
      const again = await Client.open(dir);
      const err = await errorOf(again.getCollection('notes', { embedder: cls }));
      expect(err.code).toBe('ERR_EMBEDDER_MISMATCH');
      expect(err.message).toMatch(/"pooling":"mean"/);
      // The same embedder is accepted, and a collection built without one records the first it is given.
      await expect(again.getCollection('notes', { embedder: toy.model() })).resolves.toBeDefined();
      const plain = await again.createCollection('plain');
      await again.getCollection('plain', { embedder: cls });
      await again.close();
      const third = await Client.open(dir);
      expect((await errorOf(third.getCollection('plain', { embedder: toy.model() }))).code).toBe('ERR_EMBEDDER_MISMATCH');
      await third.close();
      expect(plain.name).toBe('plain');
    } finally {
      await cls.close();
    }
  });
});

describe('handles belong to one collection', () => {
  it('a stale handle after deleteCollection + createCollection of the same name refuses work and never writes into the new collection', async () => {
    for (const client of [new Client(), await Client.open(tempDir())]) {
      const stale = await seeded(client, 'docs', 3);
      await client.deleteCollection('docs');
      const fresh = await client.createCollection('docs', { metric: 'l2' });
      const err = await errorOf(stale.add({ ids: ['s'], embeddings: [vec(1)] }));
      expect(err.code).toBe('ERR_NOT_FOUND');
      expect(err.message).toMatch(/was deleted/);
      expect((await errorOf(stale.query({ queryEmbeddings: [vec(1)] }))).code).toBe('ERR_NOT_FOUND');
      expect((await errorOf(stale.count())).code).toBe('ERR_NOT_FOUND');
      expect(await fresh.count()).toBe(0);
      await fresh.add({ ids: ['n'], embeddings: [vec(2)] });
      const [hits] = await fresh.query({ queryEmbeddings: [vec(2)] });
      expect(hits!.map((h) => h.id)).toEqual(['n']);
      await client.close();
    }
  });
});

describe('Chroma options are honoured or refused', () => {
  it("metadata { 'hnsw:space': 'l2' } makes an l2 collection; other hnsw settings and contradictions are refused", async () => {
    const client = new Client();
    const col = await client.createCollection('spaced', { metadata: { 'hnsw:space': 'l2' } });
    expect(col.metric).toBe('l2');
    await col.add({ ids: ['a', 'b'], embeddings: [[0, 0], [3, 4]] });
    const [hits] = await col.query({ queryEmbeddings: [[0, 0]], nResults: 2 });
    expect(hits!.map((h) => h.distance)).toEqual([0, 25]);
    expect((await client.listCollections()).find((c) => c.name === 'spaced')!.metric).toBe('l2');
    expect((await errorOf(client.createCollection('tuned', { metadata: { 'hnsw:M': 32 } }))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await errorOf(client.createCollection('both', { metric: 'ip', metadata: { 'hnsw:space': 'l2' } }))).message).toMatch(/disagrees/);
    expect((await errorOf(client.createCollection('odd', { metadata: { 'hnsw:space': 'manhattan' } }))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await errorOf(client.createCollection('nul', { metric: null as never }))).code).toBe('ERR_INVALID_ARGUMENT');
    await client.close();
  });

  it('query ids restrict the candidates (with where, both must hold)', async () => {
    const client = new Client();
    const col = await seeded(client);
    const [hits] = await col.query({ queryEmbeddings: [vec(1)], ids: ['r7', 'r8', 'nope'], nResults: 5 });
    expect(hits!.map((h) => h.id).sort()).toEqual(['r7', 'r8']);
    const [both] = await col.query({ queryEmbeddings: [vec(1)], ids: ['r7', 'r8'], where: { i: 8 } });
    expect(both!.map((h) => h.id)).toEqual(['r8']);
    const [none] = await col.query({ queryEmbeddings: [vec(1)], ids: ['nope'] });
    expect(none).toEqual([]);
    await client.close();
  });
});

describe('a collection that was never written', () => {
  it('one empty result list per query for rows; a flat Float32Array is a typed error (the dimension is unknown)', async () => {
    const client = new Client();
    const col = await client.createCollection('empty');
    expect(await col.query({ queryEmbeddings: [new Array(384).fill(0.1)] })).toEqual([[]]);
    expect(await col.query({ queryEmbeddings: [[1, 2], [3, 4]] })).toEqual([[], []]);
    const err = await errorOf(col.query({ queryEmbeddings: new Float32Array(384) }));
    expect(err.code).toBe('ERR_INVALID_ARGUMENT');
    expect(err.message).toMatch(/dimension is unknown/);
    await client.close();
  });
});

describe('filters are bounded', () => {
  it('too deep a where or too many whereDocument terms is a typed error; long flat lists work', async () => {
    const client = new Client();
    const col = await seeded(client);
    let deep: Record<string, unknown> = { i: 1 };
    for (let d = 0; d < 1500; d++) deep = { $and: [deep] };
    const e1 = await errorOf(col.get({ where: deep as never }));
    expect(e1.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e1.message).toMatch(/nested/);
    const terms = Array.from({ length: 1001 }, (_, t) => ({ $contains: `doc ${t}` }));
    const e2 = await errorOf(col.get({ whereDocument: { $or: terms } }));
    expect(e2.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e2.message).toMatch(/1000/);
    // 1,000 terms (SQLite's expression depth limit is 1,000) and a 30-deep where still work.
    expect((await col.get({ whereDocument: { $or: terms.slice(0, 1000) } })).length).toBe(10);
    let ok: Record<string, unknown> = { i: 1 };
    for (let d = 0; d < 30; d++) ok = { $or: [ok] };
    expect((await col.get({ where: ok as never })).map((r) => r.id)).toEqual(['r1']);
    // $in over many values is one pass.
    expect((await col.get({ where: { i: { $in: Array.from({ length: 50_000 }, (_, k) => k * 2) } } })).length).toBe(5);
    await client.close();
  });
});

describe('snapshots are bound to their collection', () => {
  it('another valid index file of the same count in place of a snapshot is not trusted: rebuilt, with a warning', async () => {
    const a = tempDir();
    const b = tempDir();
    const ca = await Client.open(a);
    await seeded(ca);
    await ca.close();
    const cb = await Client.open(b);
    const other = await cb.createCollection('docs', { metric: 'l2' });
    await other.add({ ids: Array.from({ length: 10 }, (_, i) => `r${i}`), embeddings: Array.from({ length: 10 }, (_, i) => vec(i + 100)) });
    await cb.close();
    const [snapA] = readdirSync(join(a, 'indexes'));
    const [snapB] = readdirSync(join(b, 'indexes'));
    copyFileSync(join(b, 'indexes', snapB!), join(a, 'indexes', snapA!));

    const warnings: SemvecWarning[] = [];
    const client = await Client.open(a, { onWarning: (w) => warnings.push(w) });
    const col = await client.getCollection('docs');
    expect(warnings.map((w) => w.code)).toEqual(['SEMVEC_SNAPSHOT_REBUILT']);
    for (const i of [0, 4, 9]) {
      const [hits] = await col.query({ queryEmbeddings: [vec(i)], nResults: 1 });
      expect(hits![0]!.id).toBe(`r${i}`);
      expect(hits![0]!.distance).toBeCloseTo(0, 5);
    }
    await client.close();
  });
});

describe('errors are classed by their code', () => {
  it('Client.open on a file, a damaged database and a newer schema throw SemvecIOError / FileFormatError', async () => {
    const dir = tempDir();
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a directory');
    const e1 = await errorOf(Client.open(file));
    expect(e1).toBeInstanceOf(SemvecIOError);
    expect(e1.code).toBe('ERR_IO');

    const damaged = tempDir();
    writeFileSync(join(damaged, 'semvec.db'), Buffer.alloc(4096, 7));
    const e2 = await errorOf(Client.open(damaged));
    expect(e2).toBeInstanceOf(FileFormatError);
    expect(e2.code).toBe('ERR_CORRUPT_FILE');

    const newer = tempDir();
    await (await Client.open(newer)).close();
    const db = new Database(join(newer, 'semvec.db'));
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    const e3 = await errorOf(Client.open(newer));
    expect(e3).toBeInstanceOf(FileFormatError);
    expect(e3.code).toBe('ERR_UNSUPPORTED_VERSION');
  });

  it('a database of schema 1 opens: migrated, and its records searchable', async () => {
    const dir = tempDir();
    const db = new Database(join(dir, 'semvec.db'));
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE collections (cid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, metric TEXT NOT NULL, dim INTEGER, index_kind TEXT NOT NULL, metadata TEXT, created_at TEXT NOT NULL);
      CREATE TABLE records (rid INTEGER PRIMARY KEY AUTOINCREMENT, cid INTEGER NOT NULL REFERENCES collections(cid) ON DELETE CASCADE, id TEXT NOT NULL, document TEXT, metadata TEXT, UNIQUE (cid, id));
      CREATE TABLE embeddings (rid INTEGER PRIMARY KEY REFERENCES records(rid) ON DELETE CASCADE, embedding BLOB NOT NULL);
      CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, cid INTEGER NOT NULL, rid INTEGER NOT NULL, op INTEGER NOT NULL);
      CREATE TABLE snapshots (cid INTEGER PRIMARY KEY REFERENCES collections(cid) ON DELETE CASCADE, seq INTEGER NOT NULL, file TEXT NOT NULL);
      INSERT INTO meta VALUES ('schema_version', '1');
      INSERT INTO collections VALUES (1, 'old', 'l2', 2, 'flat', NULL, '2026-01-01');
      INSERT INTO records (cid, id, document, metadata) VALUES (1, 'a', 'first', '{"k":1}'), (1, 'b', 'second', NULL);
    `);
    const put = db.prepare('INSERT INTO embeddings VALUES (?, ?)');
    put.run(1, Buffer.from(new Float32Array([0, 0]).buffer));
    put.run(2, Buffer.from(new Float32Array([3, 4]).buffer));
    db.close();
    const client = await Client.open(dir);
    const col = await client.getCollection('old');
    const [hits] = await col.query({ queryEmbeddings: [[3, 4]], nResults: 2 });
    expect(hits!.map((h) => [h.id, h.distance])).toEqual([['b', 0], ['a', 25]]);
    await client.deleteCollection('old');
    const made = await client.createCollection('new');
    await made.add({ ids: ['x'], embeddings: [[1, 1]] });
    await client.close();
    const check = new Database(join(dir, 'semvec.db'), { readonly: true });
    expect(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('3');
    expect(check.prepare("SELECT cid FROM collections WHERE name = 'new'").pluck().get()).toBe(2); // cid 1 is not reused
    check.close();
  });
});

describe('metadata keys', () => {
  it('update stores a key named __proto__ as add does', async () => {
    const client = new Client();
    const col = await client.createCollection('protos');
    const proto = (v: string) => JSON.parse(`{"__proto__": "${v}"}`) as Record<string, string>;
    await col.add({ ids: ['a', 'b'], embeddings: [[1, 0], [0, 1]], metadatas: [{ n: 1 }, { ...proto('x'), n: 2 }] });
    await col.update({ ids: ['a', 'b'], metadatas: [proto('y'), { n: 3 }] });
    const [a, b] = await col.get({ ids: ['a', 'b'] });
    expect(Object.entries(a!.metadata!)).toEqual([['n', 1], ['__proto__', 'y']]);
    expect(Object.entries(b!.metadata!)).toEqual([['__proto__', 'x'], ['n', 3]]);
    expect((await col.get({ where: proto('y') as never })).map((r) => r.id)).toEqual(['a']);
    await client.close();
  });
});

describe('writes keep the event loop free', () => {
  it('a 20,000-record add, an upsert, a checkpoint and a delete never block the loop for long', async () => {
    const client = await Client.open(tempDir());
    const col = await client.createCollection('big', { metric: 'cosine' });
    const n = 20_000;
    const dim = 64;
    const ids = Array.from({ length: n }, (_, i) => `k${i}`);
    const vectors = randomVectors(n, dim, 3);
    let last = performance.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 2);
    try {
      const metadatas = ids.map((_, i) => ({ i, even: i % 2 === 0 }));
      await col.add({ ids, embeddings: vectors, documents: ids, metadatas });
      await col.upsert({ ids: ids.slice(0, 5000), embeddings: vectors.slice(0, 5000 * dim), metadatas: metadatas.slice(0, 5000) });
      await client.checkpoint();
      await col.delete({ where: { even: true } });
    } finally {
      clearInterval(timer);
    }
    expect(await col.count()).toBe(n / 2);
    // Committing 20,000 records on the event loop blocks it for hundreds of
    // milliseconds; validation alone (what remains) for a few tens.
    expect(worst).toBeLessThan(250);
    console.log(`longest event-loop stall during 20,000-record writes: ${worst.toFixed(1)} ms`);
    await client.close();
  });
});

/**
 * Streaming writes: add/upsert of an iterable or async iterable of records,
 * embedded and written in bounded batches with backpressure, with progress,
 * chunking of long documents, and errors that leave earlier batches written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Client, type IngestProgress, type IngestRecord } from '../../src/index.js';
import { haveToyModel, useToyModel } from '../helpers/models.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'semvec-ingest-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const vec = (i: number): number[] => [Math.cos(i), Math.sin(i), (i % 5) / 5, 1];

/** A source that counts how far it has been read. */
function counted(n: number, make: (i: number) => IngestRecord): { source: AsyncIterable<IngestRecord>; read(): number; closed(): boolean } {
  let read = 0;
  let closed = false;
  async function* gen(): AsyncGenerator<IngestRecord> {
    try {
      for (let i = 0; i < n; i++) {
        read++;
        yield make(i);
      }
    } finally {
      closed = true;
    }
  }
  return { source: gen(), read: () => read, closed: () => closed };
}

describe('streams of records with embeddings', () => {
  it('writes every record of an async iterable in batches, reading the source only as batches are written', async () => {
    const client = await Client.open(tempDir());
    try {
      const col = await client.createCollection('stream', { metric: 'l2' });
      const src = counted(1000, (i) => ({ id: `r${i}`, embedding: vec(i), document: `doc ${i}`, metadata: { i } }));
      const seen: IngestProgress[] = [];
      let maxAhead = 0;
      const result = await col.add(src.source, {
        batchSize: 64,
        total: 1000,
        onProgress: (p) => {
          seen.push(p);
          maxAhead = Math.max(maxAhead, src.read() - p.written);
        },
      });
      expect(result).toMatchObject({ records: 1000, written: 1000, truncated: 0, deletedChunks: 0 });
      expect(await col.count()).toBe(1000);
      expect((await col.get({ ids: ['r999'] }))[0]).toMatchObject({ id: 'r999', document: 'doc 999', metadata: { i: 999 } });
      // Backpressure: never more than two batches (one being written, one being prepared) and a record ahead of the writes.
      expect(maxAhead).toBeLessThanOrEqual(2 * 64 + 1);
      const writes = seen.filter((p, i) => i === 0 || p.written !== seen[i - 1]!.written);
      expect(writes.length).toBeGreaterThanOrEqual(Math.ceil(1000 / 64));
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.written).toBeGreaterThanOrEqual(seen[i - 1]!.written);
      const last = seen.at(-1)!;
      expect(last).toMatchObject({ records: 1000, written: 1000, total: 1000, etaSeconds: 0 });
      expect(last.recordsPerSecond).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('upsert takes a plain array or a sync generator too, and replaces records', async () => {
    const client = await Client.open(tempDir());
    try {
      const col = await client.createCollection('stream', { metric: 'l2' });
      await col.upsert([0, 1, 2].map((i) => ({ id: `r${i}`, embedding: vec(i), document: `old ${i}` })));
      function* again(): Generator<IngestRecord> {
        for (let i = 1; i < 5; i++) yield { id: `r${i}`, embedding: vec(i), document: `new ${i}` };
      }
      const r = await col.upsert(again(), { batchSize: 3 });
      expect(r.written).toBe(4);
      expect((await col.get({ include: ['documents'] })).map((x) => x.document).sort()).toEqual(['new 1', 'new 2', 'new 3', 'new 4', 'old 0']);
      // An id repeated within a batch: the later one wins, as with consecutive upserts.
      await col.upsert([{ id: 'r0', embedding: vec(0), document: 'a' }, { id: 'r0', embedding: vec(0), document: 'b' }]);
      expect((await col.get({ ids: 'r0' }))[0]!.document).toBe('b');
    } finally {
      await client.close();
    }
  });

  it('a bad record stops the stream: earlier batches stay written, the source is closed, the error is typed', async () => {
    const client = await Client.open(tempDir());
    try {
      const col = await client.createCollection('stream', { metric: 'l2' });
      const src = counted(100, (i) => (i === 50 ? ({ id: '', embedding: vec(i) } as IngestRecord) : { id: `r${i}`, embedding: vec(i) }));
      await expect(col.add(src.source, { batchSize: 16 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: /add: record 50: id must be a non-empty string/ });
      expect(src.closed()).toBe(true);
      expect(src.read()).toBe(51);
      expect(await col.count()).toBe(48); // three whole batches of 16
      // add refuses ids already there, in the batch that has them.
      const dup = counted(40, (i) => ({ id: `r${i + 40}`, embedding: vec(i) }));
      await expect(col.add(dup.source, { batchSize: 16 })).rejects.toMatchObject({ code: 'ERR_DUPLICATE_ID' });
      expect(dup.closed()).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('an aborted stream stops between batches with the signal reason', async () => {
    const client = await Client.open(tempDir());
    try {
      const col = await client.createCollection('stream', { metric: 'l2' });
      const ac = new AbortController();
      const src = counted(1000, (i) => ({ id: `r${i}`, embedding: vec(i) }));
      const reason = new Error('stop');
      const p = col.add(src.source, { batchSize: 10, signal: ac.signal, onProgress: (x) => x.written >= 20 && ac.abort(reason) });
      await expect(p).rejects.toBe(reason);
      const n = await col.count();
      expect(n).toBeGreaterThanOrEqual(20);
      expect(n).toBeLessThan(1000);
      expect(n % 10).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('rejects bad options and streams mixing records with and without embeddings', async () => {
    const client = await Client.open(tempDir());
    try {
      const col = await client.createCollection('stream', { metric: 'l2' });
      await expect(col.add([], { batchSize: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: /add: options\.batchSize must be an integer from 1/ });
      await expect(col.add([], { onProgress: 3 as never })).rejects.toMatchObject({ message: /options\.onProgress must be a function/ });
      await expect(col.add([], { chunk: true })).rejects.toMatchObject({ message: /options\.chunk needs the collection's embedder/ });
      await expect(col.add([{ id: 'a', embedding: vec(0) }, { id: 'b', document: 'x' }])).rejects.toMatchObject({ message: /for every record of a stream or for none/ });
      await expect(col.add([{ id: 'b', document: 'x' }])).rejects.toMatchObject({ message: /embeddings are required because the collection "stream" has no embedder/ });
      await expect(col.add([42 as never])).rejects.toMatchObject({ message: /record 0 must be an object/ });
      expect(await col.count()).toBe(0);
      expect(await col.add([])).toMatchObject({ records: 0, written: 0 });
    } finally {
      await client.close();
    }
  });
});

describe('distinct queries', () => {
  it('fetch more candidates until enough distinct values are found, however many near-duplicates rank first', async () => {
    const client = await Client.open(tempDir());
    try {
      const col = await client.createCollection('stream', { metric: 'l2' });
      // 200 chunks of source a close to the query, then b, then a record without the key.
      await col.add(
        Array.from({ length: 200 }, (_, i): IngestRecord => ({ id: `a#${i}`, embedding: [1 + i * 1e-4, 0, 0, 0], metadata: { source_id: 'a' } })).concat(
          { id: 'b#0', embedding: [0, 1, 0, 0], metadata: { source_id: 'b' } },
          { id: 'loose', embedding: [0, 0, 1, 0], metadata: { other: 1 } },
        ),
      );
      const [top] = await col.query({ queryEmbeddings: [[1, 0, 0, 0]], nResults: 3, distinct: 'source_id' });
      expect(top!.map((m) => m.id)).toEqual(['a#0', 'b#0', 'loose']);
      const [filtered] = await col.query({ queryEmbeddings: [[1, 0, 0, 0]], nResults: 3, distinct: 'source_id', where: { source_id: 'a' } });
      expect(filtered!.map((m) => m.id)).toEqual(['a#0']);
    } finally {
      await client.close();
    }
  });
});

describe.skipIf(!haveToyModel)('streams embedded by the collection, and chunked', () => {
  const toy = useToyModel();
  const long = Array.from({ length: 120 }, (_, i) => `Sentence number ${i} of a long document about vector search.`).join(' ');

  it('embeds documents, counts tokens, and reports documents cut at the window', async () => {
    const client = await Client.open(tempDir());
    try {
      const col = await client.createCollection('docs', { embedder: toy.model() });
      const seen: IngestProgress[] = [];
      const r = await col.add(
        (async function* () {
          yield { id: 'short', document: 'A short text.' };
          yield { id: 'long', document: long };
        })(),
        { onProgress: (p) => seen.push(p) },
      );
      expect(r).toMatchObject({ records: 2, written: 2, truncated: 1 });
      expect(r.tokens).toBe(toy.model().countTokens('A short text.') + toy.model().maxTokens);
      expect(seen.at(-1)!.tokens).toBe(r.tokens);
      const [hit] = (await col.query({ queryTexts: 'A short text.', nResults: 1 }))[0]!;
      expect(hit!.id).toBe('short');
    } finally {
      await client.close();
    }
  });

  it('chunk splits long documents into linked chunks; an upsert of a shorter version deletes the chunks it lost', async () => {
    const client = await Client.open(tempDir());
    try {
      const model = toy.model();
      const col = await client.createCollection('docs', { embedder: model });
      const chunk = { window: 64, overlap: 8 };
      const expected = model.chunk(long, chunk);
      expect(expected.length).toBeGreaterThan(5);
      const r = await col.upsert([{ id: 'doc', document: long, metadata: { lang: 'en' } }, { id: 'small', document: 'Tiny.' }], { chunk });
      expect(r).toMatchObject({ records: 2, written: expected.length + 1, truncated: 0 });
      const stored = await col.get({ where: { source_id: 'doc' } });
      expect(stored.map((s) => s.id).sort()).toEqual(expected.map((c) => `doc#${c.index}`).sort());
      for (const c of expected) {
        const s = stored.find((x) => x.id === `doc#${c.index}`)!;
        expect(s.document).toBe(c.text);
        expect(s.metadata).toEqual({ lang: 'en', source_id: 'doc', chunk: c.index, chunk_start: c.start, chunk_end: c.end });
        expect(long.slice(c.start, c.end)).toBe(s.document);
      }
      expect((await col.get({ ids: 'small#0' }))[0]!.metadata).toMatchObject({ source_id: 'small', chunk: 0 });

      // One best chunk per source: a chunk's own text finds it first, then the other source.
      const [best] = await col.query({ queryTexts: expected[3]!.text, nResults: 5, distinct: 'source_id' });
      expect(best!.map((m) => m.id)).toEqual(['doc#3', 'small#0']);
      const [plain] = await col.query({ queryTexts: expected[3]!.text, nResults: 5 });
      expect(plain!.filter((m) => m.metadata?.source_id === 'doc').length).toBeGreaterThan(1);
      const [one] = await col.query({ queryTexts: expected[3]!.text, nResults: 1, distinct: 'source_id', include: [] });
      expect(one!.map((m) => m.id)).toEqual(['doc#3']);
      await expect(col.query({ queryTexts: 'x', distinct: 3 as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: /distinct must be a metadata key/ });

      const shorter = long.slice(0, 600);
      const again = await col.upsert([{ id: 'doc', document: shorter }], { chunk });
      const now = model.chunk(shorter, chunk);
      expect(again.deletedChunks).toBe(expected.length - now.length);
      expect((await col.get({ where: { source_id: 'doc' } })).map((s) => s.id).sort()).toEqual(now.map((c) => `doc#${c.index}`).sort());
      expect(await col.count()).toBe(now.length + 1);
    } finally {
      await client.close();
    }
  });
});

/**
 * semvec/chroma in process: Chroma's API and result shapes, the space from
 * configuration or metadata, errors named as Chroma names them, and every
 * Chroma feature semvec lacks refused with a typed error naming it.
 */
import { describe, expect, it } from 'vitest';

import {
  ChromaClient,
  ChromaNotFoundError,
  ChromaUniqueError,
  ChromaUnsupportedError,
  ChromaValueError,
  GetResult,
  IncludeEnum,
  MAX_BATCH_SIZE,
  QueryResult,
  SemvecEmbeddingFunction,
  type EmbeddingFunction,
} from '../../src/chroma/index.js';
import { collectionId, cidOf } from '../../src/chroma/ids.js';
import { SemvecError } from '../../src/index.js';
import { haveToyModel, useToyModel } from '../helpers/models.js';
import { tempDir } from '../helpers/temp.js';

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

async function unsupportedFeature(p: Promise<unknown>, feature: RegExp): Promise<void> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(ChromaUnsupportedError);
  expect(err).toBeInstanceOf(SemvecError);
  expect((err as ChromaUnsupportedError).code).toBe('ERR_UNSUPPORTED');
  expect((err as ChromaUnsupportedError).feature).toMatch(feature);
  expect(err.message).toMatch(/not supported by semvec/);
}

/** Counts its calls, and embeds queries differently from documents (so the test sees which was used). */
class Recording implements EmbeddingFunction {
  name = 'recording';
  documents = 0;
  queries = 0;
  async generate(texts: string[]): Promise<number[][]> {
    this.documents += texts.length;
    return texts.map((t) => [t.length, 1, 0]);
  }
  async generateForQueries(texts: string[]): Promise<number[][]> {
    this.queries += texts.length;
    return texts.map((t) => [t.length, 0, 1]);
  }
}

describe('semvec/chroma ChromaClient', () => {
  it('answers the system calls as a Chroma server does', async () => {
    const client = new ChromaClient();
    expect(typeof (await client.heartbeat())).toBe('number');
    expect(await client.version()).toMatch(/^\d+\.\d+\.\d+/);
    expect(await client.getUserIdentity()).toEqual({ user_id: '', tenant: 'default_tenant', databases: ['default_database'] });
    expect(await client.getMaxBatchSize()).toBe(MAX_BATCH_SIZE);
    expect(await client.getPreflightChecks()).toEqual({ max_batch_size: MAX_BATCH_SIZE, supports_base64_encoding: false });
    expect(client.tenant).toBe('default_tenant');
    expect(client.database).toBe('default_database');
  });

  it('returns columnar results with rows(), and include with Chroma values', async () => {
    const client = new ChromaClient();
    const col = await client.createCollection({ name: 'docs', embeddingFunction: null });
    await col.add({ ids: ['a', 'b', 'c'], embeddings: [[1, 0], [0, 1], [1, 1]], documents: ['first', 'second', 'third'], metadatas: [{ k: 1 }, { k: 2 }, { k: 3 }] });
    const got = await col.get({ ids: ['c', 'a'] });
    expect(got).toBeInstanceOf(GetResult);
    expect(got.ids).toEqual(['c', 'a']);
    expect(got.documents).toEqual(['third', 'first']);
    expect(got.metadatas).toEqual([{ k: 3 }, { k: 1 }]);
    expect(got.embeddings).toEqual([]);
    expect(got.include).toEqual(['documents', 'metadatas']);
    expect(got.rows()[0]).toEqual({ id: 'c', document: 'third', metadata: { k: 3 }, embedding: undefined, uri: undefined });
    const withEmb = await col.get({ ids: ['b'], include: [IncludeEnum.embeddings, IncludeEnum.uris] });
    expect(withEmb.embeddings).toEqual([[0, 1]]);
    expect(withEmb.uris).toEqual([null]);
    expect(withEmb.documents).toEqual([]);
    const res = await col.query({ queryEmbeddings: [[1, 0], [0, 1]], nResults: 2 });
    expect(res).toBeInstanceOf(QueryResult);
    expect(res.ids).toEqual([['a', 'c'], ['b', 'c']]);
    expect(res.include).toEqual(['metadatas', 'documents', 'distances']);
    expect(res.distances[0]![0]).toBeCloseTo(0, 6);
    expect(res.distances[0]![1]).toBeCloseTo(1 - Math.SQRT1_2, 6);
    expect(res.rows()[1]![0]).toMatchObject({ id: 'b', document: 'second', metadata: { k: 2 } });
    const ids = await col.query({ queryEmbeddings: [[1, 0]], nResults: 5, include: [], ids: ['b', 'c'] });
    expect(ids.ids).toEqual([['c', 'b']]);
    expect(ids.distances).toEqual([]);
    expect((await col.peek({ limit: 2 })).ids).toEqual(['a', 'b']);
    expect((await col.peek()).ids).toEqual(['a', 'b', 'c']);
    expect(await col.count({ readLevel: 'index_only' })).toBe(3);
    await expect(col.get({ include: ['distances'] })).rejects.toThrow(/distances is not allowed/);
  });

  it('takes the space from configuration, from hnsw:space metadata, or from the embedding function', async () => {
    const client = new ChromaClient();
    const fromConfig = await client.createCollection({ name: 'col1', configuration: { hnsw: { space: 'l2' } }, embeddingFunction: null });
    const fromSpann = await client.createCollection({ name: 'col2', configuration: { spann: { space: 'ip' } }, embeddingFunction: null });
    const fromMeta = await client.createCollection({ name: 'col3', metadata: { 'hnsw:space': 'ip' }, embeddingFunction: null });
    const fromEf = await client.createCollection({ name: 'col4', embeddingFunction: { name: 'x', generate: async (t) => t.map(() => [1]), defaultSpace: () => 'l2' } });
    const plain = await client.createCollection({ name: 'col5', embeddingFunction: null });
    expect([fromConfig, fromSpann, fromMeta, fromEf, plain].map((c) => c.collection.metric)).toEqual(['l2', 'ip', 'ip', 'l2', 'cosine']);
    expect(fromConfig.configuration.hnsw?.space).toBe('l2');
    await fromConfig.add({ ids: ['o', 'x'], embeddings: [[0, 0], [3, 4]] });
    const r = await fromConfig.query({ queryEmbeddings: [[0, 0]], nResults: 2, include: ['distances'] });
    expect(r.distances).toEqual([[0, 25]]); // squared L2, as Chroma
    await expect(client.createCollection({ name: 'col6', configuration: { hnsw: { space: 'l2' } }, metadata: { 'hnsw:space': 'ip' } })).rejects.toBeInstanceOf(ChromaValueError);
  });

  it('refuses index tuning semvec has no use for, naming the setting', async () => {
    const client = new ChromaClient();
    await unsupportedFeature(client.createCollection({ name: 'tuned', configuration: { hnsw: { space: 'l2', ef_search: 200 } } }), /configuration\.hnsw\.ef_search/);
    await unsupportedFeature(client.createCollection({ name: 'tuned', configuration: { spann: { search_nprobe: 8 } } }), /configuration\.spann\.search_nprobe/);
    await expect(client.createCollection({ name: 'tuned', metadata: { 'hnsw:M': 16 } })).rejects.toThrow(/HNSW/);
    const col = await client.createCollection({ name: 'tuned', embeddingFunction: null });
    await unsupportedFeature(col.modify({ configuration: { hnsw: { ef_search: 10 } } }), /configuration\.hnsw/);
    expect(await client.countCollections()).toBe(1);
  });

  it('embeds documents with generate and queries with generateForQueries', async () => {
    const client = new ChromaClient();
    const ef = new Recording();
    const col = await client.createCollection({ name: 'texts', embeddingFunction: ef });
    await col.add({ ids: ['a', 'bb'], documents: ['x', 'yy'] });
    expect(ef.documents).toBe(2);
    const r = await col.query({ queryTexts: ['zz'], nResults: 1 });
    expect(ef.queries).toBe(1);
    expect(r.ids).toEqual([['bb']]);
    await col.update({ ids: ['a'], documents: ['xxx'] });
    expect(ef.documents).toBe(3);
    expect((await col.get({ ids: ['a'], include: ['embeddings', 'documents'] })).rows()[0]).toMatchObject({ document: 'xxx', embedding: [3, 1, 0] });
    // The function stays with the collection for later handles.
    expect((await client.getCollection({ name: 'texts' })).embeddingFunction).toBe(ef);
    const none = await client.createCollection({ name: 'nothing', embeddingFunction: null });
    await expect(none.add({ ids: ['a'], documents: ['x'] })).rejects.toThrow(/no embedding function/);
  });

  it('names errors as Chroma does, and they are semvec errors with codes', async () => {
    const client = new ChromaClient();
    const col = await client.createCollection({ name: 'errs', embeddingFunction: null });
    const missing = await rejection(client.getCollection({ name: 'nope' }));
    expect(missing).toBeInstanceOf(ChromaNotFoundError);
    expect(missing.name).toBe('ChromaNotFoundError');
    expect((missing as SemvecError).code).toBe('ERR_NOT_FOUND');
    expect(await rejection(client.createCollection({ name: 'errs' }))).toBeInstanceOf(ChromaUniqueError);
    await col.add({ ids: ['a'], embeddings: [[1, 2]] });
    const dup = await rejection(col.add({ ids: ['a'], embeddings: [[1, 2]] }));
    expect(dup).toBeInstanceOf(ChromaUniqueError);
    const dim = await rejection(col.add({ ids: ['b'], embeddings: [[1, 2, 3]] }));
    expect(dim).toBeInstanceOf(ChromaValueError);
    expect((dim as SemvecError).code).toBe('ERR_DIMENSION_MISMATCH');
    expect(await rejection(col.update({ ids: ['zz'], embeddings: [[1, 2]] }))).toBeInstanceOf(ChromaNotFoundError);
    expect(await rejection(col.add({ ids: ['c'], embeddings: [[NaN, 1]] }))).toBeInstanceOf(ChromaValueError);
    expect(await rejection(client.deleteCollection({ name: 'nope' }))).toBeInstanceOf(ChromaNotFoundError);
    expect(await col.count()).toBe(1);
  });

  it('whereDocument $regex and $not_regex filter documents as Chroma does', async () => {
    const client = new ChromaClient();
    const col = await client.createCollection({ name: 'regex', embeddingFunction: null });
    await col.add({ ids: ['a', 'b', 'c'], embeddings: [[1, 0], [0, 1], [1, 1]], documents: ['hello world', 'HELLO there', 'goodbye'] });
    expect((await col.get({ whereDocument: { $regex: 'h.*o' } })).ids).toEqual(['a']);
    expect((await col.get({ whereDocument: { $regex: '(?i)^hello' } })).ids).toEqual(['a', 'b']);
    expect((await col.get({ whereDocument: { $not_regex: 'o\\b' } })).ids).toEqual(['b', 'c']);
    const q = await col.query({ queryEmbeddings: [[1, 0]], nResults: 3, whereDocument: { $and: [{ $regex: 'e' }, { $not_regex: 'world' }] } });
    expect(q.ids[0]!.sort()).toEqual(['b', 'c']);
    await expect(col.get({ whereDocument: { $regex: '(a' } })).rejects.toThrow(/not a valid regular expression/);
  });

  it('refuses options it does not know instead of ignoring them', async () => {
    const client = new ChromaClient();
    const col = await client.createCollection({ name: 'strict', embeddingFunction: null });
    await expect(col.get({ idz: ['a'] } as never)).rejects.toThrow(/"idz"/);
    await expect(col.query({ queryEmbeddings: [[1]], n_results: 3 } as never)).rejects.toThrow(/"n_results"/);
    await expect(client.createCollection({ name: 'x1', metdata: {} } as never)).rejects.toThrow(/"metdata"/);
    await expect(col.peek({ limt: 3 } as never)).rejects.toThrow(/"limt"/);
    expect(() => new ChromaClient({ hots: 'x' } as never)).toThrow(/"hots"/);
  });

  it('refuses what semvec does not have: servers, tenants, fork, search, schema, uris, $matches, metadata arrays', async () => {
    expect(() => new ChromaClient({ host: 'localhost', port: 8000 } as never)).toThrow(ChromaUnsupportedError);
    expect(() => new ChromaClient({ path: 'http://localhost:8000' })).toThrow(ChromaUnsupportedError);
    expect(() => new ChromaClient({ tenant: 'acme' })).toThrow(/tenant "acme" is not supported/);
    expect(() => new ChromaClient({ database: 'other' })).toThrow(ChromaUnsupportedError);
    const client = new ChromaClient({ tenant: 'default_tenant', database: 'default_database' });
    const col = await client.createCollection({ name: 'limits', embeddingFunction: null });
    await col.add({ ids: ['a'], embeddings: [[1, 0]], documents: ['hello'] });
    await unsupportedFeature(col.fork({ name: 'copy' }), /^fork$/);
    await unsupportedFeature(col.forkCount(), /forkCount/);
    await unsupportedFeature(col.search({}), /^search$/);
    await unsupportedFeature(col.getIndexingStatus(), /getIndexingStatus/);
    await unsupportedFeature(client.reset(), /reset/);
    await unsupportedFeature(client.getCollectionByCrn('crn'), /Crn/);
    expect(() => client.collection('x')).toThrow(ChromaUnsupportedError);
    await unsupportedFeature(client.createCollection({ name: 'schema', schema: {} } as never), /schema/);
    await unsupportedFeature(col.add({ ids: ['u'], embeddings: [[1, 1]], uris: ['s3://x'] }), /uris/);
    await unsupportedFeature(col.query({ queryEmbeddings: [[1, 0]], queryURIs: ['s3://x'] }), /uris/);
    await unsupportedFeature(col.query({ queryEmbeddings: [[1, 0]], whereDocument: { $and: [{ $contains: 'h' }, { $not_matches: 'x' }] } as never }), /\$not_matches/);
    await unsupportedFeature(col.get({ where: { tags: { $contains: 'x' } } as never }), /metadata field/);
    await unsupportedFeature(col.add({ ids: ['m'], embeddings: [[1, 1]], metadatas: [{ tags: ['a', 'b'] } as never] }), /metadata arrays/);
    await unsupportedFeature(col.add({ ids: ['s'], embeddings: [[1, 1]], metadatas: [{ sv: { indices: [1], values: [1] } } as never] }), /sparse/);
    expect(await col.count()).toBe(1);
  });

  it('drops null metadata values on add (as Chroma\'s client), removes keys set to null on update', async () => {
    const client = new ChromaClient();
    const col = await client.createCollection({ name: 'nulls', embeddingFunction: null });
    await col.add({ ids: ['a'], embeddings: [[1, 0]], metadatas: [{ keep: 1, drop: null }] });
    expect((await col.get()).metadatas).toEqual([{ keep: 1 }]);
    await col.update({ ids: ['a'], metadatas: [{ keep: null, added: 'x' }] });
    expect((await col.get()).metadatas).toEqual([{ added: 'x' }]);
  });

  it('deletes with a limit in insertion order, only among the filter\'s matches', async () => {
    const client = new ChromaClient();
    const col = await client.createCollection({ name: 'del', embeddingFunction: null });
    await col.add({ ids: ['a', 'b', 'c', 'd'], embeddings: [[1], [2], [3], [4]], metadatas: [{ g: 1 }, { g: 2 }, { g: 1 }, { g: 1 }] });
    expect(await col.delete({ where: { g: 1 }, limit: 2 })).toEqual({ deleted: 2 });
    expect((await col.get()).ids).toEqual(['b', 'd']);
    await expect(col.delete({ ids: ['b'], limit: 1 })).rejects.toThrow(/limit can only be specified/);
    expect(await col.delete({ ids: ['b', 'zz'] })).toEqual({ deleted: 1 });
    await expect(col.delete({})).rejects.toBeInstanceOf(ChromaValueError);
  });

  it('refuses a batch beyond the max batch size, adding nothing', async () => {
    const client = new ChromaClient();
    const col = await client.createCollection({ name: 'batch', embeddingFunction: null });
    const n = MAX_BATCH_SIZE + 1;
    await expect(col.add({ ids: Array.from({ length: n }, (_, i) => `r${i}`), embeddings: Array.from({ length: n }, () => [1]) })).rejects.toThrow(/max batch size/);
    expect(await col.count()).toBe(0);
  });

  it('lists and counts collections with limit and offset, finds them by id, renames with modify', async () => {
    const client = new ChromaClient();
    for (const name of ['ccc', 'aaa', 'bbb']) await client.createCollection({ name, metadata: { name }, embeddingFunction: null });
    expect(await client.countCollections()).toBe(3);
    expect((await client.listCollections()).map((c) => c.name)).toEqual(['aaa', 'bbb', 'ccc']);
    expect((await client.listCollections({ limit: 1, offset: 1 })).map((c) => c.name)).toEqual(['bbb']);
    const b = await client.getCollection({ name: 'bbb' });
    expect(b.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await client.getCollectionById(b.id)).name).toBe('bbb');
    await expect(client.getCollectionById('not-a-uuid')).rejects.toBeInstanceOf(ChromaNotFoundError);
    await b.modify({ name: 'bee', metadata: { renamed: true } });
    expect([b.name, b.metadata]).toEqual(['bee', { renamed: true }]);
    expect((await client.getCollectionById(b.id)).name).toBe('bee');
    await expect(b.modify({ name: 'aaa' })).rejects.toBeInstanceOf(ChromaUniqueError);
    expect(b.name).toBe('bee');
    expect((await client.getCollections(['aaa', 'ccc'])).map((c) => c.metadata)).toEqual([{ name: 'aaa' }, { name: 'ccc' }]);
    const got = await client.getOrCreateCollection({ name: 'aaa', metadata: { ignored: true } });
    expect(got.metadata).toEqual({ name: 'aaa' });
  });

  it('collection ids round-trip through their collection numbers', () => {
    for (const cid of [1, 255, 2 ** 40]) expect(cidOf(collectionId(cid))).toBe(cid);
    expect(cidOf('123e4567-e89b-12d3-a456-426614174000')).toBeUndefined();
  });

  it('persists to a directory with { path }, opened on first use; close releases it', async () => {
    const dir = tempDir('semvec-chroma-');
    const first = new ChromaClient({ path: dir });
    const col = await first.createCollection({ name: 'kept', metadata: { 'hnsw:space': 'l2' }, embeddingFunction: null });
    await col.add({ ids: ['a'], embeddings: [[1, 2, 3]], documents: ['doc'] });
    await first.close();
    const second = new ChromaClient({ path: dir });
    const again = await second.getCollection({ name: 'kept' });
    expect(again.collection.metric).toBe('l2');
    expect((await again.get()).documents).toEqual(['doc']);
    await second.close();
  });
});

describe.skipIf(!haveToyModel)('SemvecEmbeddingFunction', () => {
  const toy = useToyModel();

  it('is a Chroma embedding function over a semvec Embedder, loaded from a model spec on first use', async () => {
    const ef = new SemvecEmbeddingFunction({ model: toy.dir() });
    expect(ef.name).toBe('semvec');
    expect(ef.defaultSpace()).toBe('cosine');
    const [v] = await ef.generate(['hello world']);
    expect(v).toHaveLength(toy.model().dim);
    expect(ef.getConfig()).toEqual({ model: toy.dir() });
    const client = new ChromaClient();
    const col = await client.createCollection({ name: 'model', embeddingFunction: ef });
    await col.add({ ids: ['a', 'b'], documents: ['the cat sat on the mat', 'stock markets fell sharply'] });
    const r = await col.query({ queryTexts: ['the cat sat on the mat'], nResults: 1, include: ['distances'] });
    expect(r.ids).toEqual([['a']]);
    expect(r.distances[0]![0]).toBeCloseTo(0, 4);
    await ef.close();
    const given = new SemvecEmbeddingFunction({ embedder: toy.model() });
    expect((await given.generate(['x']))[0]).toHaveLength(toy.model().dim);
    await given.close(); // the caller's embedder stays open
    expect((await toy.model().embed(['still open'])).length).toBe(toy.model().dim);
  });
});

/** A reranker that prefers longer documents (so its order differs from the modes'). */
const byLength = { score: async (_q: string, passages: readonly string[]) => passages.map((p) => p.length) };

describe('semvec/chroma query: semvec\'s modes, fusion and rerank', () => {
  async function filled() {
    const client = new ChromaClient();
    const ef = new Recording();
    const col = await client.createCollection({ name: 'modes', embeddingFunction: ef });
    await col.add({
      ids: ['fox', 'dog', 'cat'],
      embeddings: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      documents: ['the quick brown fox', 'a lazy dog sleeps all day long', 'a cat'],
      metadatas: [{ k: 1 }, { k: 2 }, { k: 3 }],
    });
    return { col, ef };
  }

  it('keyword mode ranks by BM25 from queryTexts alone, honours where, and returns each match\'s scores', async () => {
    const { col, ef } = await filled();
    const r = await col.query({ queryTexts: ['fox'], mode: 'keyword', nResults: 3 });
    expect(ef.queries).toBe(0); // nothing embedded
    expect(r.ids).toEqual([['fox']]);
    expect(r.scores![0]![0]).toEqual({ keyword: expect.any(Number), keywordRank: 1 });
    expect(r.distances[0]![0]).toBeCloseTo(-r.scores![0]![0]!.keyword!, 12);
    expect((await col.query({ queryTexts: ['a'], mode: 'keyword', where: { k: 3 } })).ids).toEqual([['cat']]);
  });

  it('hybrid mode embeds queryTexts with the embedding function and fuses both sides; weighted alpha 1 is the vector order', async () => {
    const { col, ef } = await filled();
    const r = await col.query({ queryTexts: ['dog'], mode: 'hybrid', nResults: 3 });
    expect(ef.queries).toBe(1);
    expect(r.ids[0]![0]).toBe('dog'); // first by keywords
    expect(r.scores![0]![0]).toMatchObject({ fused: expect.any(Number), keyword: expect.any(Number), keywordRank: 1 });
    const vectorOnly = await col.query({ queryEmbeddings: [[0, 0, 1]], queryTexts: ['dog'], mode: 'hybrid', fusion: { method: 'weighted', alpha: 1 }, nResults: 1 });
    expect(vectorOnly.ids).toEqual([['cat']]);
  });

  it('rerank reorders the mode\'s candidates with the model; a plain query has no scores', async () => {
    const { col } = await filled();
    const r = await col.query({ queryEmbeddings: [[1, 0, 0]], queryTexts: ['anything'], rerank: { model: byLength, candidates: 3 }, nResults: 2 });
    expect(r.ids).toEqual([['dog', 'fox']]);
    expect(r.scores![0]![0]).toMatchObject({ rerank: 'a lazy dog sleeps all day long'.length, vectorRank: expect.any(Number) });
    expect((await col.query({ queryEmbeddings: [[1, 0, 0]], nResults: 1 })).scores).toBeUndefined();
  });

  it('bad mode, fusion and rerank values are ChromaValueErrors with ERR_INVALID_ARGUMENT', async () => {
    const { col } = await filled();
    const cases: [object, RegExp][] = [
      [{ queryTexts: ['fox'], mode: 'bm25' }, /mode must be one of 'vector', 'keyword', 'hybrid'/],
      [{ queryTexts: ['fox'], mode: 'hybrid', fusion: { method: 'max' } }, /fusion.method/],
      [{ queryTexts: ['fox'], mode: 'keyword', fusion: { method: 'rrf' } }, /fusion applies to mode 'hybrid'/],
      [{ queryEmbeddings: [[1, 0, 0]], rerank: { model: byLength } }, /rerank reads the query text/],
      [{ queryTexts: ['fox'], rerank: { model: 'name' } }, /rerank.model must be a Reranker/],
    ];
    for (const [args, message] of cases) {
      const err = await rejection(col.query(args as never));
      expect(err).toBeInstanceOf(ChromaValueError);
      expect((err as ChromaValueError).code).toBe('ERR_INVALID_ARGUMENT');
      expect(err.message).toMatch(message);
    }
  });
});

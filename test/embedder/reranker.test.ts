import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Client, Reranker, type RerankModel } from '../../src/index.js';
import { expectRejects } from '../helpers/errors.js';
import { startHubServer } from '../helpers/hub-server.js';
import { haveToyModel, haveToyReranker, miniLmDir, toyModelDir, toyRerankerDir, toyRerankerOnnx } from '../helpers/models.js';
import { tempDir } from '../helpers/temp.js';

describe.skipIf(!haveToyReranker)('Reranker (toy cross-encoder: random weights, so only the plumbing is tested)', () => {
  let dir: string;
  let reranker: Reranker;
  beforeAll(async () => {
    dir = toyRerankerDir();
    reranker = await Reranker.load(dir, { threads: 1 });
  });
  afterAll(async () => {
    await reranker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const passages = ['the quick brown fox', 'disk quota exceeded', 'a recipe for bread', 'fox '.repeat(3000)];

  it('scores each passage against the query, the same in any batch size, cutting passages longer than maxTokens', async () => {
    expect(reranker.maxTokens).toBe(512);
    const one = await reranker.score('fox', passages, { batchSize: 1 });
    const all = await reranker.score('fox', passages, { batchSize: 16 });
    expect(one).toHaveLength(4);
    for (let i = 0; i < 4; i++) expect(all[i]).toBeCloseTo(one[i] as number, 5);
    expect(new Set(Array.from(one)).size).toBe(4); // the pairs differ, so do the scores
    const again = await reranker.score('bread', passages);
    expect(Array.from(again)).not.toEqual(Array.from(all)); // the query is read too
  });

  it('rerank orders passages by score, best first, keeping topK', async () => {
    const scores = await reranker.score('fox', passages);
    const ranked = await reranker.rerank('fox', passages);
    expect(ranked.map((r) => r.index).sort()).toEqual([0, 1, 2, 3]);
    for (const r of ranked) expect(r.score).toBe(scores[r.index]);
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.score).toBeGreaterThanOrEqual(ranked[i]!.score);
    expect(await reranker.rerank('fox', passages, { topK: 2 })).toEqual(ranked.slice(0, 2));
    expect(await reranker.rerank('fox', [])).toEqual([]);
  });

  it('bad arguments are refused with ERR_INVALID_ARGUMENT', async () => {
    await expectRejects(reranker.score('', passages), 'ERR_INVALID_ARGUMENT', /query must be a non-empty string/);
    await expectRejects(reranker.score('q', 'text' as never), 'ERR_INVALID_ARGUMENT', /passages must be an array/);
    await expectRejects(reranker.score('q', ['a', 3 as never]), 'ERR_INVALID_ARGUMENT', /passages\[1\] must be a string/);
    await expectRejects(reranker.rerank('q', passages, { topK: 0 }), 'ERR_INVALID_ARGUMENT', /topK/);
    await expectRejects(reranker.rerank('q', passages, { batchSize: 0 }), 'ERR_INVALID_ARGUMENT', /batchSize/);
    await expectRejects(Reranker.load(''), 'ERR_INVALID_ARGUMENT', /reranker name, hub id or directory/);
    await expectRejects(Reranker.load(dir, { threads: 0 }), 'ERR_INVALID_ARGUMENT', /threads/);
    await expectRejects(Reranker.load(join(dir, 'nothing-here'), { offline: true }), 'ERR_NOT_FOUND');
  });

  it('a closed reranker refuses work with ERR_CLOSED', async () => {
    const r = await Reranker.load(dir, { threads: 1 });
    await r.close();
    await expectRejects(r.score('q', ['p']), 'ERR_CLOSED');
  });

  it.skipIf(!haveToyModel)('an embedding model (no one-logit head) is refused at load', async () => {
    const embedderDir = toyModelDir();
    try {
      await expectRejects(Reranker.load(embedderDir, { threads: 1 }), 'ERR_INVALID_ARGUMENT', /one logit per pair/);
    } finally {
      rmSync(embedderDir, { recursive: true, force: true });
    }
  });

  it('loads by hub id through the cache: downloaded once, then read from the cache offline', async () => {
    const repo = 'cross-encoder/toy-reranker';
    const hub = await startHubServer(repo, {
      'onnx/model.onnx': readFileSync(toyRerankerOnnx),
      'tokenizer.json': readFileSync(join(miniLmDir, 'tokenizer.json')),
      'tokenizer_config.json': readFileSync(join(miniLmDir, 'tokenizer_config.json')),
    });
    const cacheDir = tempDir();
    try {
      const fromHub = await Reranker.load(repo, { hubUrl: hub.url, cacheDir, threads: 1 });
      expect(fromHub.name).toBe(repo);
      const cached = await Reranker.load(repo, { cacheDir, offline: true, threads: 1 });
      expect(Array.from(await cached.score('fox', passages))).toEqual(Array.from(await fromHub.score('fox', passages)));
      expect(Array.from(await cached.score('fox', passages))).toEqual(Array.from(await reranker.score('fox', passages)));
      await fromHub.close();
      await cached.close();
    } finally {
      await hub.close();
    }
  });

  it('query({ rerank }) reorders the best candidates of each mode by the reranker, with each stage\'s scores', async () => {
    const col = await new Client().createCollection('reranked');
    const docs = ['the quick brown fox', 'a fox in the henhouse', 'disk quota exceeded', 'a recipe for bread', 'fox and hound', 'no fox here', null];
    const ids = docs.map((_, i) => `d${i}`);
    await col.add({ ids, documents: docs, embeddings: docs.map((_, i) => [Math.cos(i), Math.sin(i)]) });
    for (const mode of ['vector', 'keyword', 'hybrid'] as const) {
      const q = { queryTexts: 'fox', nResults: 3, mode, rerank: { model: reranker, candidates: 10 }, ...(mode === 'keyword' ? {} : { queryEmbeddings: [[1, 0]] }) };
      const [ms] = await col.query(q);
      const [plain] = await col.query({ ...q, rerank: undefined, nResults: 10, ...(mode === 'vector' ? { queryTexts: undefined } : {}) });
      const candidates = plain!.filter((m) => m.document);
      const expected = await reranker.rerank('fox', candidates.map((m) => m.document as string), { topK: 3 });
      expect(ms!.map((m) => m.id)).toEqual(expected.map((r) => candidates[r.index]!.id));
      ms!.forEach((m, i) => {
        expect(m.score).toBe(expected[i]!.score);
        expect(m.distance).toBe(-m.score);
        expect(m.scores!.rerank).toBe(m.score);
        if (mode === 'vector') expect(m.scores!.vectorRank).toBeGreaterThan(0);
        if (mode === 'keyword') expect(m.scores!.keywordRank).toBeGreaterThan(0);
        if (mode === 'hybrid') expect(m.scores!.fused).toBeGreaterThan(0);
      });
    }
  });
});

describe('query({ rerank }) with a model of one\'s own', () => {
  // Scores a passage by how many times the query's word occurs in it.
  const counting: RerankModel = { score: async (q, ps) => ps.map((p) => p.split(q).length - 1) };

  it('keeps nResults of the reranked candidates; records without a document come last', async () => {
    const col = await new Client().createCollection('own');
    await col.add({ ids: ['a', 'b', 'c', 'd'], documents: ['x', 'x x x', null, 'x x'], embeddings: [[1, 0], [0.9, 0.1], [1, 0.01], [0, 1]] });
    const [ms] = await col.query({ queryTexts: 'x', queryEmbeddings: [[1, 0]], nResults: 4, rerank: { model: counting } });
    expect(ms!.map((m) => [m.id, m.scores?.rerank])).toEqual([['b', 3], ['d', 2], ['a', 1], ['c', undefined]]);
    const [two] = await col.query({ queryTexts: 'x', queryEmbeddings: [[1, 0]], nResults: 2, rerank: { model: counting, candidates: 3 } });
    expect(two!.map((m) => m.id)).toEqual(['b', 'a']); // d is not among the 3 nearest
  });

  it('bad rerank options and bad model output are refused with ERR_INVALID_ARGUMENT', async () => {
    const col = await new Client().createCollection('bad-rerank');
    await col.add({ ids: ['a'], documents: ['x'], embeddings: [[1, 0]] });
    const q = { queryTexts: 'x', queryEmbeddings: [[1, 0]] };
    await expectRejects(col.query({ ...q, rerank: 'model' as never }), 'ERR_INVALID_ARGUMENT', /rerank must be an object/);
    await expectRejects(col.query({ ...q, rerank: { model: {} as never } }), 'ERR_INVALID_ARGUMENT', /rerank.model must be a Reranker/);
    await expectRejects(col.query({ ...q, rerank: { model: counting, candidates: 0 } }), 'ERR_INVALID_ARGUMENT', /rerank.candidates/);
    await expectRejects(col.query({ ...q, rerank: { model: counting, topK: 3 } as never }), 'ERR_INVALID_ARGUMENT', /unknown key "topK"/);
    await expectRejects(col.query({ queryEmbeddings: [[1, 0]], rerank: { model: counting } }), 'ERR_INVALID_ARGUMENT', /give queryTexts/);
    await expectRejects(col.query({ ...q, rerank: { model: { score: async () => [] } } }), 'ERR_INVALID_ARGUMENT', /one score per passage/);
    await expectRejects(col.query({ ...q, rerank: { model: { score: async () => [Number.NaN] } } }), 'ERR_INVALID_ARGUMENT', /finite/);
  });
});

import { describe, expect, it } from 'vitest';

import { evaluateRetrieval, type RerankModel, type RetrievalTask } from '../../src/index.js';
import { expectRejects } from '../helpers/errors.js';

// Vector search finds q1's document but not q0's (an exact code it has no sense of);
// keyword search finds q0's but not q1's (no shared word). Hybrid finds both.
const task: RetrievalTask = {
  documents: ['error E1234 on disk', 'apple banana', 'cherry grape', 'kiwi lemon'],
  queries: ['E1234', 'fruit salad'],
  relevant: [[0], [1]],
};
const oneHot = (i: number) => [0, 1, 2, 3].map((j) => (j === i ? 1 : 0));
const embeddings = { documents: [0, 1, 2, 3].map(oneHot), queries: [oneHot(3), oneHot(1)] };

describe('evaluateRetrieval across modes', () => {
  it('scores each mode on the same labelled set: keyword finds exact codes, vectors find meaning, hybrid both', async () => {
    const r = await evaluateRetrieval(null, task, { k: 1, modes: ['vector', 'keyword', 'hybrid'], embeddings });
    expect(r.k).toBe(1);
    const by = Object.fromEntries(r.runs.map((run) => [run.mode, run]));
    expect(r.runs.map((run) => [run.mode, run.reranked])).toEqual([['vector', false], ['keyword', false], ['hybrid', false]]);
    expect(by.vector!.perQuery.map((q) => q.ranked)).toEqual([[3], [1]]);
    expect(by.vector!.recallAtK).toBe(0.5);
    expect(by.keyword!.perQuery.map((q) => q.ranked)).toEqual([[0], []]);
    expect(by.keyword!.recallAtK).toBe(0.5);
    expect(by.hybrid!.perQuery.map((q) => q.ranked)).toEqual([[0], [1]]);
    expect(by.hybrid!).toMatchObject({ recallAtK: 1, mrr: 1, ndcgAtK: 1 });
  });

  it('with a reranker, each mode runs again reranked', async () => {
    // Prefers the longer document: a reranker with its own idea of relevance.
    const longest: RerankModel = { score: async (_q, ps) => ps.map((p) => p.length) };
    const r = await evaluateRetrieval(null, task, { k: 1, modes: ['vector', 'keyword'], embeddings, rerank: longest, rerankCandidates: 4 });
    expect(r.runs.map((run) => [run.mode, run.reranked])).toEqual([['vector', false], ['keyword', false], ['vector', true], ['keyword', true]]);
    // Reranked, vector mode's 4 candidates are every document: the longest, 0, comes first for both queries.
    expect(r.runs[2]!.perQuery.map((q) => q.ranked)).toEqual([[0], [0]]);
    expect(r.runs[3]!.perQuery.map((q) => q.ranked)).toEqual([[0], []]);
  });

  it('keyword mode alone needs no model and no vectors', async () => {
    const r = await evaluateRetrieval(null, task, { modes: ['keyword'], tokenizer: 'trigram' });
    expect(r.runs[0]!.perQuery[0]!.ranked).toEqual([0]);
  });

  it('bad modes, vectors and models are refused with ERR_INVALID_ARGUMENT', async () => {
    await expectRejects(evaluateRetrieval(null, task, { modes: [] }), 'ERR_INVALID_ARGUMENT', /modes must be a non-empty array/);
    await expectRejects(evaluateRetrieval(null, task, { modes: ['bm25' as never] }), 'ERR_INVALID_ARGUMENT', /modes must be/);
    await expectRejects(evaluateRetrieval(null, task, { modes: ['keyword', 'keyword'] }), 'ERR_INVALID_ARGUMENT', /twice/);
    await expectRejects(evaluateRetrieval(null, task, { modes: ['hybrid'] }), 'ERR_INVALID_ARGUMENT', /need vectors/);
    await expectRejects(evaluateRetrieval(null, task, { modes: ['vector'], embeddings: { documents: embeddings.documents, queries: [oneHot(1)] } }), 'ERR_INVALID_ARGUMENT', /one 4-d vector per query/);
    await expectRejects(evaluateRetrieval(null, task, { modes: ['keyword'], rerankCandidates: 0 }), 'ERR_INVALID_ARGUMENT', /rerankCandidates/);
    await expectRejects(evaluateRetrieval(null as never, task, { k: 3 }), 'ERR_INVALID_ARGUMENT', /needs a model/);
    await expectRejects(evaluateRetrieval(null, { ...task, relevant: [[9], [1]] }, { modes: ['keyword'] }), 'ERR_INVALID_ARGUMENT', /relevant\[0\]/);
  });
});

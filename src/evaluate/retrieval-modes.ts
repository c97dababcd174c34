/**
 * Retrieval quality of the query modes compared on one labelled set: the
 * documents go into an in-memory collection (its keyword index and its
 * vectors), every query runs in each mode asked for, with and without a
 * reranker, and each ranking is scored as evaluateRetrieval scores one
 * (recall@k, MRR, nDCG@k).
 */
import { Client } from '../collection/client.js';
import type { Fusion } from '../collection/fusion.js';
import type { Tokenizer } from '../collection/keyword-index.js';
import type { QueryMode, RerankModel } from '../collection/types.js';
import type { Embedder } from '../embedder/embedder.js';
import { ErrorCode } from '../errors.js';
import { checkInteger, describe, fail, toVectors, type VectorsInput } from '../validate.js';

/** Documents, queries and, per query, the indexes of its relevant documents. */
export interface RetrievalTask {
  queries: readonly string[];
  documents: readonly string[];
  /** For each query, the indexes of its relevant documents. */
  relevant: readonly (readonly number[])[];
}

/** One query's ranking, scored. */
export interface QueryScore {
  query: string;
  ranked: number[];
  recall: number;
  reciprocalRank: number;
  ndcg: number;
}

export interface RetrievalReport {
  k: number;
  /** Mean fraction of each query's relevant documents found in its top k. */
  recallAtK: number;
  /** Mean reciprocal rank of the first relevant document (0 when none is ranked). */
  mrr: number;
  /** Mean nDCG@k with binary relevance. */
  ndcgAtK: number;
  perQuery: QueryScore[];
}

/** How evaluateRetrieval compares query modes. */
export interface RetrievalModesOptions {
  k?: number;
  /** The modes to compare, e.g. ['vector', 'keyword', 'hybrid']. */
  modes: readonly QueryMode[];
  /** Also run each mode reranked by this model. */
  rerank?: RerankModel;
  /** Candidates the reranker reads per query; default 50. */
  rerankCandidates?: number;
  /** Hybrid mode's fusion; default reciprocal rank fusion with k = 60. */
  fusion?: Fusion;
  /** The keyword index's tokenizer; default 'unicode61'. */
  tokenizer?: Tokenizer;
  /**
   * Vectors of your own for the vector side (then no model is needed):
   * one row per document and one per query.
   */
  embeddings?: { documents: VectorsInput; queries: VectorsInput };
}

/** One mode's quality, reranked or not. */
export interface RetrievalRun extends RetrievalReport {
  mode: QueryMode;
  reranked: boolean;
}

export interface RetrievalComparison {
  k: number;
  /** One run per mode, then (with a reranker) one per mode reranked. */
  runs: RetrievalRun[];
}

/** Checks a labelled set. */
export function checkTask(task: RetrievalTask): void {
  if (task === null || typeof task !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `task must be { queries, documents, relevant }; received ${describe(task)}`);
  const { queries, documents, relevant } = task;
  if (!Array.isArray(queries) || queries.length === 0 || !queries.every((q) => typeof q === 'string')) fail(ErrorCode.INVALID_ARGUMENT, 'task.queries must be a non-empty array of strings');
  if (!Array.isArray(documents) || documents.length === 0 || !documents.every((d) => typeof d === 'string')) fail(ErrorCode.INVALID_ARGUMENT, 'task.documents must be a non-empty array of strings');
  if (!Array.isArray(relevant) || relevant.length !== queries.length) fail(ErrorCode.INVALID_ARGUMENT, `task.relevant must have one list per query (${queries.length})`);
  relevant.forEach((r, i) => {
    if (!Array.isArray(r) || !r.every((d) => Number.isInteger(d) && d >= 0 && d < documents.length)) {
      fail(ErrorCode.INVALID_ARGUMENT, `task.relevant[${i}] must list document indexes from 0 to ${documents.length - 1}`);
    }
  });
}

/** Scores rankings (document indexes, best first) against the relevant documents. */
export function scoreRankings(task: RetrievalTask, rankings: readonly (readonly number[])[], k: number): RetrievalReport {
  const perQuery = rankings.map((r, q): QueryScore => {
    const rel = new Set(task.relevant[q]);
    const ranked = r.slice(0, k);
    const found = ranked.filter((d) => rel.has(d)).length;
    const first = ranked.findIndex((d) => rel.has(d));
    let dcg = 0;
    ranked.forEach((d, i) => {
      if (rel.has(d)) dcg += 1 / Math.log2(i + 2);
    });
    let idcg = 0;
    for (let i = 0; i < Math.min(rel.size, k); i++) idcg += 1 / Math.log2(i + 2);
    return {
      query: task.queries[q] as string,
      ranked,
      recall: rel.size === 0 ? 1 : found / rel.size,
      reciprocalRank: first < 0 ? 0 : 1 / (first + 1),
      ndcg: idcg === 0 ? 1 : dcg / idcg,
    };
  });
  const mean = (f: (x: QueryScore) => number) => perQuery.reduce((s, x) => s + f(x), 0) / perQuery.length;
  return { k, recallAtK: mean((x) => x.recall), mrr: mean((x) => x.reciprocalRank), ndcgAtK: mean((x) => x.ndcg), perQuery };
}

const MODES: readonly QueryMode[] = ['vector', 'keyword', 'hybrid'];
const BATCH = 1000;

/** The comparison of modes (evaluateRetrieval with `modes`). */
export async function compareModes(model: Embedder | undefined, task: RetrievalTask, options: RetrievalModesOptions): Promise<RetrievalComparison> {
  checkTask(task);
  const k = checkInteger(options.k ?? 10, 'k', 1, 1_000_000);
  const modes = options.modes;
  if (!Array.isArray(modes) || modes.length === 0 || !modes.every((m) => MODES.includes(m))) {
    fail(ErrorCode.INVALID_ARGUMENT, `modes must be a non-empty array of 'vector', 'keyword' and 'hybrid'; received ${describe(modes)}`);
  }
  if (new Set(modes).size !== modes.length) fail(ErrorCode.INVALID_ARGUMENT, `modes lists a mode twice: ${modes.join(', ')}`);
  const rerankCandidates = checkInteger(options.rerankCandidates ?? 50, 'rerankCandidates', 1, 10_000);
  const needVectors = modes.some((m) => m !== 'keyword');
  let docVectors: Float32Array | undefined;
  let queryVectors: Float32Array | undefined;
  let dim = 1;
  if (options.embeddings !== undefined) {
    const e = options.embeddings;
    if (e === null || typeof e !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `embeddings must be { documents, queries }; received ${describe(e)}`);
    const rowDim = Array.isArray(e.documents) ? ((e.documents[0] as ArrayLike<number> | undefined)?.length ?? 0) : e.documents.length / task.documents.length;
    dim = checkInteger(rowDim, 'embeddings dimension', 1, 1 << 16);
    docVectors = toVectors(e.documents, dim, 'embeddings.documents');
    queryVectors = toVectors(e.queries, dim, 'embeddings.queries');
    if (docVectors.length !== task.documents.length * dim) fail(ErrorCode.INVALID_ARGUMENT, `embeddings.documents must hold one ${dim}-d vector per document (${task.documents.length})`);
    if (queryVectors.length !== task.queries.length * dim) fail(ErrorCode.INVALID_ARGUMENT, `embeddings.queries must hold one ${dim}-d vector per query (${task.queries.length})`);
  } else if (model !== undefined) {
    dim = model.dim;
    docVectors = await model.embed(task.documents);
    queryVectors = await model.embed(task.queries);
  } else if (needVectors) {
    fail(ErrorCode.INVALID_ARGUMENT, `modes ${modes.join(', ')} need vectors: give a model, or options.embeddings`);
  }

  const client = new Client();
  try {
    const col = await client.createCollection('evaluation', { metric: 'cosine', tokenizer: options.tokenizer });
    for (let i = 0; i < task.documents.length; i += BATCH) {
      const end = Math.min(i + BATCH, task.documents.length);
      await col.add({
        ids: Array.from({ length: end - i }, (_, j) => String(i + j)),
        documents: task.documents.slice(i, end),
        embeddings: docVectors ? docVectors.subarray(i * dim, end * dim) : new Float32Array((end - i) * dim).fill(1),
      });
    }
    const runs: RetrievalRun[] = [];
    for (const reranked of options.rerank ? [false, true] : [false]) {
      for (const mode of modes) {
        const rankings: number[][] = [];
        for (let q = 0; q < task.queries.length; q++) {
          const query = {
            mode,
            nResults: k,
            include: [] as never[],
            queryTexts: task.queries[q] as string,
            ...(mode !== 'keyword' ? { queryEmbeddings: [(queryVectors as Float32Array).subarray(q * dim, (q + 1) * dim)] } : {}),
            ...(mode === 'hybrid' && options.fusion ? { fusion: options.fusion } : {}),
            ...(reranked ? { rerank: { model: options.rerank as RerankModel, candidates: rerankCandidates } } : {}),
          };
          // Vector mode without a reranker ranks by the vector alone.
          if (mode === 'vector' && !reranked) delete (query as { queryTexts?: string }).queryTexts;
          const [matches = []] = await col.query(query);
          rankings.push(matches.map((m) => Number(m.id)));
        }
        runs.push({ mode, reranked, ...scoreRankings(task, rankings, k) });
      }
    }
    return { k, runs };
  } finally {
    await client.close();
  }
}

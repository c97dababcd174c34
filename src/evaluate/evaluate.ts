/**
 * Evaluating embedding models and indexes on the user's own data: labelled
 * pairs (accuracy at a threshold, best threshold, ROC AUC), retrieval
 * (recall@k, MRR, nDCG@k), side-by-side model comparison, and approximate
 * (IVF) against exact search.
 */
import { statSync } from 'node:fs';

import { Embedder } from '../embedder/embedder.js';
import { ErrorCode } from '../errors.js';
import { FlatIndex } from '../flat-index.js';
import { IVFIndex, suggestNlist, type IVFEncoding } from '../ivf-index.js';
import { recallAtK } from './recall.js';
import { checkTask, compareModes, scoreRankings, type RetrievalComparison, type RetrievalModesOptions, type RetrievalReport, type RetrievalTask } from './retrieval-modes.js';

export type { QueryScore, RetrievalComparison, RetrievalModesOptions, RetrievalReport, RetrievalRun, RetrievalTask } from './retrieval-modes.js';
import { checkDim, checkInteger, checkOneOf, describe, fail, orDefault, toVectors, type VectorsInput } from '../validate.js';
import type { Metric } from '../vector-index.js';

/** A labelled pair: 1 = similar, 0 = different. */
export type Pair = readonly [string, string, 0 | 1] | { a: string; b: string; label: 0 | 1 };

export interface PairVerdict {
  a: string;
  b: string;
  label: 0 | 1;
  similarity: number;
  predicted: 0 | 1;
  correct: boolean;
}

export interface PairsReport {
  threshold: number;
  /** Accuracy at `threshold`. */
  accuracy: number;
  /** The threshold with the best accuracy on these pairs, and that accuracy. */
  bestThreshold: number;
  bestAccuracy: number;
  /** Area under the ROC curve of the similarities (1: perfect ranking, 0.5: chance). */
  rocAuc: number;
  pairs: PairVerdict[];
}

function normalizePairs(pairs: readonly Pair[]): { a: string; b: string; label: 0 | 1 }[] {
  if (!Array.isArray(pairs) || pairs.length === 0) fail(ErrorCode.INVALID_ARGUMENT, `pairs must be a non-empty array of [textA, textB, label]; received ${describe(pairs)}`);
  return pairs.map((p, i) => {
    const [a, b, label] = Array.isArray(p) ? p : [(p as { a: string }).a, (p as { b: string }).b, (p as { label: 0 | 1 }).label];
    if (typeof a !== 'string' || typeof b !== 'string' || a.length === 0 || b.length === 0) fail(ErrorCode.INVALID_ARGUMENT, `pairs[${i}] must hold two non-empty texts`);
    if (label !== 0 && label !== 1) fail(ErrorCode.INVALID_ARGUMENT, `pairs[${i}] label must be 0 or 1; received ${describe(label)}`);
    return { a, b, label };
  });
}

/** ROC AUC: the probability that a random similar pair scores above a random different pair (ties count half). */
export function rocAuc(scores: readonly number[], labels: readonly (0 | 1)[]): number {
  const order = scores.map((s, i) => [s, labels[i] as number] as const).sort((x, y) => x[0] - y[0]);
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1..j share their mean
    for (let t = i; t < j; t++) if (order[t]![1] === 1) {
      rankSum += avgRank;
      pos++;
    }
    i = j;
  }
  const neg = order.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

async function withModel<T>(model: Embedder | string, fn: (m: Embedder) => Promise<T>): Promise<T> {
  const m = model instanceof Embedder ? model : await Embedder.load(model);
  try {
    return await fn(m);
  } finally {
    if (!(model instanceof Embedder)) await m.close();
  }
}

/**
 * Similarity of each pair (cosine), the verdict at `threshold`, accuracy,
 * the best threshold found on the pairs, and ROC AUC.
 *
 * @example
 * const r = await evaluatePairs(model, [['a cat', 'a kitten', 1], ['a cat', 'tax law', 0]]);
 * console.log(r.accuracy, r.rocAuc);
 */
export async function evaluatePairs(model: Embedder | string, pairs: readonly Pair[], options: { threshold?: number } = {}): Promise<PairsReport> {
  const list = normalizePairs(pairs);
  const threshold = orDefault(options.threshold, 0.5);
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) fail(ErrorCode.INVALID_ARGUMENT, `threshold must be a number; received ${describe(threshold)}`);
  return withModel(model, async (m) => {
    const va = await m.embed(list.map((p) => p.a));
    const vb = await m.embed(list.map((p) => p.b));
    const d = m.dim;
    const sims = list.map((_, i) => {
      let s = 0;
      for (let c = 0; c < d; c++) s += (va[i * d + c] as number) * (vb[i * d + c] as number);
      return s;
    });
    const verdicts: PairVerdict[] = list.map((p, i) => {
      const predicted = (sims[i] as number) >= threshold ? 1 : 0;
      return { ...p, similarity: sims[i] as number, predicted, correct: predicted === p.label };
    });
    const accuracyAt = (t: number) => list.filter((p, i) => ((sims[i] as number) >= t ? 1 : 0) === p.label).length / list.length;
    // Candidate thresholds: every similarity (and just above the largest).
    let bestThreshold = threshold;
    let bestAccuracy = accuracyAt(threshold);
    for (const t of [...sims, Math.max(...sims) + 1e-6]) {
      const acc = accuracyAt(t);
      if (acc > bestAccuracy) {
        bestAccuracy = acc;
        bestThreshold = t;
      }
    }
    return {
      threshold,
      accuracy: accuracyAt(threshold),
      bestThreshold,
      bestAccuracy,
      rocAuc: rocAuc(sims, list.map((p) => p.label)),
      pairs: verdicts,
    };
  });
}

/**
 * Embeds documents and queries, ranks documents by cosine similarity, and
 * scores the ranking against the relevant documents.
 *
 * With `modes`, compares query modes on the same set instead: the
 * documents go into an in-memory collection and each mode ('vector',
 * 'keyword', 'hybrid'; with `rerank`, each also reranked) is scored the
 * same way. `model` may then be null when only 'keyword' runs or when
 * `embeddings` gives the vectors.
 *
 * @example
 * const r = await evaluateRetrieval(model, { queries, documents, relevant: [[0, 3], [2]] }, { k: 5 });
 * const c = await evaluateRetrieval(model, task, { modes: ['vector', 'keyword', 'hybrid'], rerank: reranker });
 * for (const run of c.runs) console.log(run.mode, run.reranked, run.ndcgAtK);
 */
export async function evaluateRetrieval(model: Embedder | string, task: RetrievalTask, options?: { k?: number }): Promise<RetrievalReport>;
export async function evaluateRetrieval(model: Embedder | string | null, task: RetrievalTask, options: RetrievalModesOptions): Promise<RetrievalComparison>;
export async function evaluateRetrieval(
  model: Embedder | string | null,
  task: RetrievalTask,
  options: { k?: number } | RetrievalModesOptions = {},
): Promise<RetrievalReport | RetrievalComparison> {
  if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
  if ('modes' in options && options.modes !== undefined) {
    const modesOptions = options as RetrievalModesOptions;
    checkTask(task);
    if (model === null) return compareModes(undefined, task, modesOptions);
    return withModel(model, (m) => compareModes(m, task, modesOptions));
  }
  checkTask(task);
  const k = checkInteger(orDefault(options.k, 10), 'k', 1, 1_000_000);
  if (model === null) fail(ErrorCode.INVALID_ARGUMENT, 'evaluateRetrieval needs a model (null is allowed only with modes)');
  return withModel(model, async (m) => {
    const index = new FlatIndex({ dim: m.dim, metric: 'cosine' });
    index.add(await m.embed(task.documents));
    const results = index.searchBatch(await m.embed(task.queries), k);
    return scoreRankings(task, results.map((r) => Array.from(r.ids)), k);
  });
}

export interface ModelComparisonRow {
  model: string;
  dim: number;
  /** Size of the ONNX file in MB. */
  sizeMB: number;
  /** Texts embedded per second during the evaluation. */
  textsPerSecond: number;
  /** For pair tasks. */
  accuracy?: number;
  bestThreshold?: number;
  bestAccuracy?: number;
  rocAuc?: number;
  /** For retrieval tasks. */
  recallAtK?: number;
  mrr?: number;
  ndcgAtK?: number;
}

/**
 * Runs the same task with each model and returns their metrics side by
 * side with size, dimension and throughput.
 *
 * @example
 * const table = await compareModels(['all-MiniLM-L6-v2', 'all-mpnet-base-v2'], { pairs });
 * console.table(table);
 */
export async function compareModels(
  models: readonly (Embedder | string)[],
  task: { pairs: readonly Pair[]; threshold?: number } | (RetrievalTask & { k?: number }),
): Promise<ModelComparisonRow[]> {
  if (!Array.isArray(models) || models.length === 0) fail(ErrorCode.INVALID_ARGUMENT, 'models must be a non-empty array of Embedders or model names');
  const rows: ModelComparisonRow[] = [];
  for (const model of models) {
    rows.push(
      await withModel(model, async (m) => {
        const started = performance.now();
        let texts: number;
        let metrics: Partial<ModelComparisonRow>;
        if ('pairs' in task) {
          const r = await evaluatePairs(m, task.pairs, { threshold: task.threshold });
          texts = task.pairs.length * 2;
          metrics = { accuracy: r.accuracy, bestThreshold: r.bestThreshold, bestAccuracy: r.bestAccuracy, rocAuc: r.rocAuc };
        } else {
          const r = await evaluateRetrieval(m, task, { k: task.k });
          texts = task.queries.length + task.documents.length;
          metrics = { recallAtK: r.recallAtK, mrr: r.mrr, ndcgAtK: r.ndcgAtK };
        }
        const seconds = (performance.now() - started) / 1000;
        return { model: m.name, dim: m.dim, sizeMB: statSync(m.files.onnx).size / 1e6, textsPerSecond: texts / seconds, ...metrics };
      }),
    );
  }
  return rows;
}

export interface ApproximateReport {
  n: number;
  nlist: number;
  k: number;
  /** Exact (flat) single-query throughput, queries per second. */
  flatQps: number;
  rows: { nprobe: number; recall: number; qps: number; speedup: number }[];
}

/**
 * How much faster is IVF than exact search on your vectors, at what
 * recall@k, across nprobe values? Without `queries`, the last 10% of the
 * vectors (at most 200) are held out of both indexes and used as queries,
 * so no query finds itself.
 *
 * @example
 * const r = evaluateApproximate(vectors, { dim: 384 });
 * for (const row of r.rows) console.log(row.nprobe, row.recall, row.speedup);
 */
export function evaluateApproximate(
  vectors: VectorsInput,
  options: {
    dim: number;
    metric?: Metric;
    queries?: VectorsInput;
    k?: number;
    nlist?: number;
    nprobes?: number[];
    seed?: number;
    /** The IVF lists' encoding, `'f32'` (default) or `'sq8'` (see IVFIndex). */
    encoding?: IVFEncoding;
  },
): ApproximateReport {
  if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object like { dim: 384 }; received ${describe(options)}`);
  const dim = checkDim(options.dim);
  const metric = checkOneOf(orDefault(options.metric, 'cosine'), 'metric', ['ip', 'cosine', 'l2'] as const);
  const all = toVectors(vectors, dim, 'vectors');
  const total = all.length / dim;
  const held = options.queries !== undefined ? 0 : Math.max(1, Math.min(200, Math.floor(total / 10)));
  const x = all.subarray(0, (total - held) * dim);
  const n = total - held;
  if (n < 1) fail(ErrorCode.INVALID_ARGUMENT, 'evaluateApproximate needs at least 2 vectors');
  const k = checkInteger(orDefault(options.k, 10), 'k', 1, n);
  const nlist = checkInteger(orDefault(options.nlist, suggestNlist(n)), 'nlist', 1, n);
  const nprobesGiven = orDefault(options.nprobes, [1, 2, 4, 8, 16, 32, 64, 128]);
  if (!Array.isArray(nprobesGiven)) {
    fail(ErrorCode.INVALID_ARGUMENT, `nprobes must be an array of integers; received ${describe(nprobesGiven)}`);
  }
  nprobesGiven.forEach((p, i) => checkInteger(p, `nprobes[${i}]`, 1, Number.MAX_SAFE_INTEGER));
  const q = options.queries !== undefined ? toVectors(options.queries, dim, 'queries') : all.subarray(n * dim);
  const nq = q.length / dim;
  const flat = new FlatIndex({ dim, metric });
  flat.add(x);
  const time = (fn: () => void) => {
    const t = performance.now();
    fn();
    return (performance.now() - t) / 1000;
  };
  const truth: ReturnType<FlatIndex['search']>[] = [];
  const flatSeconds = time(() => {
    for (let i = 0; i < nq; i++) truth.push(flat.search(q.subarray(i * dim, (i + 1) * dim), k));
  });
  const ivf = new IVFIndex({ dim, metric, nlist, encoding: options.encoding });
  ivf.train(x, { seed: options.seed });
  ivf.add(x);
  const nprobes = nprobesGiven.filter((p) => p <= nlist);
  const flatQps = nq / flatSeconds;
  const rows = nprobes.map((nprobe) => {
    const got: ReturnType<IVFIndex['search']>[] = [];
    const seconds = time(() => {
      for (let i = 0; i < nq; i++) got.push(ivf.search(q.subarray(i * dim, (i + 1) * dim), k, { nprobe }));
    });
    const qps = nq / seconds;
    return { nprobe, recall: recallAtK(got, truth, k), qps, speedup: qps / flatQps };
  });
  return { n, nlist, k, flatQps, rows };
}

/**
 * Clustering embeddings: k-means on vectors or texts, and a helper that
 * suggests k.
 */
import { Embedder } from '../embedder/embedder.js';
import { ErrorCode } from '../errors.js';
import { kmeans, KMEANS_DEFAULTS } from './kmeans.js';
import { mulberry32 } from '../random.js';
import { similarityMatrix } from '../vectors.js';
import { checkDim, checkInteger, checkOneOf, describe, fail, orDefault, toVectors, type VectorsInput } from '../validate.js';

export interface ClusterOptions {
  /** Number of clusters. */
  k: number;
  /** Default 1234. */
  seed?: number;
  /** 'cosine' (default: spherical k-means, right for embeddings) or 'l2'. */
  metric?: 'cosine' | 'l2';
  /** Lloyd iterations at most; default 25. */
  iterations?: number;
  /** Needed when vectors are one Float32Array. */
  dim?: number;
}

export interface Clustering {
  k: number;
  /** Cluster of each input, 0..k-1. */
  labels: Uint32Array;
  /** k * dim. */
  centroids: Float32Array;
  inertia: number;
  /** Members per cluster. */
  sizes: number[];
}

export interface TextCluster {
  label: number;
  /** Positions of the member texts in the input. */
  indices: number[];
  members: string[];
}

export interface TextClustering extends Clustering {
  clusters: TextCluster[];
}

function dimOf(vectors: VectorsInput, dim: number | undefined): number {
  if (dim !== undefined) return checkDim(dim);
  if (Array.isArray(vectors) && vectors.length > 0) return checkDim((vectors[0] as ArrayLike<number>).length);
  return fail(ErrorCode.INVALID_ARGUMENT, 'dim is required when vectors are one Float32Array');
}

/**
 * k-means clusters of vectors.
 *
 * @example
 * const { labels, sizes } = clusterVectors(embeddings, { k: 3, dim: 384 });
 */
export function clusterVectors(vectors: VectorsInput, options: ClusterOptions): Clustering {
  if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object like { k: 3 }; received ${describe(options)}`);
  const dim = dimOf(vectors, options.dim);
  const metric = checkOneOf(orDefault(options.metric, 'cosine'), 'metric', ['cosine', 'l2'] as const);
  const r = kmeans(vectors, { k: options.k, dim, seed: options.seed, metric, iterations: options.iterations });
  const sizes = new Array<number>(r.k).fill(0);
  for (const l of r.assignments) sizes[l]!++;
  return { k: r.k, labels: r.assignments, centroids: r.centroids, inertia: r.inertia, sizes };
}

/**
 * Embeds texts and clusters them; each cluster lists its members.
 *
 * @example
 * const { clusters } = await clusterTexts(sentences, { k: 3, model });
 * clusters.forEach((c) => console.log(c.label, c.members));
 */
export async function clusterTexts(texts: readonly string[], options: ClusterOptions & { model?: Embedder | string }): Promise<TextClustering> {
  if (!Array.isArray(texts)) fail(ErrorCode.INVALID_ARGUMENT, `texts must be an array of strings; received ${describe(texts)}`);
  if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object like { k: 3 }; received ${describe(options)}`);
  const given = options.model;
  const model = given instanceof Embedder ? given : await Embedder.load(given); // undefined: the default model
  try {
    const vectors = await model.embed(texts);
    const c = clusterVectors(vectors, { ...options, dim: model.dim });
    const clusters: TextCluster[] = Array.from({ length: c.k }, (_, label) => ({ label, indices: [], members: [] }));
    c.labels.forEach((l, i) => {
      clusters[l]!.indices.push(i);
      clusters[l]!.members.push(texts[i] as string);
    });
    return { ...c, clusters };
  } finally {
    if (!(given instanceof Embedder)) await model.close();
  }
}

export interface SuggestKOptions {
  dim?: number;
  /** Smallest k tried; default 2. */
  kMin?: number;
  /** Largest k tried; default 10 (at most the number of vectors - 1). */
  kMax?: number;
  /**
   * 'silhouette' (default): the k with the best mean silhouette on a sample;
   * 'elbow': the k where the inertia curve bends most.
   */
  method?: 'silhouette' | 'elbow';
  /** Vectors used for silhouettes; default 2,000. */
  sample?: number;
  metric?: 'cosine' | 'l2';
  seed?: number;
}

export interface SuggestKResult {
  k: number;
  method: 'silhouette' | 'elbow';
  /** One row per k tried. */
  scores: { k: number; inertia: number; silhouette: number }[];
}

/** Mean silhouette of a labelled sample (distances: squared L2, or 1 - cosine). */
function silhouette(x: Float32Array, dim: number, labels: Uint32Array, k: number, metric: 'cosine' | 'l2'): number {
  const n = labels.length;
  const m = similarityMatrix(x, x, { dim, metric });
  const dist = (i: number, j: number) => (metric === 'l2' ? Math.sqrt(m[i * n + j] as number) : 1 - (m[i * n + j] as number));
  let total = 0;
  for (let i = 0; i < n; i++) {
    const sum = new Float64Array(k);
    const count = new Float64Array(k);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      sum[labels[j]!]! += dist(i, j);
      count[labels[j]!]!++;
    }
    const own = labels[i]!;
    if (count[own] === 0) continue; // a singleton's silhouette is 0
    const a = sum[own]! / count[own]!;
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && count[c]! > 0) b = Math.min(b, sum[c]! / count[c]!);
    if (b === Infinity) continue;
    total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

/**
 * Suggests a number of clusters by running k-means for each k in
 * [kMin, kMax].
 *
 * @example
 * const { k } = suggestK(embeddings, { dim: 384, kMax: 8 });
 */
export function suggestK(vectors: VectorsInput, options: SuggestKOptions = {}): SuggestKResult {
  if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
  const dim = dimOf(vectors, options.dim);
  const x = toVectors(vectors, dim, 'vectors');
  const n = x.length / dim;
  if (n < 3) fail(ErrorCode.INVALID_ARGUMENT, `suggestK needs at least 3 vectors; received ${n}`);
  const kMin = checkInteger(orDefault(options.kMin, 2), 'kMin', 2, n - 1);
  const kMax = Math.min(checkInteger(orDefault(options.kMax, 10), 'kMax', kMin, Number.MAX_SAFE_INTEGER), n - 1);
  const method = checkOneOf(orDefault(options.method, 'silhouette'), 'method', ['silhouette', 'elbow'] as const);
  const metric = checkOneOf(orDefault(options.metric, 'cosine'), 'metric', ['cosine', 'l2'] as const);
  const seed = checkInteger(orDefault(options.seed, KMEANS_DEFAULTS.seed), 'seed', 0, Number.MAX_SAFE_INTEGER);
  // The silhouette sample: a seeded subset.
  const sampleSize = Math.min(n, checkInteger(orDefault(options.sample, 2000), 'sample', 3, 1_000_000));
  const rand = mulberry32(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < sampleSize; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const picked = order.slice(0, sampleSize).sort((a, b) => a - b);
  const sample = new Float32Array(sampleSize * dim);
  picked.forEach((p, i) => sample.set(x.subarray(p * dim, (p + 1) * dim), i * dim));

  const scores: SuggestKResult['scores'] = [];
  for (let k = kMin; k <= kMax; k++) {
    const c = kmeans(x, { k, dim, seed, metric });
    const labels = Uint32Array.from(picked, (p) => c.assignments[p]!);
    scores.push({ k, inertia: c.inertia, silhouette: method === 'silhouette' ? silhouette(sample, dim, labels, k, metric) : NaN });
  }
  let best: number;
  if (method === 'silhouette') {
    best = scores.reduce((a, b) => (b.silhouette > a.silhouette ? b : a)).k;
  } else {
    // The point farthest below the line from the first to the last inertia.
    const first = scores[0]!;
    const last = scores[scores.length - 1]!;
    let farthest = -Infinity;
    best = first.k;
    for (const s of scores) {
      const t = last.k === first.k ? 0 : (s.k - first.k) / (last.k - first.k);
      const line = first.inertia + t * (last.inertia - first.inertia);
      if (line - s.inertia > farthest) {
        farthest = line - s.inertia;
        best = s.k;
      }
    }
  }
  return { k: best, method, scores };
}

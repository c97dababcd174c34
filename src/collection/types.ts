/**
 * The shapes of collections' arguments and results, and what a collection
 * knows of its client.
 */
import type { SemvecWarning } from '../errors.js';
import type { IVFEncoding } from '../native.js';
import type { VectorsInput } from '../validate.js';
import type { Metric } from '../vector-index.js';
import type { Where, WhereDocument } from './filter.js';
import type { Fusion } from './fusion.js';
import type { Tokenizer } from './keyword-index.js';
import type { Metadata } from './metadata.js';
import type { Include } from './records-input.js';
import type { CollectionStore } from './store.js';
import type { WriteQueue } from './writer.js';

/** The index a collection keeps: exact, IVF once it is large enough, or a graph. */
export type IndexKind = 'flat' | 'ivf' | 'graph';

export interface CollectionRecord {
  id: string;
  document?: string | null;
  metadata?: Metadata | null;
  embedding?: Float32Array;
}

export interface QueryMatch extends CollectionRecord {
  /**
   * Vector mode: Chroma's distance: 1 - similarity for 'cosine' and 'ip',
   * squared distance for 'l2'. Lower is nearer. Keyword and hybrid modes,
   * and after a rerank: minus `score` (so both order the matches alike).
   */
  distance: number;
  /**
   * The score the matches are ordered by, higher better. Vector mode:
   * similarity (cosine or inner product; for 'l2', minus the squared
   * distance); keyword mode: BM25; hybrid: the fused score; after a rerank:
   * the reranker's score.
   */
  score: number;
  /** Keyword and hybrid modes and reranked queries: the score of each stage. */
  scores?: MatchScores;
}

/** Where a match's score comes from: the score and rank (1 = best) of each stage it went through. */
export interface MatchScores {
  /** Similarity on the vector side (absent when the record was not among the vector candidates). */
  vector?: number;
  vectorRank?: number;
  /** BM25 on the keyword side (absent when the record did not match the keywords). */
  keyword?: number;
  keywordRank?: number;
  /** Hybrid mode: the fused score. */
  fused?: number;
  /** The reranker's score. */
  rerank?: number;
}

/**
 * How a query ranks records: 'vector' (default; by embedding similarity),
 * 'keyword' (BM25 over documents, from queryTexts; no embedder needed) or
 * 'hybrid' (both, fused).
 */
export type QueryMode = 'vector' | 'keyword' | 'hybrid';

export interface Filters {
  where?: Where;
  whereDocument?: WhereDocument;
}

export interface GetOptions extends Filters {
  ids?: string | readonly string[];
  limit?: number;
  offset?: number;
  /** Default: documents and metadatas. */
  include?: readonly Include[];
}

export interface DeleteOptions extends Filters {
  ids?: string | readonly string[];
}

export interface QueryOptions extends Filters {
  queryEmbeddings?: VectorsInput;
  queryTexts?: string | readonly string[];
  /** Only these records may be returned (with `where` and `whereDocument`: those matching them too). */
  ids?: string | readonly string[];
  /** Results per query; default 10. */
  nResults?: number;
  /** Only results with score >= minScore. */
  minScore?: number;
  /** Only results with distance <= maxDistance. */
  maxDistance?: number;
  /** Default: documents and metadatas. */
  include?: readonly Include[];
  /** IVF collections: lists to probe (see IVFIndex). Graph collections: groups of the graph's partition that also start the walk (see GraphIndex; default 0). */
  nprobe?: number;
  /**
   * A metadata key: at most one match (the best) per value of it, e.g.
   * `'source_id'` for the best chunk of each document. Records without
   * the key count as their own value.
   */
  distinct?: string;
  /**
   * 'vector' (default), 'keyword' (queryTexts matched against documents by
   * BM25) or 'hybrid' (queryTexts for the keywords; queryEmbeddings, or the
   * collection's embedder over queryTexts, for the vectors).
   */
  mode?: QueryMode;
  /** Hybrid mode: how the two rankings merge; default `{ method: 'rrf', k: 60 }`. */
  fusion?: Fusion;
  /** Hybrid mode: candidates taken from each side before fusion; default max(nResults, 50). */
  candidates?: number;
  /**
   * Reorders the best `candidates` (default 50) of any mode with a
   * cross-encoder that reads each query text with each document, and keeps
   * the best nResults. Needs queryTexts. Records without a document come
   * after those the model scored, in their order.
   */
  rerank?: RerankQueryOptions;
}

/** Something that scores passages against a query, higher more relevant: a {@link Reranker}, or your own. */
export interface RerankModel {
  score(query: string, passages: readonly string[]): Promise<ArrayLike<number>>;
}

export interface RerankQueryOptions {
  model: RerankModel;
  /** How many of the mode's best matches the model reads; default 50 (at least nResults are read). */
  candidates?: number;
}

/** @internal What a collection is, as its client read it. */
export interface CollectionInfo {
  cid: number;
  name: string;
  metric: Metric;
  dim: number | undefined;
  index: IndexKind;
  metadata: Metadata | null;
  /** The embedder the collection was built with (its identity), if recorded. */
  embedder: string | null;
  /** The tokenizer of its keyword index. */
  tokenizer: Tokenizer;
  /** 'ivf' collections: the list encoding of the IVF index. */
  encoding: IVFEncoding;
}

/** What {@link Collection.modify} changes; what is not given stays as it is. */
export interface ModifyCollectionOptions {
  /** A new name (the rules of createCollection); ERR_DUPLICATE_ID if it is taken. */
  name?: string;
  /** New metadata, replacing the old (null: none). Its `'hnsw:space'`, if any, must be the collection's metric. */
  metadata?: Metadata | null;
}

/** @internal The client side a collection works through. */
export interface CollectionHost {
  store: CollectionStore;
  queue: WriteQueue;
  snapshots: string | undefined;
  /** A read-only client: writes are refused, and reads catch up with the writer's commits. */
  readOnly: boolean;
  /** Read-only clients: the most a read lags behind the writer's commits, in ms (0: only refresh() catches up). */
  refreshMs: number;
  /** Persistent clients that map snapshots (OpenOptions.mmap), and whether they verify them. */
  mapped: { verify: boolean } | undefined;
  warn(warning: SemvecWarning): void;
  /** Renames a collection and/or replaces its metadata (the client keeps its handles by name). */
  modify(cid: number, changes: ModifyCollectionOptions): Promise<void>;
}

export interface RefreshOptions {
  /** Wait until the collection has caught up to at least this sequence number (a writer's `seq` after its write). */
  atLeast?: number;
  /** How long to wait for `atLeast`, in ms; default 10,000. ERR_TIMEOUT after that. */
  timeoutMs?: number;
}

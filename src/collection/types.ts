/**
 * The shapes of collections' arguments and results, and what a collection
 * knows of its client.
 */
import type { SemvecWarning } from '../errors.js';
import type { VectorsInput } from '../validate.js';
import type { Metric } from '../vector-index.js';
import type { Where, WhereDocument } from './filter.js';
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
  /** Chroma's distance: 1 - similarity for 'cosine' and 'ip', squared distance for 'l2'. Lower is nearer. */
  distance: number;
  /** Similarity: cosine or inner product; for 'l2', minus the squared distance. Higher is nearer. */
  score: number;
}

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
  /** IVF collections: lists to probe (see IVFIndex). */
  nprobe?: number;
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

/**
 * The types of the Chroma-compatible API, following the `chromadb` JS
 * client (3.x) where semvec has the feature, narrower where it does not
 * (metadata values are scalars: no arrays, no sparse vectors).
 */
import type { Metric } from '../vector-index.js';

/** Chroma's distance functions: semvec's metrics. */
export type Space = Metric;
export type EmbeddingFunctionSpace = Space;

/** A metadata value: semvec stores strings, finite numbers and booleans (null: no value). */
export type MetadataScalar = boolean | number | string;
export type Metadata = Record<string, MetadataScalar | null>;
export type CollectionMetadata = Record<string, MetadataScalar | null>;

export type Include = 'distances' | 'documents' | 'embeddings' | 'metadatas' | 'uris';

/** The values of {@link Include}, as Chroma's client names them. */
export enum IncludeEnum {
  distances = 'distances',
  documents = 'documents',
  embeddings = 'embeddings',
  metadatas = 'metadatas',
  uris = 'uris',
}

export type LiteralValue = string | number | boolean;
export type OperatorExpression =
  | { $gt: LiteralValue }
  | { $gte: LiteralValue }
  | { $lt: LiteralValue }
  | { $lte: LiteralValue }
  | { $ne: LiteralValue }
  | { $eq: LiteralValue }
  | { $in: LiteralValue[] }
  | { $nin: LiteralValue[] };
export type Where = { [key: string]: LiteralValue | OperatorExpression } | { $and: Where[] } | { $or: Where[] };
export type WhereDocument =
  | { $contains: string }
  | { $not_contains: string }
  | { $regex: string }
  | { $not_regex: string }
  | { $and: WhereDocument[] }
  | { $or: WhereDocument[] };

/** Chroma's read levels: semvec reads every acknowledged write at any level (there is no separate index to skip). */
export const ReadLevel = {
  INDEX_AND_WAL: 'index_and_wal',
  INDEX_ONLY: 'index_only',
  INDEX_AND_BOUNDED_WAL: 'index_and_bounded_wal',
} as const;
export type ReadLevel = (typeof ReadLevel)[keyof typeof ReadLevel];

export interface EmbeddingFunctionConfiguration {
  type: 'known' | 'legacy' | 'unknown';
  name?: string;
  config?: unknown;
}

export interface HNSWConfiguration {
  space?: Space | null;
  ef_construction?: number | null;
  ef_search?: number | null;
  max_neighbors?: number | null;
  resize_factor?: number | null;
  sync_threshold?: number | null;
  batch_size?: number | null;
  num_threads?: number | null;
}

export interface SpannConfiguration {
  space?: Space | null;
  search_nprobe?: number | null;
  write_nprobe?: number | null;
  ef_construction?: number | null;
  ef_search?: number | null;
  max_neighbors?: number | null;
  reassign_neighbor_count?: number | null;
  split_threshold?: number | null;
  merge_threshold?: number | null;
}

/** A collection's configuration as Chroma reports it: semvec fills in the space. */
export interface CollectionConfiguration {
  embeddingFunction?: EmbeddingFunctionConfiguration | null;
  hnsw?: HNSWConfiguration | null;
  spann?: SpannConfiguration | null;
}

export interface DeleteResult {
  deleted?: number;
}

export interface UserIdentity {
  user_id: string;
  tenant: string;
  databases: string[];
}

export interface ChecklistResponse {
  max_batch_size: number;
  supports_base64_encoding: boolean;
}

/** Chroma's defaults, the only tenant and database semvec has. */
export const DEFAULT_TENANT = 'default_tenant';
export const DEFAULT_DATABASE = 'default_database';

/** Most records one write may carry (reported by getMaxBatchSize and the server's pre-flight checks). */
export const MAX_BATCH_SIZE = 4096;

/**
 * What routers and nodes say to each other over HTTP (JSON bodies), and
 * the merge of per-shard top-k lists that both do.
 *
 * Vectors and scores travel as base64 of little-endian float32 values, so
 * a score reaches the caller bit for bit as the index computed it.
 */
import type { Where, WhereDocument } from '../collection/filter.js';
import type { Metadata } from '../collection/metadata.js';
import type { Metric } from '../vector-index.js';
import { floats } from './change-log.js';
import type { ShardMatch } from './shard-replica.js';

/** POST /query: search some shards of a collection held by one node. */
export interface NodeQuery {
  cid: number;
  nq: number;
  k: number;
  /** nq * dim float32 values, base64. */
  queries: string;
  where?: Where;
  whereDocument?: WhereDocument;
  ids?: string[];
  include: { metadatas: boolean; documents: boolean };
  /** The shards to search, each with the epoch the caller's map gives it and the sequence number it must reflect. */
  shards: { shard: number; epoch: number; minSeq: number }[];
  /** How long the node may wait for a shard to reach minSeq, in ms. */
  waitMs: number;
}

export interface NodeAnswer {
  /** Per query, the merged top k of the shards asked for. */
  results: { ids: string[]; scores: string; metadatas?: (Metadata | null)[]; documents?: (string | null)[] }[];
  /** Per shard, the epoch it was served under and the sequence number it reflected. */
  shards: { shard: number; epoch: number; seq: number }[];
}

/** An error answer: semvec's code and message; for stale epochs, the node's epochs. */
export interface NodeError {
  code: string;
  message: string;
  epochs?: Record<number, number>;
}

export function encodeFloats(x: Float32Array): string {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
}

export function decodeFloats(b64: string): Float32Array {
  return floats(Buffer.from(b64, 'base64'));
}

/** Whether higher scores are better (similarities) or lower (l2's squared distances). */
export function higherIsBetter(metric: Metric): boolean {
  return metric !== 'l2';
}

/**
 * The best k of several best-first lists: by score (the metric's way), ties
 * by id, so the merge does not depend on which replica or shard answered.
 */
export function mergeTopK(lists: readonly (readonly ShardMatch[])[], k: number, metric: Metric): ShardMatch[] {
  const all = lists.flat();
  const sign = higherIsBetter(metric) ? -1 : 1;
  all.sort((a, b) => sign * (a.score - b.score) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return all.slice(0, k);
}

/** Matches to the wire. */
export function encodeMatches(matches: readonly ShardMatch[], include: { metadatas: boolean; documents: boolean }): NodeAnswer['results'][number] {
  const out: NodeAnswer['results'][number] = { ids: matches.map((m) => m.id), scores: encodeFloats(Float32Array.from(matches, (m) => m.score)) };
  if (include.metadatas) out.metadatas = matches.map((m) => m.metadata ?? null);
  if (include.documents) out.documents = matches.map((m) => m.document ?? null);
  return out;
}

/** Matches from the wire. */
export function decodeMatches(r: NodeAnswer['results'][number]): ShardMatch[] {
  const scores = decodeFloats(r.scores);
  return r.ids.map((id, j) => {
    const m: ShardMatch = { id, score: scores[j] as number };
    if (r.metadatas) m.metadata = r.metadatas[j] ?? null;
    if (r.documents) m.document = r.documents[j] ?? null;
    return m;
  });
}

/**
 * Checks of the arguments of the Chroma-compatible API that the collection
 * layer does not make itself: unknown options (refused, never ignored),
 * Chroma features semvec lacks (regex document filters, metadata arrays,
 * URIs, index tuning), and the collection space from `configuration` or the
 * legacy `hnsw:space` metadata.
 */
import { describe } from '../validate.js';
import { invalid, unsupported } from './errors.js';
import type { CollectionMetadata, HNSWConfiguration, Include, Metadata, Space, SpannConfiguration } from './types.js';
import { MAX_BATCH_SIZE } from './types.js';

/** The argument object of a call, with only the keys it takes. */
export function options<T extends object>(value: T | undefined | null, call: string, allowed: readonly string[], required = false): Partial<T> {
  if (value === undefined && !required) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalid(`${call} expects an object; received ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) invalid(`${call} does not take the option ${JSON.stringify(key)}; it takes ${allowed.join(', ')}`);
  }
  return value;
}

/** Refuses `uris` (semvec stores no URIs) unless absent. */
export function noUris(uris: unknown, call: string): void {
  if (uris !== undefined && uris !== null) unsupported(`${call}: uris`, 'store the URI in the metadata or the document instead');
}

/** Refuses a batch larger than {@link MAX_BATCH_SIZE}. */
export function checkBatch(ids: unknown, call: string): void {
  if (Array.isArray(ids) && ids.length > MAX_BATCH_SIZE) {
    invalid(`${call}: ${ids.length} records exceed the max batch size ${MAX_BATCH_SIZE}; split the call (getMaxBatchSize() tells the limit)`);
  }
}

/** Document filters of other engines that semvec does not have ($regex and $not_regex it has). */
const UNSUPPORTED_DOCUMENT_OPS = ['$matches', '$not_matches'];

/** Refuses the document filters semvec does not have, anywhere in the tree. */
export function checkWhereDocument(w: unknown, depth = 0): void {
  if (w === null || typeof w !== 'object' || depth > 64) return;
  for (const [k, v] of Object.entries(w)) {
    if (UNSUPPORTED_DOCUMENT_OPS.includes(k)) unsupported(`whereDocument ${k}`, 'use $contains, $not_contains (substrings), $regex or $not_regex, combined with $and / $or');
    if (Array.isArray(v)) v.forEach((x) => checkWhereDocument(x, depth + 1));
  }
}

/** Refuses metadata-array operators ($contains on a metadata field), anywhere in a where. */
export function checkWhere(w: unknown, depth = 0): void {
  if (w === null || typeof w !== 'object' || depth > 64) return;
  for (const [k, v] of Object.entries(w)) {
    if (k === '$and' || k === '$or') {
      if (Array.isArray(v)) v.forEach((x) => checkWhere(x, depth + 1));
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const op of Object.keys(v)) {
        if (op === '$contains' || op === '$not_contains') unsupported(`where ${op} on a metadata field`, 'metadata values are scalars in semvec (no arrays); use $in / $nin or $eq');
      }
    }
  }
}

/**
 * Chroma record metadata to semvec's: arrays and sparse vectors refused;
 * null values dropped (as Chroma's client does), or kept for an update
 * (where null removes the key).
 */
export function recordMetadata(m: unknown, at: string, keepNull = false): Metadata | null {
  if (m === null || m === undefined) return null;
  if (typeof m !== 'object' || Array.isArray(m)) return m as Metadata; // the collection layer reports the type error
  const out: Metadata = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined || (v === null && !keepNull)) continue;
    if (Array.isArray(v)) unsupported(`${at}.${k}: metadata arrays`, 'metadata values are strings, numbers or booleans');
    if (v !== null && typeof v === 'object') unsupported(`${at}.${k}: sparse vectors and objects in metadata`, 'metadata values are strings, numbers or booleans');
    out[k] = v as Metadata[string];
  }
  return out;
}

export function recordMetadatas(ms: unknown, call: string): (Metadata | null)[] | undefined {
  if (ms === undefined || ms === null) return undefined;
  if (!Array.isArray(ms)) invalid(`${call}: metadatas must be an array (one per id); received ${describe(ms)}`);
  return ms.map((m, i) => recordMetadata(m, `${call}: metadatas[${i}]`, call === 'update'));
}

/** Collection metadata: null values dropped, arrays refused. */
export function collectionMetadata(m: CollectionMetadata | null | undefined): Record<string, string | number | boolean> | undefined {
  if (m === undefined || m === null) return undefined;
  return recordMetadata(m, 'metadata') as Record<string, string | number | boolean> | undefined;
}

const INCLUDES: readonly Include[] = ['distances', 'documents', 'embeddings', 'metadatas', 'uris'];

export function checkInclude(include: unknown, call: string, allowDistances: boolean): Include[] | undefined {
  if (include === undefined) return undefined;
  if (!Array.isArray(include)) invalid(`${call}: include must be an array of ${INCLUDES.join(', ')}; received ${describe(include)}`);
  for (const item of include) {
    if (!INCLUDES.includes(item as Include)) invalid(`${call}: include items must be one of ${INCLUDES.join(', ')}; received ${describe(item)}`);
    if (item === 'distances' && !allowDistances) invalid(`${call}: distances is not allowed for this operation`);
  }
  return include as Include[];
}

/** The index settings of Chroma's HNSW and SPANN that have no meaning for semvec's exact and IVF indexes. */
function refuseTuning(kind: 'hnsw' | 'spann', config: HNSWConfiguration | SpannConfiguration | null | undefined): Space | undefined {
  if (config === null || config === undefined) return undefined;
  if (typeof config !== 'object' || Array.isArray(config)) invalid(`configuration.${kind} must be an object; received ${describe(config)}`);
  for (const [k, v] of Object.entries(config)) {
    if (k === 'space' || v === null || v === undefined) continue;
    unsupported(`configuration.${kind}.${k}`, `semvec has no ${kind.toUpperCase()} index (its collections search exactly, by IVF with index: 'ivf', or by a graph with index: 'graph'); remove the setting`);
  }
  return (config.space ?? undefined) as Space | undefined;
}

/** The space a `configuration` asks for (hnsw or spann), refusing the index tuning semvec has no use for. */
export function configuredSpace(configuration: { hnsw?: HNSWConfiguration | null; spann?: SpannConfiguration | null } | undefined): Space | undefined {
  if (configuration === undefined) return undefined;
  if (configuration.hnsw && configuration.spann) invalid('Cannot specify both HNSW and SPANN configurations');
  return refuseTuning('hnsw', configuration.hnsw) ?? refuseTuning('spann', configuration.spann);
}

/**
 * Validation of the arguments of collection calls: ids, documents,
 * metadata, embeddings and include lists. Everything a write needs is
 * checked here, before anything is written.
 */
import type { Embedder } from '../embedder/embedder.js';
import { ErrorCode } from '../errors.js';
import type { VectorsInput } from '../validate.js';
import { describe, fail, toVectors } from '../validate.js';
import { checkMetadata, checkMetadataKey, isMetadataValue, type Metadata } from './metadata.js';

export type Include = 'documents' | 'metadatas' | 'embeddings';

export interface RecordsInput {
  ids: string | readonly string[];
  /** One vector per id; computed from `documents` by the collection's embedder when absent. */
  embeddings?: VectorsInput;
  documents?: string | readonly (string | null | undefined)[];
  metadatas?: Metadata | readonly (Metadata | null | undefined)[];
}

export interface UpdateInput extends Omit<RecordsInput, 'metadatas'> {
  /** Merged into the stored metadata; a key set to null is removed. */
  metadatas?: Record<string, Metadata[string] | null> | readonly (Record<string, Metadata[string] | null> | null | undefined)[];
}

const DEFAULT_INCLUDE: readonly Include[] = ['documents', 'metadatas'];

export function bad(message: string): never {
  return fail(ErrorCode.INVALID_ARGUMENT, message);
}

/** A single value or a list of values, as a list. */
export function list<T>(value: T | readonly T[] | undefined, isOne: (v: unknown) => boolean): readonly T[] | undefined {
  if (value === undefined) return undefined;
  return isOne(value) ? [value as T] : (value as readonly T[]);
}

/** Record ids: non-empty strings, none repeated. */
export function checkIds(ids: unknown, at = 'ids'): string[] {
  const arr = list(ids as string | string[], (v) => typeof v === 'string');
  if (!Array.isArray(arr)) bad(`${at} must be a string or an array of strings; received ${describe(ids)}`);
  const seen = new Set<string>();
  arr.forEach((id, i) => {
    if (typeof id !== 'string' || id.length === 0) bad(`${at}[${i}] must be a non-empty string; received ${describe(id)}`);
    if (seen.has(id)) fail(ErrorCode.DUPLICATE_ID, `id ${JSON.stringify(id)} appears more than once in ${at}`);
    seen.add(id);
  });
  return arr as string[];
}

export function checkInclude(include: unknown): readonly Include[] {
  if (include === undefined) return DEFAULT_INCLUDE;
  if (!Array.isArray(include) || !include.every((x) => x === 'documents' || x === 'metadatas' || x === 'embeddings')) {
    bad(`include must be an array of 'documents', 'metadatas', 'embeddings'; received ${describe(include)}`);
  }
  return include as Include[];
}

/** The ids, documents and metadata of a write, each list with one entry per id. */
export function normalizeRecords(input: RecordsInput | UpdateInput, at: string) {
  if (input === null || typeof input !== 'object') bad(`${at} expects an object like { ids, embeddings, documents, metadatas }; received ${describe(input)}`);
  const ids = checkIds(input.ids);
  if (ids.length === 0) bad(`${at}: ids is empty`);
  const documents = list(input.documents, (v) => typeof v === 'string' || v === null);
  if (documents !== undefined) {
    if (!Array.isArray(documents) || documents.length !== ids.length) bad(`${at}: documents must have one entry per id (${ids.length}); received ${describe(input.documents)}`);
    documents.forEach((d, i) => {
      if (d !== null && d !== undefined && typeof d !== 'string') bad(`${at}: documents[${i}] must be a string or null; received ${describe(d)}`);
    });
  }
  const metadatas = list(input.metadatas as Metadata | Metadata[] | undefined, (v) => v === null || (typeof v === 'object' && !Array.isArray(v)));
  if (metadatas !== undefined && (!Array.isArray(metadatas) || metadatas.length !== ids.length)) {
    bad(`${at}: metadatas must have one entry per id (${ids.length}); received ${describe(input.metadatas)}`);
  }
  return { ids, documents, metadatas };
}

/** The metadata of each record of an add or upsert, validated. */
export function recordMetadata(ids: readonly string[], metadatas: readonly unknown[] | undefined, at: string): (Metadata | null)[] {
  return ids.map((_, i) => checkMetadata(metadatas?.[i], `${at}: metadatas[${i}]`));
}

/**
 * Metadata patches of an update: plain objects whose values are metadata
 * values or null (remove the key). Keys are kept as given, `__proto__`
 * included.
 */
export function metadataPatches(ids: readonly string[], metadatas: readonly unknown[] | undefined): (Record<string, Metadata[string] | null> | undefined)[] {
  return ids.map((_, i) => {
    const m = metadatas?.[i];
    if (m === null || m === undefined) return undefined;
    if (typeof m !== 'object' || Array.isArray(m) || ArrayBuffer.isView(m)) {
      bad(`update: metadatas[${i}] must be an object of string, number, boolean or null values; received ${describe(m)}`);
    }
    for (const [k, v] of Object.entries(m)) {
      checkMetadataKey(k, `update: metadatas[${i}]`);
      if (v !== null && !isMetadataValue(v)) bad(`update: metadatas[${i}].${k} must be a string, a finite number, a boolean or null; received ${describe(v)}`);
    }
    return m as Record<string, Metadata[string] | null>;
  });
}

/** Throws for the first NaN or infinite value of a vector set of dimension dim. */
export function checkFinite(x: Float32Array, dim: number, name: string): void {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i]! & 0x7f800000) !== 0x7f800000) continue;
    const v = x[i] as number;
    bad(`${name} must contain only finite numbers; received ${Number.isNaN(v) ? 'NaN' : v} at vector ${Math.floor(i / dim)}, component ${i % dim}`);
  }
}

/**
 * Embeddings given with a write, as one Float32Array of n * dim finite
 * values (always a copy). `dim` is the collection's dimension when known.
 */
export function givenEmbeddings(embeddings: VectorsInput, n: number, dim: number | undefined, at: string): Float32Array {
  const flatDim = embeddings instanceof Float32Array && n > 0 && embeddings.length % n === 0 ? embeddings.length / n : undefined;
  const d = dim ?? (Array.isArray(embeddings) ? (embeddings[0] as ArrayLike<number> | undefined)?.length : flatDim);
  if (d === undefined || d === 0) {
    bad(`${at}: the collection's dimension is not known yet; pass embeddings as an array of arrays (or create the collection with an embedder)`);
  }
  const given = toVectors(embeddings, d, 'embeddings', true);
  if (given.length !== n * d) bad(`${at}: expected one embedding per id (${n}); received ${given.length / d}`);
  // A copy: the database and the index must get the same values, whatever
  // the caller does with its array meanwhile.
  const x = given === embeddings ? given.slice() : given;
  checkFinite(x, d, 'embeddings');
  return x;
}

/**
 * The query vectors of a query, as one Float32Array of nq * dim; just nq
 * when the collection holds nothing yet (its dimension is unknown, so
 * nothing can match).
 */
export async function queryVectors(
  options: { queryEmbeddings?: VectorsInput; queryTexts?: string | readonly string[] },
  dim: number | undefined,
  embedder: Embedder | undefined,
  name: string,
): Promise<{ queries: Float32Array; nq: number } | { nq: number }> {
  if ((options.queryEmbeddings === undefined) === (options.queryTexts === undefined)) bad('query needs exactly one of queryEmbeddings and queryTexts');
  if (options.queryTexts !== undefined) {
    const texts = list(options.queryTexts, (v) => typeof v === 'string');
    if (!embedder) bad(`queryTexts needs an embedder; the collection ${JSON.stringify(name)} has none (pass { embedder } when getting it, or use queryEmbeddings)`);
    const queries = await embedder.embed(texts as string[]);
    if (dim !== undefined && dim !== embedder.dim) {
      fail(ErrorCode.DIMENSION_MISMATCH, `the embedder makes ${embedder.dim}-d vectors but the collection holds ${dim}-d ones`);
    }
    return { queries, nq: queries.length / embedder.dim };
  }
  const emb = options.queryEmbeddings as VectorsInput;
  if (dim !== undefined) {
    const queries = toVectors(emb, dim, 'queryEmbeddings');
    checkFinite(queries, dim, 'queryEmbeddings');
    return { queries, nq: queries.length / dim };
  }
  if (Array.isArray(emb)) {
    const rowDim = (emb[0] as ArrayLike<number> | undefined)?.length ?? 0;
    toVectors(emb, Math.max(1, rowDim), 'queryEmbeddings', true);
    return { nq: emb.length };
  }
  return bad(
    `query: the collection ${JSON.stringify(name)} holds no records yet, so its dimension is unknown and a flat Float32Array cannot be split into queries; pass queryEmbeddings as an array of vectors`,
  );
}

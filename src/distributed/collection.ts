/**
 * A collection of a distributed deployment, with the API of semvec's
 * collections (and so of semvec/chroma and `semvec serve` over it):
 * writes are PostgreSQL transactions (writes.ts) acknowledged at commit;
 * `query` goes through the router to the nodes; `get`, `count` and
 * `delete` read PostgreSQL, the system of record, with the filters
 * translated to SQL (filters.ts).
 *
 * Arguments are checked by the collection layer's own validators, so calls
 * are refused with the same codes and messages. Embeddings are required:
 * the distributed API embeds nothing itself (semvec/chroma's embedding
 * functions, or the caller, do).
 */
import type { Metadata } from '../collection/metadata.js';
import { checkIds, checkInclude, givenEmbeddings, metadataPatches, normalizeRecords, queryVectors, recordMetadata, bad, type RecordsInput, type UpdateInput } from '../collection/records-input.js';
import type { CollectionRecord, DeleteOptions, GetOptions, ModifyCollectionOptions, QueryMatch, QueryOptions } from '../collection/types.js';
import { createError, ErrorCode } from '../errors.js';
import { distanceAndScore } from '../scores.js';
import { checkInteger, describe } from '../validate.js';
import type { Metric } from '../vector-index.js';
import { floats } from './change-log.js';
import { whereDocumentSql, whereSql } from './filters.js';
import type { Pg } from './pg.js';
import type { Router } from './router.js';
import { deleteRecords, putRecords, updateRecords, type ChangeNotifier, type WriteReceipt } from './writes.js';

/** What a distributed collection knows of itself (a row of semvec.collections). */
export interface DistributedCollectionInfo {
  cid: number;
  name: string;
  metric: Metric;
  dim: number | null;
  metadata: Metadata | null;
}

/** What a write returns: per shard it changed, the last sequence number it took (pass to a query's `minSeq` elsewhere). */
export interface WriteResult {
  seqs: Record<number, number>;
}

/** A query's options, with the sequence numbers it must see (from writes through other routers). */
export interface DistributedQueryOptions extends QueryOptions {
  minSeq?: Record<number, number>;
}

/** @internal What a collection works through. */
export interface DistributedHost {
  db: Pg;
  router: Router;
  notifier: ChangeNotifier;
  modify(collection: DistributedCollection, changes: ModifyCollectionOptions): Promise<void>;
}

function result(r: WriteReceipt): WriteResult {
  return { seqs: Object.fromEntries(r.seqs) };
}

/** SQL conditions (after `cid = $1`) for ids and filters, with their parameters. */
function filterSql(options: { where?: unknown; whereDocument?: unknown }, params: unknown[]): string | undefined {
  const parts: string[] = [];
  if (options.where !== undefined) parts.push(whereSql(options.where, params));
  if (options.whereDocument !== undefined) parts.push(whereDocumentSql(options.whereDocument, params));
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}

export class DistributedCollection {
  #info: DistributedCollectionInfo;
  readonly #host: DistributedHost;
  #deleted = false;

  /** @internal Made by DistributedClient (the host is typed loosely so that the declarations stay free of node-postgres' types). */
  constructor(host: unknown, info: DistributedCollectionInfo) {
    this.#host = host as DistributedHost;
    this.#info = info;
  }

  get cid(): number {
    return this.#info.cid;
  }
  get name(): string {
    return this.#info.name;
  }
  get metric(): Metric {
    return this.#info.metric;
  }
  get dim(): number | undefined {
    return this.#info.dim ?? undefined;
  }
  get metadata(): Metadata | null {
    return this.#info.metadata;
  }

  /** @internal The client read the collection's row again, or changed it. */
  setInfo(info: DistributedCollectionInfo): void {
    this.#info = info;
  }

  /** @internal The collection was deleted. */
  invalidate(): void {
    this.#deleted = true;
  }

  #check(): void {
    if (this.#deleted) throw createError(ErrorCode.NOT_FOUND, `the collection ${JSON.stringify(this.name)} was deleted; get it again (or create it) to use it`);
  }

  /** The dimension, read again from PostgreSQL when not known yet (another router may have written first). */
  async #dim(): Promise<number | undefined> {
    if (this.#info.dim === null) {
      const [row] = await this.#host.db.query<{ dim: number | null }>('reading a collection', 'SELECT dim FROM semvec.collections WHERE cid = $1', [this.cid]);
      if (!row) throw createError(ErrorCode.NOT_FOUND, `the collection ${JSON.stringify(this.name)} was deleted`);
      this.#info = { ...this.#info, dim: row.dim };
    }
    return this.#info.dim ?? undefined;
  }

  #acknowledged(receipt: WriteReceipt): WriteResult {
    this.#host.router.noteWrite(receipt.seqs);
    this.#host.notifier.notify(receipt);
    return result(receipt);
  }

  async #put(input: RecordsInput, at: 'add' | 'upsert'): Promise<WriteResult> {
    this.#check();
    const { ids, documents, metadatas } = normalizeRecords(input, at);
    const meta = recordMetadata(ids, metadatas, at);
    if (input.embeddings === undefined) bad(`${at}: embeddings are required (the distributed API embeds nothing; give embeddings, or use semvec/chroma with an embedding function)`);
    const vectors = givenEmbeddings(input.embeddings, ids.length, await this.#dim(), at);
    const dim = vectors.length / ids.length;
    const receipt = await putRecords(this.#host.db, this.#host.router.shardCount, this.cid, this.name, { ids, vectors, dim, documents, metadatas: meta }, at === 'upsert');
    if (this.#info.dim === null) this.#info = { ...this.#info, dim };
    return this.#acknowledged(receipt);
  }

  /**
   * Adds records (ids must be new: ERR_DUPLICATE_ID, and nothing is added).
   * Acknowledged once PostgreSQL has committed it.
   *
   * @example
   * const { seqs } = await col.add({ ids: ['a'], embeddings: [[1, 0]], metadatas: [{ topic: 'x' }] });
   */
  async add(input: RecordsInput): Promise<WriteResult> {
    return this.#put(input, 'add');
  }

  /** Adds new records and replaces existing ones. */
  async upsert(input: RecordsInput): Promise<WriteResult> {
    return this.#put(input, 'upsert');
  }

  /** Updates existing records (ERR_NOT_FOUND if one is missing; nothing changes then); metadata is merged, null removes a key. */
  async update(input: UpdateInput): Promise<WriteResult> {
    this.#check();
    const { ids, documents, metadatas } = normalizeRecords(input, 'update');
    const patches = metadataPatches(ids, metadatas);
    let vectors: Float32Array | undefined;
    if (input.embeddings !== undefined) vectors = givenEmbeddings(input.embeddings, ids.length, await this.#dim(), 'update');
    else if (documents?.some((d) => d !== undefined)) bad('update: new documents need new embeddings (the distributed API embeds nothing); give embeddings with the documents');
    const dim = vectors ? vectors.length / ids.length : undefined;
    const receipt = await updateRecords(this.#host.db, this.#host.router.shardCount, this.cid, this.name, { ids, documents, patches, vectors, dim });
    return this.#acknowledged(receipt);
  }

  /** Deletes records by ids and/or filters; returns how many were deleted. */
  async delete(options: DeleteOptions): Promise<number> {
    this.#check();
    if (options === null || typeof options !== 'object') bad(`delete expects an object like { ids } or { where }; received ${describe(options)}`);
    const ids = options.ids === undefined ? undefined : checkIds(options.ids);
    if (ids === undefined && options.where === undefined && options.whereDocument === undefined) bad('delete needs ids, where or whereDocument; to remove everything, delete the collection');
    // $1 is the collection number: the filter's parameters follow it.
    const params: unknown[] = [this.cid];
    const sql = filterSql(options, params);
    if (ids !== undefined && ids.length === 0) return 0;
    const { deleted, receipt } = await deleteRecords(this.#host.db, this.#host.router.shardCount, this.cid, ids, sql, params.slice(1));
    if (deleted > 0) this.#acknowledged(receipt);
    return deleted;
  }

  /** Number of records (kept per shard by the writes). */
  async count(): Promise<number> {
    this.#check();
    const [row] = await this.#host.db.query<{ n: number }>('counting records', 'SELECT coalesce(sum(n), 0)::int8 AS n FROM semvec.counts WHERE cid = $1', [this.cid]);
    return row?.n ?? 0;
  }

  /** Records by ids (in the order given) and/or filters (in insertion order), with limit and offset, read from PostgreSQL. */
  async get(options: GetOptions = {}): Promise<CollectionRecord[]> {
    this.#check();
    if (options === null || typeof options !== 'object') bad(`get expects an object; received ${describe(options)}`);
    const include = checkInclude(options.include);
    const limit = options.limit === undefined ? undefined : checkInteger(options.limit, 'limit', 0, Number.MAX_SAFE_INTEGER);
    const offset = checkInteger(options.offset ?? 0, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const ids = options.ids === undefined ? undefined : checkIds(options.ids);
    const params: unknown[] = [this.cid];
    const conds = ['cid = $1'];
    const filters = filterSql(options, params);
    if (filters) conds.push(filters);
    if (ids !== undefined) {
      params.push(ids);
      conds.push(`id = ANY($${params.length}::text[])`);
    }
    const page = ids === undefined ? ` ORDER BY rowid OFFSET ${offset}${limit === undefined ? '' : ` LIMIT ${limit}`}` : '';
    const rows = await this.#host.db.query<{ id: string; document: string | null; metadata: Metadata | null; embedding?: Buffer }>(
      'reading records',
      `SELECT id, document, metadata${include.includes('embeddings') ? ', embedding' : ''} FROM semvec.records WHERE ${conds.join(' AND ')}${page}`,
      params,
    );
    let ordered = rows;
    if (ids !== undefined) {
      const byId = new Map(rows.map((r) => [r.id, r]));
      ordered = ids.map((id) => byId.get(id)).filter((r): r is (typeof rows)[number] => r !== undefined).slice(offset, limit === undefined ? undefined : offset + limit);
    }
    return ordered.map((r) => {
      const rec: CollectionRecord = { id: r.id };
      if (include.includes('documents')) rec.document = r.document;
      if (include.includes('metadatas')) rec.metadata = r.metadata;
      if (r.embedding) rec.embedding = floats(r.embedding);
      return rec;
    });
  }

  /** The first `limit` records (default 10). */
  async peek(limit = 10): Promise<CollectionRecord[]> {
    return this.get({ limit });
  }

  /**
   * Nearest records to each query, best first, over every shard, with
   * filters applied on the nodes before the top-k. Sees every write this
   * router acknowledged, and those of `minSeq` (receipts of other routers).
   *
   * @example
   * const [matches] = await col.query({ queryEmbeddings: [[1, 0]], nResults: 3, where: { topic: 'x' } });
   */
  async query(options: DistributedQueryOptions): Promise<QueryMatch[][]> {
    this.#check();
    if (options === null || typeof options !== 'object') bad(`query expects an object like { queryEmbeddings, nResults }; received ${describe(options)}`);
    // Shards keep no keyword index: refused, never ignored.
    if ((options.mode !== undefined && options.mode !== 'vector') || options.fusion !== undefined || options.candidates !== undefined || options.rerank !== undefined) {
      throw createError(ErrorCode.UNSUPPORTED, 'distributed collections rank by vectors only: keyword and hybrid modes (mode, fusion, candidates) and rerank are not supported; query a semvec collection directory for those');
    }
    const include = checkInclude(options.include);
    const nResults = checkInteger(options.nResults ?? 10, 'nResults', 1, 1_000_000);
    for (const key of ['minScore', 'maxDistance'] as const) {
      if (options[key] !== undefined && (typeof options[key] !== 'number' || Number.isNaN(options[key]))) bad(`${key} must be a number; received ${describe(options[key])}`);
    }
    const ids = options.ids === undefined ? undefined : checkIds(options.ids);
    filterSql(options, []); // validates the filters
    const minSeq = checkMinSeq(options.minSeq);
    const dim = await this.#dim();
    const q = await queryVectors(options, dim, undefined, this.name);
    if (!('queries' in q)) return Array.from({ length: q.nq }, () => []);
    const matches = await this.#host.router.search({
      cid: this.cid,
      metric: this.metric,
      queries: q.queries,
      nq: q.nq,
      k: nResults,
      filters: { ids, where: options.where, whereDocument: options.whereDocument },
      include: { metadatas: include.includes('metadatas'), documents: include.includes('documents') },
      minSeq,
    });
    const embeddings = include.includes('embeddings') ? await this.#embeddings(matches.flat().map((m) => m.id)) : undefined;
    return matches.map((list) => {
      const out: QueryMatch[] = [];
      for (const m of list) {
        const { distance, score } = distanceAndScore(this.metric, m.score);
        if (options.minScore !== undefined && score < options.minScore) continue;
        if (options.maxDistance !== undefined && distance > options.maxDistance) continue;
        const rec: QueryMatch = { id: m.id, distance, score };
        if (include.includes('documents')) rec.document = m.document ?? null;
        if (include.includes('metadatas')) rec.metadata = m.metadata ?? null;
        const e = embeddings?.get(m.id);
        if (e) rec.embedding = e;
        out.push(rec);
      }
      return out;
    });
  }

  async #embeddings(ids: string[]): Promise<Map<string, Float32Array>> {
    const rows = await this.#host.db.query<{ id: string; embedding: Buffer }>('reading embeddings', 'SELECT id, embedding FROM semvec.records WHERE cid = $1 AND id = ANY($2::text[])', [this.cid, [...new Set(ids)]]);
    return new Map(rows.map((r) => [r.id, floats(r.embedding)]));
  }

  /** Renames the collection and/or replaces its metadata. */
  async modify(changes: ModifyCollectionOptions): Promise<void> {
    this.#check();
    await this.#host.modify(this, changes);
  }
}

function checkMinSeq(minSeq: unknown): Map<number, number> | undefined {
  if (minSeq === undefined) return undefined;
  if (minSeq === null || typeof minSeq !== 'object') bad(`minSeq must be an object of shard: sequence number; received ${describe(minSeq)}`);
  const out = new Map<number, number>();
  for (const [k, v] of Object.entries(minSeq)) {
    const shard = Number(k);
    if (!Number.isInteger(shard) || shard < 0) bad(`minSeq: ${JSON.stringify(k)} is not a shard number`);
    out.set(shard, checkInteger(v, `minSeq[${k}]`, 0, Number.MAX_SAFE_INTEGER));
  }
  return out;
}

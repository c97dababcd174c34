/**
 * A collection: records with a string id, an optional document, optional
 * metadata and an embedding, searchable by similarity with filters. The
 * shape follows Chroma's; everything is typed and every call is all or
 * nothing.
 *
 * Writes take their turn in the client's write queue (call order), are
 * validated completely, committed by the writer (off the event loop), then
 * applied to the in-memory index and metadata columns.
 */
import type { Embedder } from '../embedder/embedder.js';
import { createError, ErrorCode, type SemvecWarning } from '../errors.js';
import type { FlatIndex } from '../flat-index.js';
import { IVFIndex } from '../ivf-index.js';
import { checkInteger, describe, toVectors, type VectorsInput } from '../validate.js';
import type { Metric, SearchResult } from '../vector-index.js';
import { CollectionIndex, type IndexKind, type IndexOwner } from './collection-index.js';
import { compileWhereDocument, evaluate, parseWhere, type Where, type WhereDocument } from './filter.js';
import type { Metadata } from './metadata.js';
import { MetadataColumns } from './metadata-columns.js';
import { SearchBatcher } from './search-batcher.js';
import {
  bad,
  checkFinite,
  checkIds,
  checkInclude,
  givenEmbeddings,
  list,
  metadataPatches,
  normalizeRecords,
  recordMetadata,
  type Include,
  type RecordsInput,
  type UpdateInput,
} from './records-input.js';
import type { CollectionStore, StoredRow } from './store.js';
import type { WriteQueue } from './writer.js';

export type { IndexKind } from './collection-index.js';
export { IVF_MIN_RECORDS } from './collection-index.js';
export type { Include, RecordsInput, UpdateInput } from './records-input.js';

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
  warn(warning: SemvecWarning): void;
  /** Renames a collection and/or replaces its metadata (the client keeps its handles by name). */
  modify(cid: number, changes: ModifyCollectionOptions): Promise<void>;
}

/** @internal What identifies the embeddings an embedder makes: model, dimension, pooling. */
export function embedderIdentity(embedder: Embedder): string {
  return JSON.stringify({ model: embedder.name, dim: embedder.dim, pooling: embedder.pooling });
}

/** Records selected by filters: how many, membership, and their row ids. */
interface Matching {
  count: number;
  has(rid: number): boolean;
  rids(): Float64Array;
}

function setMatching(rids: Float64Array): Matching {
  let set: Set<number> | undefined;
  return { count: rids.length, has: (rid) => (set ??= new Set(rids)).has(rid), rids: () => rids };
}

function intersect(a: Matching | undefined, b: Matching | undefined): Matching | undefined {
  if (!a || !b) return a ?? b;
  return setMatching(a.rids().filter((r) => b.has(r)));
}

export class Collection {
  readonly #host: CollectionHost;
  #info: CollectionInfo;
  readonly #index: CollectionIndex;
  #columns: MetadataColumns | undefined;
  #embedder: Embedder | undefined;
  #state: 'open' | 'deleted' | 'closed' = 'open';
  /** Unfiltered exact searches that arrive while one runs go together (search-batcher.ts). */
  readonly #batcher = new SearchBatcher(async (queries, k) => {
    const index = this.#index.native;
    // The index at the time the batch runs (an 'ivf' collection may have moved to IVF meanwhile).
    return index instanceof IVFIndex ? index.searchBatchAsync(queries, k) : (index as FlatIndex).searchBatchAsync(queries, k);
  });
  #count: number | undefined;

  /** @internal Made by Client. */
  constructor(host: CollectionHost, info: CollectionInfo, index: CollectionIndex | undefined, embedder: Embedder | undefined) {
    this.#host = host;
    this.#info = info;
    this.#index = index ?? CollectionIndex.empty(this.#owner());
    this.#embedder = embedder;
  }

  /** @internal What the index needs of its collection. */
  static owner(host: CollectionHost, info: CollectionInfo): IndexOwner {
    return { store: host.store, cid: info.cid, name: info.name, metric: info.metric, kind: info.index, snapshots: host.snapshots, warn: (w) => host.warn(w) };
  }

  #owner(): IndexOwner {
    return Collection.owner(this.#host, this.#info);
  }

  get name(): string {
    return this.#info.name;
  }
  get metric(): Metric {
    return this.#info.metric;
  }
  /** Embedding dimension, set by the embedder or the first add. */
  get dim(): number | undefined {
    return this.#info.dim;
  }
  get metadata(): Metadata | null {
    return this.#info.metadata;
  }
  /** The kind of index requested at creation. */
  get indexKind(): IndexKind {
    return this.#info.index;
  }
  /** The embedder used for documents and queryTexts, if any. */
  get embedder(): Embedder | undefined {
    return this.#embedder;
  }

  /** @internal The index (for checkpoints). */
  get index(): CollectionIndex {
    return this.#index;
  }

  /** @internal */
  get cid(): number {
    return this.#info.cid;
  }

  /** @internal The client deleted this collection or closed: the handle refuses work from now on. */
  invalidate(state: 'deleted' | 'closed'): void {
    this.#state = state;
  }

  #check(): void {
    if (this.#state === 'closed') throw createError(ErrorCode.CLOSED, `the client of collection ${JSON.stringify(this.name)} is closed`);
    if (this.#state === 'deleted') {
      throw createError(ErrorCode.NOT_FOUND, `the collection ${JSON.stringify(this.name)} was deleted; get it again (or create it) to use it`);
    }
  }

  /** @internal The client renamed the collection or replaced its metadata. */
  modified(changes: ModifyCollectionOptions): void {
    if (changes.name !== undefined) {
      this.#info = { ...this.#info, name: changes.name };
      this.#index.rename(changes.name);
    }
    if (changes.metadata !== undefined) this.#info = { ...this.#info, metadata: changes.metadata };
  }

  /**
   * Renames the collection and/or replaces its metadata, as
   * {@link Client.modifyCollection}; this handle follows the new name.
   *
   * @example
   * await col.modify({ name: 'articles-2024', metadata: { owner: 'search' } });
   */
  async modify(changes: ModifyCollectionOptions): Promise<void> {
    this.#check();
    await this.#host.modify(this.cid, changes);
  }

  /** @internal Sets the embedder given to getCollection (its identity was checked by the client). */
  setEmbedder(embedder: Embedder): void {
    this.#embedder = embedder;
  }

  // ---- writes ----

  /**
   * Runs a write in the client's write queue: `prepare` (validation,
   * embedding) runs at once; `commit` runs in its turn, after every earlier
   * write has been applied.
   */
  async #write<P, T>(prepare: () => Promise<P>, commit: (p: P) => Promise<T>): Promise<T> {
    this.#check();
    const turn = this.#host.queue.reserve();
    try {
      const prepared = await prepare();
      await turn.ready;
      this.#check();
      this.#count = undefined;
      return await commit(prepared);
    } finally {
      turn.release();
    }
  }

  async #vectorsFor(n: number, embeddings: VectorsInput | undefined, documents: readonly (string | null | undefined)[] | undefined, at: string): Promise<Float32Array> {
    if (embeddings !== undefined) return givenEmbeddings(embeddings, n, this.#info.dim, at);
    if (!this.#embedder) {
      bad(`${at}: embeddings are required because the collection ${JSON.stringify(this.name)} has no embedder (pass { embedder } when getting or creating it)`);
    }
    if (!documents || documents.some((d) => typeof d !== 'string')) bad(`${at}: give embeddings, or a document for every id to embed`);
    const x = await this.#embedder.embed(documents as string[]);
    checkFinite(x, this.#embedder.dim, 'the embedder\'s output');
    return x;
  }

  /** The dimension of n vectors, checked against the collection's. */
  #dimOf(vectors: Float32Array, n: number): number {
    const dim = vectors.length / n;
    if (this.#info.dim !== undefined && this.#info.dim !== dim) {
      throw createError(ErrorCode.DIMENSION_MISMATCH, `embeddings must have dim = ${this.#info.dim}; received ${dim}`);
    }
    return dim;
  }

  /** Applies committed puts to the index and the metadata columns. */
  async #applyPuts(dim: number, rids: number[], vectors: Float32Array | undefined, metadatas: (Metadata | null)[], replacing: boolean): Promise<void> {
    if (this.#info.dim === undefined) this.#info = { ...this.#info, dim };
    if (this.#columns) rids.forEach((r, i) => this.#columns!.set(r, metadatas[i]));
    if (vectors) await this.#index.put(dim, rids, vectors, replacing);
  }

  /**
   * Adds records. Ids must be new (ERR_DUPLICATE_ID otherwise); embeddings
   * are computed from documents by the embedder when not given. All or
   * nothing.
   *
   * @example
   * await col.add({ ids: ['a', 'b'], documents: ['first', 'second'], metadatas: [{ topic: 'x' }, { topic: 'y' }] });
   */
  async add(input: RecordsInput): Promise<void> {
    await this.#write(
      async () => {
        const { ids, documents, metadatas } = normalizeRecords(input, 'add');
        const meta = recordMetadata(ids, metadatas, 'add');
        const vectors = await this.#vectorsFor(ids.length, input.embeddings, documents, 'add');
        return { ids, documents, meta, vectors };
      },
      async ({ ids, documents, meta, vectors }) => {
        const dim = this.#dimOf(vectors, ids.length);
        const rids = await this.#host.store.insert(this.cid, this.name, dim, ids, documents, meta, vectors);
        await this.#applyPuts(dim, rids, vectors, meta, false);
      },
    );
  }

  /**
   * Adds new records and replaces existing ones (document, metadata and
   * embedding). Like add, it needs embeddings or documents for every id.
   */
  async upsert(input: RecordsInput): Promise<void> {
    await this.#write(
      async () => {
        const { ids, documents, metadatas } = normalizeRecords(input, 'upsert');
        const meta = recordMetadata(ids, metadatas, 'upsert');
        const vectors = await this.#vectorsFor(ids.length, input.embeddings, documents, 'upsert');
        return { ids, documents, meta, vectors };
      },
      async ({ ids, documents, meta, vectors }) => {
        const dim = this.#dimOf(vectors, ids.length);
        const rids = await this.#host.store.upsert(this.cid, this.name, dim, ids, documents, meta, vectors);
        await this.#applyPuts(dim, rids, vectors, meta, true);
      },
    );
  }

  /**
   * Updates existing records (ERR_NOT_FOUND if any id is missing; nothing
   * changes then). Metadata is merged (a key set to null is removed); a new
   * document without an embedding is re-embedded by the collection's
   * embedder, and refused when it has none (text and vector never disagree).
   */
  async update(input: UpdateInput): Promise<void> {
    await this.#write(
      async () => {
        const { ids, documents, metadatas } = normalizeRecords(input, 'update');
        const patches = metadataPatches(ids, metadatas);
        let vectors: Float32Array | undefined;
        if (input.embeddings !== undefined) {
          vectors = await this.#vectorsFor(ids.length, input.embeddings, documents, 'update');
        } else if (documents && documents.some((d) => d !== undefined)) {
          if (!this.#embedder) {
            bad(
              `update: new documents need new embeddings, and the collection ${JSON.stringify(this.name)} has no embedder to compute them; ` +
                'give embeddings with the documents, or pass { embedder } when getting the collection',
            );
          }
          if (documents.some((d) => typeof d !== 'string')) bad('update: to re-embed, every id needs a document (a string)');
          vectors = await this.#vectorsFor(ids.length, undefined, documents, 'update');
        }
        return { ids, documents, patches, vectors };
      },
      async ({ ids, documents, patches, vectors }) => {
        const dim = vectors ? this.#dimOf(vectors, ids.length) : this.#info.dim;
        const { rids, metadatas } = await this.#host.store.update(this.cid, this.name, dim, ids, documents, patches, vectors);
        await this.#applyPuts(dim as number, rids, vectors, metadatas, true);
      },
    );
  }

  /**
   * Deletes records by ids and/or filters (both: records matching both).
   * Returns how many were deleted; ids that do not exist are ignored.
   */
  async delete(options: DeleteOptions): Promise<number> {
    return this.#write(
      async () => {
        if (options === null || typeof options !== 'object') bad(`delete expects an object like { ids } or { where }; received ${describe(options)}`);
        const ids = options.ids === undefined ? undefined : checkIds(options.ids);
        if (ids === undefined && options.where === undefined && options.whereDocument === undefined) {
          bad('delete needs ids, where or whereDocument; to remove everything, delete the collection');
        }
        // Validate the filters now; they are evaluated in this write's turn.
        if (options.where !== undefined) parseWhere(options.where);
        if (options.whereDocument !== undefined) compileWhereDocument(options.whereDocument);
        return ids;
      },
      async (ids) => {
        const matching = await this.#matching(options, undefined, true);
        let rids = ids === undefined ? Array.from((matching as Matching).rids()) : this.#host.store.ridsOf(this.cid, ids).filter((r): r is number => r !== undefined);
        if (ids !== undefined && matching !== undefined) rids = rids.filter((r) => matching.has(r));
        if (rids.length === 0) return 0;
        const deleted = await this.#host.store.delete(this.cid, this.name, rids);
        await this.#index.removePresent(rids);
        if (this.#columns) for (const r of rids) this.#columns.delete(r);
        return deleted;
      },
    );
  }

  // ---- reads ----

  /**
   * The records matching the filters (and ids), or undefined when nothing
   * restricts them. `inTurn`: called from a write holding the queue.
   */
  async #matching(filters: Filters, ids: readonly string[] | undefined, inTurn = false): Promise<Matching | undefined> {
    const { where, whereDocument } = filters;
    let byIds: Matching | undefined;
    if (ids !== undefined) {
      byIds = setMatching(Float64Array.from(this.#host.store.ridsOf(this.cid, ids).filter((r): r is number => r !== undefined)));
    }
    let docs: Matching | undefined;
    if (whereDocument !== undefined) {
      const { sql, params } = compileWhereDocument(whereDocument);
      docs = setMatching(await this.#host.store.ridsWhere(this.cid, sql, params));
    }
    const restricted = intersect(byIds, docs);
    if (where === undefined) return restricted;
    const cond = parseWhere(where);
    const cols = await this.#metadataColumns(inTurn);
    const mask = evaluate(cond, cols);
    if (restricted !== undefined) return setMatching(restricted.rids().filter((r) => mask[cols.slotOf(r) ?? -1] === 1));
    let count = 0;
    for (let i = 0; i < mask.length; i++) count += mask[i]!;
    let rids: Float64Array | undefined;
    return { count, has: (rid) => mask[cols.slotOf(rid) ?? -1] === 1, rids: () => (rids ??= cols.select(mask)) };
  }

  /**
   * The metadata columns, read from the database on first use in a turn of
   * the write queue (so consistent with the writes applied).
   */
  async #metadataColumns(inTurn: boolean): Promise<MetadataColumns> {
    if (this.#columns) return this.#columns;
    const build = async () => {
      if (this.#columns) return this.#columns;
      const cols = new MetadataColumns();
      await this.#host.store.forEachMetadata(this.cid, (rid, m) => cols.set(rid, m));
      this.#columns = cols;
      return cols;
    };
    return inTurn ? build() : this.#host.queue.run(build);
  }

  #toRecord(row: StoredRow, include: readonly Include[]): CollectionRecord {
    const rec: CollectionRecord = { id: row.id };
    if (include.includes('documents')) rec.document = row.document;
    if (include.includes('metadatas')) rec.metadata = row.metadata;
    if (include.includes('embeddings') && row.embedding) rec.embedding = row.embedding;
    return rec;
  }

  /**
   * Records by ids (in the order given; missing ids are skipped) and/or
   * filters (in insertion order), with limit and offset.
   *
   * @example
   * const ml = await col.get({ where: { category: 'ml' }, limit: 5 });
   */
  async get(options: GetOptions = {}): Promise<CollectionRecord[]> {
    this.#check();
    if (options === null || typeof options !== 'object') bad(`get expects an object; received ${describe(options)}`);
    const include = checkInclude(options.include);
    const limit = options.limit === undefined ? Infinity : checkInteger(options.limit, 'limit', 0, Number.MAX_SAFE_INTEGER);
    const offset = checkInteger(options.offset ?? 0, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const ids = options.ids === undefined ? undefined : checkIds(options.ids);
    const store = this.#host.store;
    const withEmbeddings = include.includes('embeddings');
    let rids: number[];
    if (ids !== undefined) {
      const matching = await this.#matching(options, undefined);
      rids = store.ridsOf(this.cid, ids).filter((r): r is number => r !== undefined);
      if (matching) rids = rids.filter((r) => matching.has(r));
    } else {
      const matching = await this.#matching(options, undefined);
      if (!matching) return (await store.page(this.cid, limit, offset, withEmbeddings, this.#info.dim)).map((row) => this.#toRecord(row, include));
      rids = Array.from(matching.rids()).sort((a, b) => a - b);
    }
    rids = rids.slice(offset, limit === Infinity ? undefined : offset + limit);
    const rows = await store.rowsAsync(rids, withEmbeddings, this.#info.dim);
    return rids.filter((r) => rows.has(r)).map((r) => this.#toRecord(rows.get(r) as StoredRow, include));
  }

  /** Number of records. */
  async count(): Promise<number> {
    this.#check();
    this.#count ??= this.#host.store.count(this.cid);
    return this.#count;
  }

  /** The first `limit` records (default 10). */
  async peek(limit = 10): Promise<CollectionRecord[]> {
    return this.get({ limit });
  }

  /** Query vectors as one Float32Array of nq * dim, or undefined when there is nothing to search yet. */
  async #queries(options: QueryOptions): Promise<{ queries: Float32Array; nq: number } | { nq: number }> {
    if ((options.queryEmbeddings === undefined) === (options.queryTexts === undefined)) bad('query needs exactly one of queryEmbeddings and queryTexts');
    if (options.queryTexts !== undefined) {
      const texts = list(options.queryTexts, (v) => typeof v === 'string');
      if (!this.#embedder) bad(`queryTexts needs an embedder; the collection ${JSON.stringify(this.name)} has none (pass { embedder } when getting it, or use queryEmbeddings)`);
      const queries = await this.#embedder.embed(texts as string[]);
      if (this.#info.dim !== undefined && this.#info.dim !== this.#embedder.dim) {
        throw createError(ErrorCode.DIMENSION_MISMATCH, `the embedder makes ${this.#embedder.dim}-d vectors but the collection holds ${this.#info.dim}-d ones`);
      }
      return { queries, nq: queries.length / this.#embedder.dim };
    }
    const emb = options.queryEmbeddings as VectorsInput;
    const dim = this.#info.dim;
    if (dim !== undefined) {
      const queries = toVectors(emb, dim, 'queryEmbeddings');
      checkFinite(queries, dim, 'queryEmbeddings');
      return { queries, nq: queries.length / dim };
    }
    // Nothing stored yet: the dimension is unknown, and nothing can match.
    if (Array.isArray(emb)) {
      const rowDim = (emb[0] as ArrayLike<number> | undefined)?.length ?? 0;
      toVectors(emb, Math.max(1, rowDim), 'queryEmbeddings', true);
      return { nq: emb.length };
    }
    return bad(
      `query: the collection ${JSON.stringify(this.name)} holds no records yet, so its dimension is unknown and a flat Float32Array cannot be split into queries; pass queryEmbeddings as an array of vectors`,
    );
  }

  /**
   * Nearest records to each query, best first, with filters applied before
   * the top-k (so nResults matches come back whenever that many exist).
   *
   * @example
   * const [matches] = await col.query({ queryTexts: 'how do transformers work?', nResults: 3, where: { category: 'ml' } });
   */
  async query(options: QueryOptions): Promise<QueryMatch[][]> {
    this.#check();
    if (options === null || typeof options !== 'object') bad(`query expects an object like { queryTexts, nResults }; received ${describe(options)}`);
    const include = checkInclude(options.include);
    const nResults = checkInteger(options.nResults ?? 10, 'nResults', 1, 1_000_000);
    if (options.minScore !== undefined && (typeof options.minScore !== 'number' || Number.isNaN(options.minScore))) bad(`minScore must be a number; received ${describe(options.minScore)}`);
    if (options.maxDistance !== undefined && (typeof options.maxDistance !== 'number' || Number.isNaN(options.maxDistance))) bad(`maxDistance must be a number; received ${describe(options.maxDistance)}`);
    const ids = options.ids === undefined ? undefined : checkIds(options.ids);
    if (options.where !== undefined) parseWhere(options.where);
    if (options.whereDocument !== undefined) compileWhereDocument(options.whereDocument);
    const q = await this.#queries(options);
    const empty = () => Array.from({ length: q.nq }, () => [] as QueryMatch[]);
    const dim = this.#info.dim;
    if (!('queries' in q) || dim === undefined || this.#index.size === 0) return empty();
    const allow = await this.#matching(options, ids);
    if (allow !== undefined && allow.count === 0) return empty();
    const results = await this.#search(q.queries, nResults, allow, options.nprobe);
    const all = new Set<number>();
    for (const r of results) for (const id of r.ids) all.add(id);
    const rows = await this.#host.store.rowsAsync([...all], include.includes('embeddings'), dim);
    const metric = this.#info.metric;
    return results.map((r) => {
      const out: QueryMatch[] = [];
      r.ids.forEach((rid, j) => {
        const raw = r.scores[j] as number;
        const distance = metric === 'l2' ? raw : 1 - raw;
        const score = metric === 'l2' ? -raw : raw;
        if (options.minScore !== undefined && score < options.minScore) return;
        if (options.maxDistance !== undefined && distance > options.maxDistance) return;
        const row = rows.get(rid);
        if (row) out.push({ ...this.#toRecord(row, include), distance, score });
      });
      return out;
    });
  }

  /**
   * Top-k per query among `allow` (all records when undefined). A wide
   * filter (over a tenth of the records) first tries an unfiltered search
   * for more results and keeps the allowed ones: when at least k pass, they
   * are exactly the filtered top-k, without building a large allow-list
   * natively. Otherwise (and for narrow filters) the native search takes the
   * allow-list.
   */
  async #search(queries: Float32Array, k: number, allow: Matching | undefined, nprobe: number | undefined): Promise<SearchResult[]> {
    const index = this.#index.native as FlatIndex | IVFIndex;
    const size = this.#index.size;
    const run = (kk: number, allowIds?: Float64Array) =>
      index instanceof IVFIndex ? index.searchBatchAsync(queries, kk, { allowIds, nprobe }) : index.searchBatchAsync(queries, kk, { allowIds });
    if (allow === undefined && !(index instanceof IVFIndex)) return this.#batcher.search(queries, queries.length / index.dim, k);
    if (allow === undefined) return run(k);
    const selectivity = allow.count / size;
    if (selectivity > 0.1 && !(index instanceof IVFIndex)) {
      const wider = Math.min(size, Math.ceil((k * 2) / selectivity) + 16);
      const loose = await run(wider);
      const kept = loose.map((r) => {
        const keep: number[] = [];
        for (let j = 0; j < r.ids.length && keep.length < k; j++) if (allow.has(r.ids[j] as number)) keep.push(j);
        return { ids: Float64Array.from(keep, (j) => r.ids[j] as number), scores: Float32Array.from(keep, (j) => r.scores[j] as number) };
      });
      if (kept.every((r) => r.ids.length === Math.min(k, allow.count))) return kept;
    }
    return run(k, allow.rids());
  }
}

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
import { ingest, isRecordStream, type IngestOptions, type IngestRecord, type IngestResult } from './ingest.js';
import { createError, ErrorCode } from '../errors.js';
import { AUTO_IVF } from '../ivf-index.js';
import { distanceAndScore } from '../scores.js';
import { checkInteger, checkOneOf, describe, type VectorsInput } from '../validate.js';
import type { Metric } from '../vector-index.js';
import { CollectionIndex, type IndexOwner } from './collection-index.js';
import { compileWhereDocument, evaluate, parseWhere } from './filter.js';
import { checkFusion, fuse, type FusionSpec } from './fusion.js';
import { keywordPhrases, type Tokenizer } from './keyword-index.js';
import { intersect, setMatching, type Matching } from './matching.js';
import type { Metadata } from './metadata.js';
import { MetadataColumns } from './metadata-columns.js';
import {
  bad,
  checkFinite,
  checkIds,
  checkInclude,
  givenEmbeddings,
  metadataPatches,
  normalizeRecords,
  queryVectors,
  recordMetadata,
  type Include,
  type RecordsInput,
  type UpdateInput,
} from './records-input.js';
import { Op, type StoredRow } from './store.js';
import type {
  CollectionHost,
  CollectionInfo,
  CollectionRecord,
  DeleteOptions,
  Filters,
  GetOptions,
  IndexKind,
  MatchScores,
  ModifyCollectionOptions,
  QueryMatch,
  QueryMode,
  QueryOptions,
  RefreshOptions,
  RerankModel,
} from './types.js';

/** Records at which an 'ivf' collection moves from exact to IVF search (AUTO_IVF.minVectors). */
export const IVF_MIN_RECORDS = AUTO_IVF.minVectors;

/** The query modes, in the order messages list them. */
export const QUERY_MODES: readonly QueryMode[] = ['vector', 'keyword', 'hybrid'];

/** A ranked record on its way to a query's result. */
interface Hit {
  rid: number;
  score: number;
  distance: number;
  scores?: MatchScores;
}

/** The rerank option, checked. */
function checkRerank(value: unknown, queryTexts: unknown): { model: RerankModel; candidates: number } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(`rerank must be an object like { model: reranker, candidates: 50 }; received ${describe(value)}`);
  const r = value as Record<string, unknown>;
  const extra = Object.keys(r).find((k) => k !== 'model' && k !== 'candidates');
  if (extra !== undefined) bad(`rerank: unknown key ${JSON.stringify(extra)} (it takes model and candidates)`);
  const model = r.model as RerankModel | undefined;
  if (model === null || typeof model !== 'object' || typeof model.score !== 'function') bad(`rerank.model must be a Reranker (Reranker.load) or an object with a score(query, passages) method; received ${describe(model)}`);
  const candidates = checkInteger(r.candidates ?? 50, 'rerank.candidates', 1, 10_000);
  if (queryTexts === undefined) bad('rerank reads the query text with each document: give queryTexts (with queryEmbeddings if the vectors are your own)');
  return { model, candidates };
}

/**
 * Hits reordered by a reranker's scores of their documents, best first
 * (ties: the earlier hit first); hits without a document follow, in order.
 */
async function rerankHits(model: RerankModel, query: string, hits: Hit[], rows: Map<number, StoredRow>): Promise<Hit[]> {
  const withDoc = hits.filter((h) => typeof rows.get(h.rid)?.document === 'string' && (rows.get(h.rid)?.document as string).length > 0);
  const scored = new Set(withDoc);
  const without = hits.filter((h) => !scored.has(h));
  if (withDoc.length === 0) return hits;
  const passages = withDoc.map((h) => rows.get(h.rid)?.document as string);
  const scores = await model.score(query, passages);
  if (scores === null || typeof scores !== 'object' || scores.length !== passages.length) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `the reranker returned ${describe(scores)} for ${passages.length} passages; expected one score per passage`);
  }
  const ranked = withDoc.map((h, i) => {
    const score = Number(scores[i]);
    if (!Number.isFinite(score)) throw createError(ErrorCode.INVALID_ARGUMENT, `the reranker gave a score of ${scores[i]} for passage ${i}; scores must be finite numbers`);
    return { hit: h, score, at: i };
  });
  ranked.sort((a, b) => b.score - a.score || a.at - b.at);
  return [...ranked.map(({ hit, score }) => ({ rid: hit.rid, score, distance: -score, scores: { ...hit.scores, rerank: score } })), ...without];
}

/** queryTexts of a keyword or hybrid query: one string or a non-empty array of them. */
function checkQueryTexts(value: unknown, mode: QueryMode): readonly string[] {
  if (value === undefined) bad(`mode '${mode}' needs queryTexts (the words to look for)`);
  const texts = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
    bad(`queryTexts must be a string or a non-empty array of strings; received ${describe(value)}`);
  }
  return texts as string[];
}
export type { Include, RecordsInput, UpdateInput } from './records-input.js';
export type * from './types.js';

/** Candidates fetched per result asked for by a `distinct` query before fetching more. */
const DISTINCT_FETCH = 8;

/** @internal What identifies the embeddings an embedder makes: model, dimension, pooling. */
export function embedderIdentity(embedder: Embedder): string {
  return JSON.stringify({ model: embedder.name, dim: embedder.dim, pooling: embedder.pooling });
}

export class Collection {
  readonly #host: CollectionHost;
  #info: CollectionInfo;
  #index: CollectionIndex;
  #columns: MetadataColumns | undefined;
  #embedder: Embedder | undefined;
  #state: 'open' | 'deleted' | 'closed' = 'open';
  #count: number | undefined;
  /** When a read-only client last caught up (performance.now()). */
  #refreshed = performance.now();

  /** @internal Made by Client. */
  constructor(host: CollectionHost, info: CollectionInfo, index: CollectionIndex | undefined, embedder: Embedder | undefined) {
    this.#host = host;
    this.#info = info;
    this.#index = index ?? CollectionIndex.empty(this.#owner());
    this.#embedder = embedder;
  }

  /** @internal What the index needs of its collection. */
  static owner(host: CollectionHost, info: CollectionInfo): IndexOwner {
    return {
      store: host.store,
      readOnly: host.readOnly,
      cid: info.cid,
      name: info.name,
      metric: info.metric,
      kind: info.index,
      encoding: info.encoding,
      snapshots: host.snapshots,
      mapped: host.mapped,
      warn: (w) => host.warn(w),
    };
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
  /** How the collection's keyword index splits text (see CreateCollectionOptions.tokenizer). */
  get tokenizer(): Tokenizer {
    return this.#info.tokenizer;
  }
  /** The embedder used for documents and queryTexts, if any. */
  get embedder(): Embedder | undefined {
    return this.#embedder;
  }

  /**
   * The sequence number of the last change this collection reflects: after
   * a write, that write's; in a read-only client, how far it has caught up.
   * Hand a writer's `seq` to a reader's {@link Collection.refresh} to read your writes.
   */
  get seq(): number {
    return this.#index.seq;
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
    this.#index.close();
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
    if (this.#host.readOnly) {
      throw createError(ErrorCode.READ_ONLY, `the collection ${JSON.stringify(this.name)} belongs to a read-only client; write through the directory's writing client`);
    }
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
  async add(input: RecordsInput): Promise<void>;
  /**
   * Adds a stream of records ({ id, document, metadata, embedding? }, from an
   * iterable or an async iterable), embedded and written in bounded batches
   * with backpressure; `options.chunk` splits long documents. Batches commit
   * one by one (not all or nothing). See {@link IngestOptions}.
   *
   * @example
   * const r = await col.add(readRecords('corpus.jsonl'), { onProgress: (p) => console.log(p.records, p.tokensPerSecond) });
   */
  async add(records: Iterable<IngestRecord> | AsyncIterable<IngestRecord>, options?: IngestOptions): Promise<IngestResult>;
  async add(input: RecordsInput | Iterable<IngestRecord> | AsyncIterable<IngestRecord>, options?: IngestOptions): Promise<void | IngestResult> {
    if (isRecordStream(input)) return ingest(this, input, 'add', options);
    await this.#put(input, 'add');
  }

  /**
   * Adds new records and replaces existing ones (document, metadata and
   * embedding). Like add, it needs embeddings or documents for every id.
   */
  async upsert(input: RecordsInput): Promise<void>;
  /**
   * Upserts a stream of records, like the streaming `add`.
   * With `options.chunk`, a source's chunks are replaced together: chunks
   * a shorter new version no longer has are deleted.
   *
   * @example
   * await col.upsert(docs(), { chunk: { window: 256, overlap: 32 } });
   */
  async upsert(records: Iterable<IngestRecord> | AsyncIterable<IngestRecord>, options?: IngestOptions): Promise<IngestResult>;
  async upsert(input: RecordsInput | Iterable<IngestRecord> | AsyncIterable<IngestRecord>, options?: IngestOptions): Promise<void | IngestResult> {
    if (isRecordStream(input)) return ingest(this, input, 'upsert', options);
    await this.#put(input, 'upsert');
  }

  /** add (new ids only) or upsert (new or replaced). */
  async #put(input: RecordsInput, at: 'add' | 'upsert'): Promise<void> {
    await this.#write(
      async () => {
        const { ids, documents, metadatas } = normalizeRecords(input, at);
        const meta = recordMetadata(ids, metadatas, at);
        const vectors = await this.#vectorsFor(ids.length, input.embeddings, documents, at);
        return { ids, documents, meta, vectors };
      },
      async ({ ids, documents, meta, vectors }) => {
        const dim = this.#dimOf(vectors, ids.length);
        const { rids, seq } = await this.#host.store.put(at === 'upsert', this.cid, this.name, dim, ids, documents, meta, vectors);
        await this.#applyPuts(dim, rids, vectors, meta, at === 'upsert');
        this.#index.advance(seq);
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
        const { rids, metadatas, seq } = await this.#host.store.update(this.cid, this.name, dim, ids, documents, patches, vectors);
        await this.#applyPuts(dim as number, rids, vectors, metadatas, true);
        this.#index.advance(seq);
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
        const { deleted, seq } = await this.#host.store.delete(this.cid, this.name, rids);
        await this.#index.removePresent(rids);
        if (this.#columns) for (const r of rids) this.#columns.delete(r);
        this.#index.advance(seq);
        return deleted;
      },
    );
  }

  // ---- catching up (read-only clients) ----

  /**
   * Catches up with the changes the directory's writer has committed (a
   * read-only client; a writing client is always up to date). With
   * `atLeast`, waits until this collection reflects that sequence number.
   * Returns the sequence number reached.
   *
   * @example
   * const seq = writerCollection.seq;            // in the writing process, after its write
   * await readerCollection.refresh({ atLeast: seq }); // in a reading process
   */
  async refresh(options: RefreshOptions = {}): Promise<number> {
    this.#check();
    if (options === null || typeof options !== 'object') bad(`refresh options must be an object; received ${describe(options)}`);
    const atLeast = options.atLeast === undefined ? 0 : checkInteger(options.atLeast, 'atLeast', 0, Number.MAX_SAFE_INTEGER);
    const timeoutMs = checkInteger(options.timeoutMs === undefined ? 10_000 : options.timeoutMs, 'timeoutMs', 0, 2 ** 31 - 1);
    if (!this.#host.readOnly) return this.seq;
    const deadline = performance.now() + timeoutMs;
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      await this.#host.queue.run(() => this.#catchUp());
      if (this.seq >= atLeast) return this.seq;
      if (performance.now() >= deadline) {
        throw createError(ErrorCode.TIMEOUT, `collection ${JSON.stringify(this.name)} reached sequence number ${this.seq}, not ${atLeast}, within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(1, deadline - performance.now()))));
    }
  }

  /** Catches up when the last catch-up is older than refreshMs (read-only clients). */
  async #maybeRefresh(): Promise<void> {
    if (!this.#host.readOnly || this.#host.refreshMs === 0 || performance.now() - this.#refreshed < this.#host.refreshMs) return;
    await this.#host.queue.run(() => this.#catchUp());
  }

  /** In a turn of the queue: applies what the writer committed since this collection's seq. */
  async #catchUp(): Promise<void> {
    this.#check();
    this.#refreshed = performance.now();
    const row = this.#host.store.collectionById(this.cid);
    if (!row) {
      this.#state = 'deleted';
      this.#check();
      return;
    }
    if (row.dim === null) return;
    if (this.#info.dim === undefined) this.#info = { ...this.#info, dim: row.dim };
    this.#count = undefined;
    const changes = await this.#index.catchUp(row.dim);
    if (changes === 'reload') {
      const before = this.#index;
      this.#index = await CollectionIndex.open(this.#owner(), row.dim);
      before.close();
      this.#columns = undefined; // rebuilt on first use
      return;
    }
    const cols = this.#columns;
    if (!cols || changes.size === 0) return;
    const gone = [...changes].filter(([, op]) => op === Op.DELETE).map(([rid]) => rid);
    for (const rid of gone) cols.delete(rid);
    const touched = [...changes].filter(([, op]) => op !== Op.DELETE).map(([rid]) => rid);
    const rows = await this.#host.store.rowsAsync(touched, false, row.dim);
    for (const rid of touched) {
      const r = rows.get(rid);
      if (r) cols.set(rid, r.metadata);
      else cols.delete(rid);
    }
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
    await this.#maybeRefresh();
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
    await this.#maybeRefresh();
    this.#count ??= this.#host.store.count(this.cid);
    return this.#count;
  }

  /** The first `limit` records (default 10). */
  async peek(limit = 10): Promise<CollectionRecord[]> {
    return this.get({ limit });
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
    await this.#maybeRefresh();
    if (options === null || typeof options !== 'object') bad(`query expects an object like { queryTexts, nResults }; received ${describe(options)}`);
    const include = checkInclude(options.include);
    const nResults = checkInteger(options.nResults ?? 10, 'nResults', 1, 1_000_000);
    if (options.minScore !== undefined && (typeof options.minScore !== 'number' || Number.isNaN(options.minScore))) bad(`minScore must be a number; received ${describe(options.minScore)}`);
    if (options.maxDistance !== undefined && (typeof options.maxDistance !== 'number' || Number.isNaN(options.maxDistance))) bad(`maxDistance must be a number; received ${describe(options.maxDistance)}`);
    const mode = checkOneOf(options.mode ?? 'vector', 'mode', QUERY_MODES);
    if (mode !== 'hybrid') {
      if (options.fusion !== undefined) bad(`fusion applies to mode 'hybrid'; this query's mode is '${mode}'`);
      if (options.candidates !== undefined) bad(`candidates applies to mode 'hybrid'; this query's mode is '${mode}'`);
    }
    const fusion = mode === 'hybrid' ? checkFusion(options.fusion) : undefined;
    const candidates = options.candidates === undefined ? Math.max(nResults, 50) : checkInteger(options.candidates, 'candidates', 1, 1_000_000);
    const ids = options.ids === undefined ? undefined : checkIds(options.ids);
    if (options.where !== undefined) parseWhere(options.where);
    if (options.whereDocument !== undefined) compileWhereDocument(options.whereDocument);
    const rerank = options.rerank === undefined ? undefined : checkRerank(options.rerank, options.queryTexts);
    // How many matches the mode ranks: nResults, or the reranker's candidates.
    const depth = rerank ? Math.max(nResults, rerank.candidates) : nResults;

    // What each query asks: its text (keyword and hybrid) and/or its vector.
    let texts: readonly string[] | undefined;
    let q: { queries: Float32Array; nq: number } | { nq: number };
    if (mode === 'vector') {
      // With a reranker, queryTexts may come with queryEmbeddings: the texts are for the reranker.
      const given = rerank && options.queryEmbeddings !== undefined ? { queryEmbeddings: options.queryEmbeddings } : options;
      q = await queryVectors(given, this.#info.dim, this.#embedder, this.name);
      if (rerank && checkQueryTexts(options.queryTexts, mode).length !== q.nq) bad(`rerank: ${q.nq} queries but ${checkQueryTexts(options.queryTexts, mode).length} queryTexts; give one text per query`);
    } else {
      texts = checkQueryTexts(options.queryTexts, mode);
      if (mode === 'keyword') {
        if (options.queryEmbeddings !== undefined) bad("mode 'keyword' ranks by queryTexts alone; remove queryEmbeddings (or use mode 'hybrid')");
        q = { nq: texts.length };
      } else {
        if (options.queryEmbeddings === undefined && !this.#embedder) {
          bad(`mode 'hybrid' needs vectors for its queries: give queryEmbeddings (one per queryText), or an embedder for the collection ${JSON.stringify(this.name)}`);
        }
        q = await queryVectors(options.queryEmbeddings !== undefined ? { queryEmbeddings: options.queryEmbeddings } : { queryTexts: texts }, this.#info.dim, this.#embedder, this.name);
        if (q.nq !== texts.length) bad(`mode 'hybrid': queryEmbeddings holds ${q.nq} vectors for ${texts.length} queryTexts; give one per text`);
      }
    }
    const matches = texts?.map((t) => keywordPhrases(t, 'queryTexts'));
    const empty = () => Array.from({ length: q.nq }, () => [] as QueryMatch[]);
    const dim = this.#info.dim;
    const vectorSide = mode !== 'keyword' && 'queries' in q && dim !== undefined && this.#index.size > 0;
    if (mode === 'vector' && !vectorSide) return empty();
    const allow = await this.#matching(options, ids);
    if (allow !== undefined && allow.count === 0) return empty();
    const distinct = options.distinct;
    if (distinct !== undefined && (typeof distinct !== 'string' || distinct.length === 0)) {
      bad(`distinct must be a metadata key such as 'source_id'; received ${describe(distinct)}`);
    }

    const metric = this.#info.metric;
    const vectorHits = async (k: number): Promise<Hit[][]> => {
      if (!vectorSide) return Array.from({ length: q.nq }, () => []);
      const results = await this.#index.search((q as { queries: Float32Array }).queries, k, allow, options.nprobe);
      return results.map((r) => Array.from(r.ids, (rid, j): Hit => ({ rid, ...distanceAndScore(metric, r.scores[j] as number) })));
    };
    const keywordHits = (k: number): Hit[][] =>
      (matches as (string[] | undefined)[]).map((phrases) => {
        if (phrases === undefined) return [];
        const { rids, scores } = this.#host.store.keywordSearch(this.cid, phrases, k, allow);
        return rids.map((rid, j) => {
          const score = scores[j] as number;
          return { rid, score, distance: -score, scores: { keyword: score, keywordRank: j + 1 } };
        });
      });
    /** The best `k` of each query by the mode. */
    const rank = async (k: number): Promise<Hit[][]> => {
      if (mode === 'vector') {
        const hits = await vectorHits(k);
        if (rerank) for (const r of hits) r.forEach((h, i) => (h.scores = { vector: h.score, vectorRank: i + 1 }));
        return hits;
      }
      if (mode === 'keyword') return keywordHits(k);
      const vec = await vectorHits(Math.max(candidates, k));
      const kw = keywordHits(Math.max(candidates, k));
      return vec.map((v, i) => {
        const kwi = kw[i] as Hit[];
        const fused = fuse({ ids: v.map((h) => h.rid), scores: v.map((h) => h.score) }, { ids: kwi.map((h) => h.rid), scores: kwi.map((h) => h.score) }, fusion as FusionSpec);
        return fused.slice(0, k).map((f) => {
          const scores: MatchScores = { fused: f.score };
          if (f.vector) Object.assign(scores, { vector: f.vector.score, vectorRank: f.vector.rank });
          if (f.keyword) Object.assign(scores, { keyword: f.keyword.score, keywordRank: f.keyword.rank });
          return { rid: f.id, score: f.score, distance: -f.score, scores };
        });
      });
    };

    const size = allow?.count ?? this.#host.store.count(this.cid);
    if (size === 0) return empty();
    // With distinct: more candidates than asked for, more again while too few distinct values come back.
    for (let k = distinct === undefined ? depth : Math.min(size, depth * DISTINCT_FETCH); ; k = Math.min(size, k * 4)) {
      const hits = await rank(k);
      const all = new Set<number>();
      for (const r of hits) for (const h of r) all.add(h.rid);
      const rows = await this.#host.store.rowsAsync([...all], include.includes('embeddings'), dim);
      if (rerank) {
        const queryTexts = checkQueryTexts(options.queryTexts, mode);
        for (let qi = 0; qi < hits.length; qi++) hits[qi] = await rerankHits(rerank.model, queryTexts[qi] as string, hits[qi] as Hit[], rows);
      }
      let short = false;
      const out = hits.map((r) => {
        const found: QueryMatch[] = [];
        const seen = new Set<string>();
        for (const h of r) {
          if (found.length >= nResults) break;
          if (options.minScore !== undefined && h.score < options.minScore) continue;
          if (options.maxDistance !== undefined && h.distance > options.maxDistance) continue;
          const row = rows.get(h.rid);
          if (!row) continue;
          if (distinct !== undefined) {
            const v = row.metadata?.[distinct];
            const key = v === undefined || v === null ? `id:${row.id}` : `${typeof v}:${String(v)}`;
            if (seen.has(key)) continue;
            seen.add(key);
          }
          const match: QueryMatch = { ...this.#toRecord(row, include), distance: h.distance, score: h.score };
          if (h.scores) match.scores = h.scores;
          found.push(match);
        }
        if (distinct !== undefined && found.length < nResults && r.length >= k) short = true;
        return found;
      });
      if (!short || k >= size) return out;
    }
  }
}

/**
 * A collection: records with a string id, an optional document, optional
 * metadata and an embedding, searchable by similarity with filters. The
 * shape follows Chroma's; everything is typed and every call is all or
 * nothing.
 */
import type { Embedder } from '../embedder/embedder.js';
import { ErrorCode, ValidationError } from '../errors.js';
import { FlatIndex } from '../flat-index.js';
import { IVFIndex, suggestNlist } from '../ivf-index.js';
import { checkInteger, describe, fail, toVectors, type VectorsInput } from '../validate.js';
import type { Metric } from '../vector-index.js';
import type { CollectionStore, StoredRow } from './store.js';
import { checkMetadata, compileWhereDocument, evaluate, parseWhere, type Metadata, type Where, type WhereDocument } from './filter.js';
import { MetadataColumns } from './metadata-columns.js';

export type IndexKind = 'flat' | 'ivf';
export type Include = 'documents' | 'metadatas' | 'embeddings';

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

export interface CollectionInfo {
  cid: number;
  name: string;
  metric: Metric;
  dim: number | undefined;
  index: IndexKind;
  metadata: Metadata | null;
}

/** Records at which an 'ivf' collection moves from exact to IVF search. */
export const IVF_MIN_RECORDS = 10_000;

const DEFAULT_INCLUDE: readonly Include[] = ['documents', 'metadatas'];

function bad(message: string): never {
  return fail(ErrorCode.INVALID_ARGUMENT, message);
}

function list<T>(value: T | readonly T[] | undefined, isOne: (v: unknown) => boolean): readonly T[] | undefined {
  if (value === undefined) return undefined;
  return isOne(value) ? [value as T] : (value as readonly T[]);
}

function checkIds(ids: unknown, at = 'ids'): string[] {
  const arr = list(ids as string | string[], (v) => typeof v === 'string');
  if (!Array.isArray(arr)) bad(`${at} must be a string or an array of strings; received ${describe(ids)}`);
  const seen = new Set<string>();
  arr.forEach((id, i) => {
    if (typeof id !== 'string' || id.length === 0) bad(`${at}[${i}] must be a non-empty string; received ${describe(id)}`);
    if (seen.has(id)) throw new ValidationError(ErrorCode.DUPLICATE_ID, `id ${JSON.stringify(id)} appears more than once in ${at}`);
    seen.add(id);
  });
  return arr as string[];
}

function checkInclude(include: unknown): readonly Include[] {
  if (include === undefined) return DEFAULT_INCLUDE;
  if (!Array.isArray(include) || !include.every((x) => x === 'documents' || x === 'metadatas' || x === 'embeddings')) {
    bad(`include must be an array of 'documents', 'metadatas', 'embeddings'; received ${describe(include)}`);
  }
  return include as Include[];
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

export class Collection {
  readonly #store: CollectionStore;
  #info: CollectionInfo;
  #index: FlatIndex | IVFIndex | undefined;
  #columns: MetadataColumns | undefined;
  #embedder: Embedder | undefined;

  /** @internal Made by Client. */
  constructor(store: CollectionStore, info: CollectionInfo, index: FlatIndex | IVFIndex | undefined, embedder: Embedder | undefined) {
    this.#store = store;
    this.#info = info;
    this.#index = index;
    this.#embedder = embedder;
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

  /** @internal The native index (for snapshots). */
  get nativeIndex(): FlatIndex | IVFIndex | undefined {
    return this.#index;
  }

  /** @internal */
  get cid(): number {
    return this.#info.cid;
  }

  // ---- writes ----

  async #vectorsFor(n: number, embeddings: VectorsInput | undefined, documents: readonly (string | null | undefined)[] | undefined, at: string): Promise<Float32Array> {
    if (embeddings !== undefined) {
      const flatDim = embeddings instanceof Float32Array && n > 0 && embeddings.length % n === 0 ? embeddings.length / n : undefined;
      const dim = this.#info.dim ?? (Array.isArray(embeddings) ? (embeddings[0] as ArrayLike<number> | undefined)?.length : flatDim);
      if (dim === undefined) {
        bad(`${at}: the collection's dimension is not known yet; pass embeddings as an array of arrays (or create the collection with an embedder)`);
      }
      const x = toVectors(embeddings, dim, 'embeddings', true);
      if (x.length !== n * dim) {
        bad(`${at}: expected one embedding per id (${n}); received ${x.length / dim}`);
      }
      return x;
    }
    if (!this.#embedder) {
      bad(`${at}: embeddings are required because the collection ${JSON.stringify(this.name)} has no embedder (pass { embedder } when getting or creating it)`);
    }
    if (!documents || documents.some((d) => typeof d !== 'string')) {
      bad(`${at}: give embeddings, or a document for every id to embed`);
    }
    return this.#embedder.embed(documents as string[]);
  }

  #normalizeInput(input: RecordsInput | UpdateInput, at: string) {
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

  #setDim(dim: number): void {
    if (this.#info.dim === undefined) {
      this.#info = { ...this.#info, dim };
    } else if (this.#info.dim !== dim) {
      throw new ValidationError(ErrorCode.DIMENSION_MISMATCH, `embeddings must have dim = ${this.#info.dim}; received ${dim}`);
    }
  }

  #ensureIndex(): FlatIndex | IVFIndex {
    if (!this.#index) this.#index = new FlatIndex({ dim: this.#info.dim as number, metric: this.#info.metric });
    return this.#index;
  }

  /** Applies committed puts to the index and the metadata columns. */
  #applyPuts(rids: number[], vectors: Float32Array | undefined, metadatas: (Metadata | null)[]): void {
    const index = this.#ensureIndex();
    if (vectors) {
      const present = rids.filter((r) => index.has(r));
      if (present.length > 0) index.remove(present);
      index.add(vectors, rids);
    }
    if (this.#columns) rids.forEach((r, i) => this.#columns!.set(r, metadatas[i]));
    this.#maybeUseIvf();
  }

  /** 'ivf' collections move from exact search to IVF once they are large enough. */
  #maybeUseIvf(): void {
    if (this.#info.index !== 'ivf' || !(this.#index instanceof FlatIndex) || this.#index.size < IVF_MIN_RECORDS) return;
    const { rids, vectors } = this.#store.allEmbeddings(this.cid, this.#info.dim as number);
    const ivf = new IVFIndex({ dim: this.#info.dim as number, metric: this.#info.metric, nlist: suggestNlist(rids.length), nprobe: 16 });
    ivf.train(vectors);
    ivf.add(vectors, rids);
    this.#index = ivf;
  }

  /** @internal After loading: an 'ivf' collection rebuilt as exact moves to IVF. */
  async upgradeIndex(): Promise<void> {
    this.#maybeUseIvf();
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
    const { ids, documents, metadatas } = this.#normalizeInput(input, 'add');
    const meta = ids.map((_, i) => checkMetadata(metadatas?.[i], `add: metadatas[${i}]`));
    const vectors = await this.#vectorsFor(ids.length, input.embeddings, documents, 'add');
    const dim = vectors.length / ids.length;
    const dimBefore = this.#info.dim;
    this.#setDim(dim);
    let rids: number[];
    try {
      rids = this.#store.insert(this.cid, dim, ids, documents, meta, vectors);
    } catch (err) {
      if (dimBefore === undefined) this.#info = { ...this.#info, dim: undefined };
      throw err;
    }
    this.#applyPuts(rids, vectors, meta);
  }

  /**
   * Adds new records and replaces existing ones (document, metadata and
   * embedding). Like add, it needs embeddings or documents for every id.
   */
  async upsert(input: RecordsInput): Promise<void> {
    const { ids, documents, metadatas } = this.#normalizeInput(input, 'upsert');
    const meta = ids.map((_, i) => checkMetadata(metadatas?.[i], `upsert: metadatas[${i}]`));
    const vectors = await this.#vectorsFor(ids.length, input.embeddings, documents, 'upsert');
    const dim = vectors.length / ids.length;
    const dimBefore = this.#info.dim;
    this.#setDim(dim);
    let rids: number[];
    try {
      rids = this.#store.upsert(this.cid, dim, ids, documents, meta, vectors);
    } catch (err) {
      if (dimBefore === undefined) this.#info = { ...this.#info, dim: undefined };
      throw err;
    }
    this.#applyPuts(rids, vectors, meta);
  }

  /**
   * Updates existing records (ERR_NOT_FOUND if any id is missing; nothing
   * changes then). Metadata is merged (a key set to null is removed); a new
   * document without an embedding is re-embedded.
   */
  async update(input: UpdateInput): Promise<void> {
    const { ids, documents, metadatas } = this.#normalizeInput(input, 'update');
    const patches = ids.map((_, i) => {
      const m = metadatas?.[i] as Record<string, unknown> | null | undefined;
      if (m === null || m === undefined) return undefined;
      const without: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(m)) if (v !== null) without[k] = v;
      checkMetadata(without, `update: metadatas[${i}]`);
      return m as Record<string, Metadata[string] | null>;
    });
    let vectors: Float32Array | undefined;
    if (input.embeddings !== undefined || (documents && this.#embedder)) {
      vectors = await this.#vectorsFor(ids.length, input.embeddings, documents, 'update');
      this.#setDim(vectors.length / ids.length);
    }
    const { rids, metadatas: merged } = this.#store.update(this.cid, this.#info.dim, ids, documents, patches, vectors);
    this.#applyPuts(rids, vectors, merged);
  }

  /** The records matching the filters, or undefined when there are none. */
  #matching(filters: Filters, at: string): Matching | undefined {
    const { where, whereDocument } = filters;
    if (where === undefined && whereDocument === undefined) return undefined;
    let docs: Float64Array | undefined;
    if (whereDocument !== undefined) {
      const { sql, params } = compileWhereDocument(whereDocument, [], `${at}: whereDocument`);
      docs = this.#store.ridsWhere(this.cid, sql, params);
    }
    if (where === undefined) return setMatching(docs as Float64Array);
    const cols = this.#metadataColumns();
    const mask = evaluate(parseWhere(where), cols);
    if (docs !== undefined) return setMatching(docs.filter((r) => mask[cols.slotOf(r) as number] === 1));
    let count = 0;
    for (let i = 0; i < mask.length; i++) count += mask[i]!;
    let rids: Float64Array | undefined;
    return {
      count,
      has: (rid) => mask[cols.slotOf(rid) ?? -1] === 1,
      rids: () => (rids ??= cols.select(mask)),
    };
  }

  #metadataColumns(): MetadataColumns {
    if (!this.#columns) {
      const cols = new MetadataColumns();
      this.#store.forEachMetadata(this.cid, (rid, m) => cols.set(rid, m));
      this.#columns = cols;
    }
    return this.#columns;
  }

  /**
   * Deletes records by ids and/or filters (both: records matching both).
   * Returns how many were deleted; ids that do not exist are ignored.
   */
  async delete(options: DeleteOptions): Promise<number> {
    if (options === null || typeof options !== 'object') bad(`delete expects an object like { ids } or { where }; received ${describe(options)}`);
    const ids = options.ids === undefined ? undefined : checkIds(options.ids);
    const matching = this.#matching(options, 'delete');
    if (ids === undefined && matching === undefined) bad('delete needs ids, where or whereDocument; to remove everything, delete the collection');
    let rids = ids === undefined ? Array.from((matching as Matching).rids()) : this.#store.ridsOf(this.cid, ids).filter((r): r is number => r !== undefined);
    if (ids !== undefined && matching !== undefined) rids = rids.filter((r) => matching.has(r));
    if (rids.length === 0) return 0;
    this.#store.delete(this.cid, rids);
    const index = this.#index;
    if (index) {
      const present = rids.filter((r) => index.has(r));
      if (present.length > 0) index.remove(present);
    }
    if (this.#columns) for (const r of rids) this.#columns.delete(r);
    return rids.length;
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
    if (options === null || typeof options !== 'object') bad(`get expects an object; received ${describe(options)}`);
    const include = checkInclude(options.include);
    const limit = options.limit === undefined ? Infinity : checkInteger(options.limit, 'limit', 0, Number.MAX_SAFE_INTEGER);
    const offset = checkInteger(options.offset ?? 0, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const ids = options.ids === undefined ? undefined : checkIds(options.ids);
    const matching = this.#matching(options, 'get');
    let rids: number[];
    if (ids !== undefined) {
      rids = this.#store.ridsOf(this.cid, ids).filter((r): r is number => r !== undefined);
      if (matching) rids = rids.filter((r) => matching.has(r));
    } else if (matching) {
      rids = Array.from(matching.rids()).sort((a, b) => a - b);
    } else {
      return this.#store
        .page(this.cid, limit, offset, include.includes('embeddings'), this.#info.dim)
        .map((row) => this.#toRecord(row, include));
    }
    rids = rids.slice(offset, limit === Infinity ? undefined : offset + limit);
    const rows = this.#store.rows(rids, include.includes('embeddings'), this.#info.dim);
    return rids.map((r) => this.#toRecord(rows.get(r) as StoredRow, include));
  }

  /** Number of records. */
  async count(): Promise<number> {
    return this.#store.count(this.cid);
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
    if (options === null || typeof options !== 'object') bad(`query expects an object like { queryTexts, nResults }; received ${describe(options)}`);
    const include = checkInclude(options.include);
    const nResults = checkInteger(options.nResults ?? 10, 'nResults', 1, 1_000_000);
    if (options.minScore !== undefined && (typeof options.minScore !== 'number' || Number.isNaN(options.minScore))) bad(`minScore must be a number; received ${describe(options.minScore)}`);
    if (options.maxDistance !== undefined && (typeof options.maxDistance !== 'number' || Number.isNaN(options.maxDistance))) bad(`maxDistance must be a number; received ${describe(options.maxDistance)}`);
    if ((options.queryEmbeddings === undefined) === (options.queryTexts === undefined)) {
      bad('query needs exactly one of queryEmbeddings and queryTexts');
    }
    let queries: Float32Array;
    if (options.queryTexts !== undefined) {
      const texts = list(options.queryTexts, (v) => typeof v === 'string');
      if (!this.#embedder) bad(`queryTexts needs an embedder; the collection ${JSON.stringify(this.name)} has none (pass { embedder } when getting it, or use queryEmbeddings)`);
      queries = await this.#embedder.embed(texts as string[]);
      this.#setDimForQuery(this.#embedder.dim);
    } else {
      const emb = options.queryEmbeddings as VectorsInput;
      const dim = this.#info.dim ?? (Array.isArray(emb) ? (emb[0] as ArrayLike<number> | undefined)?.length : undefined);
      if (dim === undefined) return [];
      queries = toVectors(emb, dim, 'queryEmbeddings');
    }
    const dim = this.#info.dim;
    if (dim === undefined || !this.#index || this.#index.size === 0) return Array.from({ length: queries.length / (dim ?? 1) }, () => []);
    const allow = this.#matching(options, 'query');
    const nq = queries.length / dim;
    if (allow !== undefined && allow.count === 0) return Array.from({ length: nq }, () => []);
    const results = await this.#search(queries, nResults, allow, options.nprobe);
    const all = new Set<number>();
    for (const r of results) for (const id of r.ids) all.add(id);
    const rows = this.#store.rows([...all], include.includes('embeddings'), dim);
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
  async #search(queries: Float32Array, k: number, allow: Matching | undefined, nprobe: number | undefined) {
    const index = this.#index as FlatIndex | IVFIndex;
    const run = (kk: number, allowIds?: Float64Array) =>
      index instanceof IVFIndex ? index.searchBatchAsync(queries, kk, { allowIds, nprobe }) : index.searchBatchAsync(queries, kk, { allowIds });
    if (allow === undefined) return run(k);
    const selectivity = allow.count / index.size;
    if (selectivity > 0.1 && index instanceof FlatIndex) {
      const wider = Math.min(index.size, Math.ceil((k * 2) / selectivity) + 16);
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

  #setDimForQuery(dim: number): void {
    if (this.#info.dim !== undefined && this.#info.dim !== dim) {
      throw new ValidationError(ErrorCode.DIMENSION_MISMATCH, `the embedder makes ${dim}-d vectors but the collection holds ${this.#info.dim}-d ones`);
    }
  }

  /** @internal Sets the embedder given to getCollection. */
  setEmbedder(embedder: Embedder): void {
    this.#embedder = embedder;
  }
}


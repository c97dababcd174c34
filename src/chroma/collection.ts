/**
 * A collection with the `chromadb` JS client's API (3.x), over a semvec
 * {@link CoreCollection}: object arguments, columnar results with `rows()`,
 * Chroma's `include` values, `modify`, `count`, `peek`. Documents without
 * embeddings are embedded by the collection's embedding function.
 */
import { QUERY_MODES, type CollectionRecord, type QueryMatch } from '../collection/collection.js';
import type { Fusion } from '../collection/fusion.js';
import type { QueryMode, RerankQueryOptions } from '../collection/types.js';
import type { CollectionApi as CoreCollection } from './backend.js';
import type { Include as CoreInclude, RecordsInput } from '../collection/records-input.js';
import type { Where as CoreWhere, WhereDocument as CoreWhereDocument } from '../collection/filter.js';
import { describe } from '../validate.js';
import type { VectorsInput } from '../validate.js';
import {
  checkBatch,
  checkInclude,
  checkWhere,
  checkWhereDocument,
  collectionMetadata,
  noUris,
  options,
  recordMetadatas,
} from './arguments.js';
import { SemvecEmbeddingFunction, type EmbeddingFunction } from './embedding-function.js';
import { chroma, invalid, unsupported } from './errors.js';
import { collectionId } from './ids.js';
import { GetResult, QueryResult } from './results.js';
import {
  DEFAULT_DATABASE,
  DEFAULT_TENANT,
  type CollectionConfiguration,
  type CollectionMetadata,
  type DeleteResult,
  type Include,
  type Metadata,
  type ReadLevel,
  type Where,
  type WhereDocument,
} from './types.js';

export interface RecordsArgs {
  ids: string[];
  embeddings?: number[][];
  metadatas?: Metadata[];
  documents?: string[];
  uris?: string[];
}

export interface GetArgs {
  ids?: string[];
  where?: Where;
  limit?: number;
  offset?: number;
  whereDocument?: WhereDocument;
  include?: Include[];
}

export interface QueryArgs {
  queryEmbeddings?: number[][];
  queryTexts?: string[];
  queryURIs?: string[];
  ids?: string[];
  nResults?: number;
  where?: Where;
  whereDocument?: WhereDocument;
  include?: Include[];
  /**
   * semvec's addition: 'vector' (default, Chroma's query), 'keyword' (BM25
   * over the documents, from queryTexts alone) or 'hybrid' (both, fused).
   * With a mode or a rerank, the result carries each match's `scores`.
   */
  mode?: QueryMode;
  /** semvec's addition: how hybrid mode merges its two rankings; default `{ method: 'rrf', k: 60 }`. */
  fusion?: Fusion;
  /** semvec's addition: hybrid mode's candidates from each side; default max(nResults, 50). */
  candidates?: number;
  /** semvec's addition: reorder the best `candidates` of the mode with a cross-encoder (a Reranker); needs queryTexts. */
  rerank?: RerankQueryOptions;
}

export interface DeleteArgs {
  ids?: string[];
  where?: Where;
  whereDocument?: WhereDocument;
  limit?: number;
}

export interface ModifyArgs {
  name?: string;
  metadata?: CollectionMetadata;
  configuration?: { embeddingFunction?: EmbeddingFunction; hnsw?: Record<string, unknown>; spann?: Record<string, unknown> };
}

const RECORD_KEYS = ['ids', 'embeddings', 'metadatas', 'documents', 'uris'];
const GET_KEYS = ['ids', 'where', 'limit', 'offset', 'whereDocument', 'include'];
const QUERY_KEYS = ['queryEmbeddings', 'queryTexts', 'queryURIs', 'ids', 'nResults', 'where', 'whereDocument', 'include', 'mode', 'fusion', 'candidates', 'rerank'];
const DELETE_KEYS = ['ids', 'where', 'whereDocument', 'limit'];
const GET_DEFAULT: Include[] = ['documents', 'metadatas'];
const QUERY_DEFAULT: Include[] = ['metadatas', 'documents', 'distances'];

function coreInclude(include: readonly Include[]): CoreInclude[] {
  return include.filter((i): i is CoreInclude => i === 'documents' || i === 'metadatas' || i === 'embeddings');
}

/** Chroma's ReadLevel values; semvec reads every acknowledged write at any of them. */
const READ_LEVELS = ['index_and_wal', 'index_only', 'index_and_bounded_wal'];

export class Collection {
  readonly #core: CoreCollection;
  #embeddingFunction: EmbeddingFunction | undefined;
  readonly tenant: string = DEFAULT_TENANT;
  readonly database: string = DEFAULT_DATABASE;

  /** @internal Made by ChromaClient. */
  constructor(core: CoreCollection, embeddingFunction: EmbeddingFunction | undefined) {
    this.#core = core;
    this.#embeddingFunction = embeddingFunction;
  }

  /** The collection's UUID (see ids.ts): stable for its lifetime, never reused. */
  get id(): string {
    return collectionId(this.#core.cid);
  }
  get name(): string {
    return this.#core.name;
  }
  /** The collection's metadata (undefined when it has none, as in Chroma). */
  get metadata(): CollectionMetadata | undefined {
    return this.#core.metadata ?? undefined;
  }
  /** The space (semvec's metric) and the embedding function, in Chroma's shape. */
  get configuration(): CollectionConfiguration {
    const ef = this.#embeddingFunction;
    return {
      hnsw: { space: this.#core.metric },
      embeddingFunction: ef ? { type: 'known', name: ef.name ?? 'unknown', config: ef.getConfig?.() ?? {} } : null,
    };
  }
  get embeddingFunction(): EmbeddingFunction | undefined {
    return this.#embeddingFunction;
  }
  /** The semvec collection underneath (its metric, dimension, index kind, and semvec's own API). */
  get collection(): CoreCollection {
    return this.#core;
  }

  async #embed(texts: string[], forQueries: boolean, call: string): Promise<VectorsInput> {
    const ef = this.#embeddingFunction;
    if (!ef) {
      invalid(`${call}: no embedding function for the collection ${JSON.stringify(this.name)}; give embeddings, or pass embeddingFunction when getting or creating it`);
    }
    if (ef instanceof SemvecEmbeddingFunction) return (await ef.embed(texts)).vectors;
    const out = forQueries && ef.generateForQueries ? await ef.generateForQueries(texts) : await ef.generate(texts);
    if (!Array.isArray(out) || out.length !== texts.length) {
      invalid(`${call}: the embedding function returned ${Array.isArray(out) ? out.length : describe(out)} embeddings for ${texts.length} texts`);
    }
    return out;
  }

  /** The core input of add / upsert / update. */
  async #records(args: RecordsArgs, call: string, update: boolean) {
    const a = options(args, call, RECORD_KEYS, true);
    noUris(a.uris, call);
    checkBatch(a.ids, call);
    if (!update && a.embeddings === undefined && a.documents === undefined) invalid(`${call}: at least one of 'embeddings' and 'documents' must be provided`);
    const metadatas = recordMetadatas(a.metadatas, call);
    let embeddings: VectorsInput | undefined = a.embeddings;
    if (embeddings === undefined && a.documents !== undefined && (!update || a.documents.length > 0)) {
      if (!Array.isArray(a.documents) || !Array.isArray(a.ids) || a.documents.length !== a.ids.length) {
        invalid(`${call}: documents must have one entry per id; received ${describe(a.documents)}`);
      }
      embeddings = await this.#embed(a.documents, false, call);
    }
    return { ids: a.ids as string[], embeddings, documents: a.documents, metadatas: metadatas as RecordsInput['metadatas'] };
  }

  /**
   * Number of records. `readLevel` is accepted for compatibility: every
   * acknowledged write is visible at any level.
   */
  async count(options_?: { readLevel?: ReadLevel }): Promise<number> {
    const o = options(options_, 'count', ['readLevel']);
    if (o.readLevel !== undefined && !READ_LEVELS.includes(o.readLevel)) invalid(`count: readLevel must be one of ${READ_LEVELS.join(', ')}; received ${describe(o.readLevel)}`);
    return chroma(() => this.#core.count());
  }

  /**
   * Adds records; ids must be new (a ChromaUniqueError otherwise, and
   * nothing is added: Chroma ignores such records instead).
   *
   * @example
   * await col.add({ ids: ['a'], embeddings: [[1, 0, 0]], metadatas: [{ topic: 'x' }], documents: ['first'] });
   */
  async add(args: RecordsArgs): Promise<void> {
    await chroma(async () => this.#core.add(await this.#records(args, 'add', false)));
  }

  /** Adds new records and replaces existing ones (document, metadata and embedding). */
  async upsert(args: RecordsArgs): Promise<void> {
    await chroma(async () => this.#core.upsert(await this.#records(args, 'upsert', false)));
  }

  /**
   * Updates existing records (a ChromaNotFoundError if one is missing, and
   * nothing changes). Metadata is merged; a key set to null is removed. New
   * documents without embeddings are embedded by the embedding function.
   */
  async update(args: RecordsArgs): Promise<void> {
    await chroma(async () => this.#core.update(await this.#records(args, 'update', true)));
  }

  /**
   * Records by ids and/or filters, with limit and offset.
   *
   * @example
   * const { ids, metadatas } = await col.get({ where: { topic: 'x' }, limit: 10 });
   */
  async get<TMeta extends Metadata = Metadata>(args?: GetArgs): Promise<GetResult<TMeta>> {
    const a = options(args, 'get', GET_KEYS);
    const include = checkInclude(a.include, 'get', false) ?? GET_DEFAULT;
    checkWhere(a.where);
    checkWhereDocument(a.whereDocument);
    const records = await chroma(() =>
      this.#core.get({
        ids: a.ids,
        where: a.where as CoreWhere | undefined,
        whereDocument: a.whereDocument as CoreWhereDocument | undefined,
        limit: a.limit,
        offset: a.offset,
        include: coreInclude(include),
      }),
    );
    return getResult<TMeta>(records, include);
  }

  /** The first `limit` records (default 10). */
  async peek(args?: { limit?: number }): Promise<GetResult> {
    return this.get({ limit: options(args, 'peek', ['limit']).limit ?? 10 });
  }

  /**
   * Nearest records to each query embedding (or query text, embedded by the
   * embedding function), nearest first, with filters applied before the
   * top-k.
   *
   * @example
   * const { ids, distances } = await col.query({ queryEmbeddings: [[1, 0, 0]], nResults: 5, where: { topic: 'x' } });
   */
  async query<TMeta extends Metadata = Metadata>(args: QueryArgs): Promise<QueryResult<TMeta>> {
    const a = options(args, 'query', QUERY_KEYS, true);
    const include = checkInclude(a.include, 'query', true) ?? QUERY_DEFAULT;
    noUris(a.queryURIs, 'query');
    checkWhere(a.where);
    checkWhereDocument(a.whereDocument);
    if (a.nResults !== undefined && (typeof a.nResults !== 'number' || !(a.nResults > 0))) invalid(`query: nResults must be a positive integer; received ${describe(a.nResults)}`);
    if (a.queryEmbeddings === undefined && a.queryTexts === undefined) invalid("query: at least one of 'queryEmbeddings' and 'queryTexts' must be provided");
    if (a.mode !== undefined && !QUERY_MODES.includes(a.mode)) invalid(`query: mode must be one of ${QUERY_MODES.map((m) => `'${m}'`).join(', ')}; received ${describe(a.mode)}`);
    const mode = a.mode ?? 'vector';
    const matches = await chroma(async () => {
      let queryEmbeddings: VectorsInput | undefined = a.queryEmbeddings;
      // Keyword mode reads the texts alone; the other modes embed them when no vectors are given.
      if (queryEmbeddings === undefined && mode !== 'keyword') {
        if (!Array.isArray(a.queryTexts) || a.queryTexts.some((t) => typeof t !== 'string')) invalid(`query: queryTexts must be an array of strings; received ${describe(a.queryTexts)}`);
        queryEmbeddings = await this.#embed(a.queryTexts, true, 'query');
        if (queryEmbeddings instanceof Float32Array && this.#core.dim === undefined) {
          const n = a.queryTexts.length;
          const dim = queryEmbeddings.length / n;
          const flat = queryEmbeddings;
          queryEmbeddings = Array.from({ length: n }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
        }
      }
      // The texts go along for the keyword side and the reranker.
      const withTexts = mode !== 'vector' || a.rerank !== undefined;
      return this.#core.query({
        queryEmbeddings,
        ...(withTexts && a.queryTexts !== undefined ? { queryTexts: a.queryTexts } : {}),
        ids: a.ids,
        nResults: a.nResults,
        where: a.where as CoreWhere | undefined,
        whereDocument: a.whereDocument as CoreWhereDocument | undefined,
        include: coreInclude(include),
        ...(a.mode !== undefined ? { mode: a.mode } : {}),
        ...(a.fusion !== undefined ? { fusion: a.fusion } : {}),
        ...(a.candidates !== undefined ? { candidates: a.candidates } : {}),
        ...(a.rerank !== undefined ? { rerank: a.rerank } : {}),
      });
    });
    return queryResult<TMeta>(matches, include, a.mode !== undefined || a.rerank !== undefined);
  }

  /**
   * Renames the collection and/or replaces its metadata. The change is made
   * before this handle shows it (Chroma's client updates its handle first,
   * even when the server then refuses).
   */
  async modify(args: ModifyArgs): Promise<void> {
    const a = options(args, 'modify', ['name', 'metadata', 'configuration'], true);
    let ef: EmbeddingFunction | undefined;
    if (a.configuration !== undefined) {
      const c = options(a.configuration, 'modify: configuration', ['embeddingFunction', 'hnsw', 'spann'], true);
      for (const kind of ['hnsw', 'spann'] as const) {
        const tuning = c[kind];
        if (tuning && Object.values(tuning).some((v) => v !== undefined && v !== null)) {
          unsupported(`configuration.${kind}`, `semvec has no ${kind.toUpperCase()} index to tune (its collections search exactly, or by IVF)`);
        }
      }
      ef = c.embeddingFunction;
    }
    await chroma(() => this.#core.modify({ name: a.name, metadata: a.metadata === undefined ? undefined : (collectionMetadata(a.metadata) ?? null) }));
    if (ef) this.#embeddingFunction = ef;
  }

  /**
   * Deletes records by ids and/or filters; `limit` (with a filter) deletes
   * at most that many, in insertion order. Returns how many were deleted.
   */
  async delete(args: DeleteArgs = {}): Promise<DeleteResult> {
    const a = options(args, 'delete', DELETE_KEYS);
    checkWhere(a.where);
    checkWhereDocument(a.whereDocument);
    if (a.limit !== undefined) {
      if (!Number.isInteger(a.limit) || a.limit < 0) invalid(`delete: limit must be a non-negative integer; received ${describe(a.limit)}`);
      if (a.where === undefined && a.whereDocument === undefined) invalid('delete: limit can only be specified when a where or whereDocument clause is provided');
    }
    const filters = { where: a.where as CoreWhere | undefined, whereDocument: a.whereDocument as CoreWhereDocument | undefined };
    const deleted = await chroma(async () => {
      if (a.ids === undefined && a.where === undefined && a.whereDocument === undefined) invalid('delete: give ids, where or whereDocument; to remove everything, delete the collection');
      if (a.limit === undefined) return this.#core.delete({ ids: a.ids, ...filters });
      if (a.limit === 0) return 0;
      const chosen = await this.#core.get({ ids: a.ids, ...filters, limit: a.limit, include: [] });
      if (chosen.length === 0) return 0;
      // The filters are applied again inside the delete's turn: a record
      // changed in between is not deleted by mistake.
      return this.#core.delete({ ids: chosen.map((r) => r.id), ...filters });
    });
    return { deleted };
  }

  /** Not in semvec: copy-on-write forks are a Chroma Cloud feature. */
  async fork(_args: { name: string }): Promise<Collection> {
    return unsupported('fork', 'copy the records into a new collection (get with include embeddings, then add)');
  }

  async forkCount(): Promise<number> {
    return unsupported('forkCount', 'semvec collections have no forks');
  }

  /** Not in semvec: Chroma Cloud's search API (rank expressions, hybrid search). */
  async search(_searches: unknown, _options?: unknown): Promise<never> {
    return unsupported('search', 'use query (with where and whereDocument filters)');
  }

  /** Not in semvec: every acknowledged write is indexed before it is acknowledged. */
  async getIndexingStatus(): Promise<never> {
    return unsupported('getIndexingStatus', 'every acknowledged write is already indexed');
  }
}

const embeddingOf = (r: CollectionRecord): number[] => (r.embedding ? Array.from(r.embedding) : []);

/** Core records to Chroma's GetResult. */
export function getResult<TMeta extends Metadata>(records: CollectionRecord[], include: Include[]): GetResult<TMeta> {
  const has = (f: Include) => include.includes(f);
  return new GetResult<TMeta>({
    ids: records.map((r) => r.id),
    documents: has('documents') ? records.map((r) => r.document ?? null) : [],
    metadatas: has('metadatas') ? records.map((r) => (r.metadata ?? null) as TMeta | null) : [],
    embeddings: has('embeddings') ? records.map(embeddingOf) : [],
    uris: has('uris') ? records.map(() => null) : [],
    include,
  });
}

/** Core matches to Chroma's QueryResult. */
export function queryResult<TMeta extends Metadata>(matches: QueryMatch[][], include: Include[], withScores = false): QueryResult<TMeta> {
  const has = (f: Include) => include.includes(f);
  return new QueryResult<TMeta>({
    ids: matches.map((q) => q.map((m) => m.id)),
    documents: has('documents') ? matches.map((q) => q.map((m) => m.document ?? null)) : [],
    metadatas: has('metadatas') ? matches.map((q) => q.map((m) => (m.metadata ?? null) as TMeta | null)) : [],
    embeddings: has('embeddings') ? matches.map((q) => q.map(embeddingOf)) : [],
    distances: has('distances') ? matches.map((q) => q.map((m) => m.distance)) : [],
    uris: has('uris') ? matches.map((q) => q.map(() => null)) : [],
    include,
    ...(withScores ? { scores: matches.map((q) => q.map((m) => m.scores ?? null)) } : {}),
  });
}

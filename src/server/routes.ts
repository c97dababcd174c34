/**
 * Chroma's HTTP API v2 over semvec: system routes, the default tenant and
 * database, collections, and records. Bodies are validated by the schemas
 * of schemas.ts; the work is done by semvec/chroma (src/chroma/), whose
 * errors become Chroma's error JSON (http-errors.ts). Routes Chroma has and
 * semvec does not answer 501 with a message.
 *
 * Routes that write are marked `config: { write: true }`, so that a
 * read-only server can refuse them in one place.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { semvecVersion } from '../chroma/client.js';
import type { Collection, QueryArgs } from '../chroma/collection.js';
import type { Fusion } from '../collection/fusion.js';
import type { QueryMode, RerankModel } from '../collection/types.js';
import { createError, ErrorCode } from '../errors.js';
import { describe } from '../validate.js';
import { DEFAULT_DATABASE, DEFAULT_TENANT, MAX_BATCH_SIZE, type Include, type Where, type WhereDocument } from '../chroma/types.js';
import type { ServedCollections } from './collections.js';
import { httpError, notFound, unimplemented, type HttpError } from './http-errors.js';
import { schemas } from './schemas.js';

const V2 = '/api/v2';
const DB = `${V2}/tenants/:tenant/databases/:database`;

type Params = { tenant: string; database: string; collection_id: string };

/** Thrown by handlers for an answer that is not a semvec error. */
export class Answer extends Error {
  readonly http: HttpError;
  constructor(http: HttpError) {
    super(http.body.message);
    this.http = http;
  }
}

function checkTenant(tenant: string): void {
  if (tenant !== DEFAULT_TENANT) throw new Answer(notFound(`tenant ${JSON.stringify(tenant)} not found (semvec has one tenant, ${JSON.stringify(DEFAULT_TENANT)})`));
}

function checkPath(p: { tenant: string; database: string }): void {
  checkTenant(p.tenant);
  if (p.database !== DEFAULT_DATABASE) {
    throw new Answer(notFound(`database ${JSON.stringify(p.database)} not found (semvec serves one database, ${JSON.stringify(DEFAULT_DATABASE)}; serve another directory for other data)`));
  }
}

const database = { id: '00000000-0000-8000-8000-000000000000', name: DEFAULT_DATABASE, tenant: DEFAULT_TENANT };

/** null, undefined and {} all mean "no filter" (clients differ in what they send). */
function filterOf<T>(f: unknown): T | undefined {
  if (f === null || f === undefined) return undefined;
  if (typeof f === 'object' && Object.keys(f).length === 0) return undefined;
  return f as T;
}

const orUndefined = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** The body of a query: Chroma's fields and semvec's ranking options. */
interface QueryBody {
  query_embeddings?: number[][] | null;
  query_texts?: string[] | null;
  ids?: string[] | null;
  n_results?: number | null;
  where?: unknown;
  where_document?: unknown;
  include?: Include[];
  mode?: unknown;
  fusion?: unknown;
  candidates?: unknown;
  rerank?: unknown;
}

/**
 * semvec's ranking options of a query body, as the collection takes them
 * (absent or null: Chroma's vector query). `rerank` is `{ candidates? }`
 * and uses the server's reranker; the values are checked by the
 * collection layer (a bad one is a 400 carrying its error code).
 */
function rankingOf(b: QueryBody, reranker: RerankModel | undefined): Pick<QueryArgs, 'mode' | 'fusion' | 'candidates' | 'rerank'> {
  const out: Pick<QueryArgs, 'mode' | 'fusion' | 'candidates' | 'rerank'> = {};
  if (b.mode !== undefined && b.mode !== null) out.mode = b.mode as QueryMode;
  if (b.fusion !== undefined && b.fusion !== null) out.fusion = b.fusion as Fusion;
  if (b.candidates !== undefined && b.candidates !== null) out.candidates = b.candidates as number;
  if (b.rerank !== undefined && b.rerank !== null) {
    if (!reranker) throw createError(ErrorCode.INVALID_ARGUMENT, 'rerank: this server has no reranker; start semvec serve with --reranker MODEL');
    const r = b.rerank;
    if (typeof r !== 'object' || Array.isArray(r)) throw createError(ErrorCode.INVALID_ARGUMENT, `rerank must be an object like { "candidates": 50 }; received ${describe(r)}`);
    const extra = Object.keys(r).find((k) => k !== 'candidates');
    if (extra !== undefined) throw createError(ErrorCode.INVALID_ARGUMENT, `rerank: unknown key ${JSON.stringify(extra)} (it takes candidates; the model is the server's --reranker)`);
    const candidates = (r as { candidates?: unknown }).candidates;
    out.rerank = { model: reranker, ...(candidates !== undefined && candidates !== null ? { candidates: candidates as number } : {}) };
  }
  return out;
}

function unsupportedRoute(app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, what: string): void {
  app.route({
    method,
    url,
    handler: async () => {
      throw new Answer(unimplemented(`${what} is not supported by semvec`));
    },
  });
}

/** What the routes take beyond the collections: the reranker of queries that ask for one. */
export interface RouteOptions {
  reranker?: RerankModel;
}

export function registerRoutes(app: FastifyInstance, served: ServedCollections, options: RouteOptions = {}): void {
  const chroma = served.chroma;
  const collection = (req: FastifyRequest): Promise<Collection> => {
    const p = req.params as Params;
    checkPath(p);
    return served.byId(p.collection_id);
  };

  // ---- system ----
  app.get(`${V2}/heartbeat`, async () => ({ 'nanosecond heartbeat': await chroma.heartbeat() }));
  // A JSON string, as Chroma answers (Fastify would send a bare string as text).
  app.get(`${V2}/version`, async (_req, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(semvecVersion())));
  app.get(`${V2}/healthcheck`, async () => ({ is_executor_ready: true, is_log_client_ready: true }));
  app.get(`${V2}/pre-flight-checks`, async () => ({ max_batch_size: MAX_BATCH_SIZE, supports_base64_encoding: false }));
  app.get(`${V2}/auth/identity`, async () => chroma.getUserIdentity());
  unsupportedRoute(app, 'POST', `${V2}/reset`, 'reset (deleting every collection at once)');

  // ---- tenants and databases: the defaults ----
  app.post(`${V2}/tenants`, { schema: schemas.createTenant, config: { write: true } }, async (req) => {
    const { name } = req.body as { name: string };
    if (name === DEFAULT_TENANT) throw new Answer(httpError(409, 'UniqueConstraintError', `tenant ${JSON.stringify(name)} already exists`));
    throw new Answer(unimplemented(`creating tenant ${JSON.stringify(name)} is not supported by semvec (it has one tenant, ${JSON.stringify(DEFAULT_TENANT)})`));
  });
  app.get(`${V2}/tenants/:tenant_name`, async (req) => {
    const { tenant_name } = req.params as { tenant_name: string };
    checkTenant(tenant_name);
    return { name: DEFAULT_TENANT, resource_name: null };
  });
  unsupportedRoute(app, 'PATCH', `${V2}/tenants/:tenant_name`, 'updating a tenant');
  app.get(`${V2}/tenants/:tenant/databases`, { schema: schemas.page }, async (req) => {
    checkTenant((req.params as Params).tenant);
    return [database];
  });
  app.post(`${V2}/tenants/:tenant/databases`, { schema: schemas.createDatabase, config: { write: true } }, async (req) => {
    checkTenant((req.params as Params).tenant);
    const { name } = req.body as { name: string };
    if (name === DEFAULT_DATABASE) throw new Answer(httpError(409, 'UniqueConstraintError', `database ${JSON.stringify(name)} already exists`));
    throw new Answer(unimplemented(`creating database ${JSON.stringify(name)} is not supported by semvec (it serves one database per directory)`));
  });
  app.get(DB, async (req) => {
    checkPath(req.params as Params);
    return database;
  });
  unsupportedRoute(app, 'DELETE', DB, 'deleting a database');

  // ---- collections ----
  app.get(`${DB}/collections`, { schema: schemas.page }, async (req) => {
    checkPath(req.params as Params);
    const q = req.query as { limit?: string; offset?: string };
    const list = await chroma.listCollections({ limit: q.limit === undefined ? 100 : Number(q.limit), offset: q.offset === undefined ? 0 : Number(q.offset) });
    return list.map((c) => served.json(c));
  });
  app.get(`${DB}/collections_count`, async (req) => {
    checkPath(req.params as Params);
    return chroma.countCollections();
  });
  app.post(`${DB}/collections`, { schema: schemas.createCollection, config: { write: true } }, async (req) => {
    checkPath(req.params as Params);
    const b = req.body as {
      name: string;
      configuration?: { hnsw?: Record<string, unknown> | null; spann?: Record<string, unknown> | null; embedding_function?: unknown } | null;
      metadata?: Record<string, string | number | boolean | null> | null;
      get_or_create?: boolean;
      schema?: unknown;
    };
    // The embedding function a client names is its own to run: semvec
    // embeds text only with a semvec model (see collections.ts).
    const configuration = b.configuration ? { hnsw: b.configuration.hnsw, spann: b.configuration.spann } : undefined;
    const args = { name: b.name, configuration, metadata: orUndefined(b.metadata), ...(b.schema === undefined || b.schema === null ? {} : { schema: b.schema }) };
    const col = b.get_or_create ? await chroma.getOrCreateCollection(args as never) : await chroma.createCollection(args as never);
    return served.json(col);
  });
  app.get(`${DB}/collections/by-id/:collection_id`, async (req) => served.json(await collection(req)));
  app.get(`${DB}/collections/:collection_id`, async (req) => {
    const p = req.params as Params;
    checkPath(p);
    return served.json(await served.byName(p.collection_id));
  });
  app.put(`${DB}/collections/:collection_id`, { schema: schemas.updateCollection, config: { write: true } }, async (req) => {
    const col = await collection(req);
    const b = req.body as { new_name?: string | null; new_metadata?: Record<string, string | number | boolean | null> | null; new_configuration?: { hnsw?: object | null; spann?: object | null } | null };
    const c = b.new_configuration;
    await col.modify({
      name: orUndefined(b.new_name),
      metadata: orUndefined(b.new_metadata),
      configuration: c ? { hnsw: orUndefined(c.hnsw) as never, spann: orUndefined(c.spann) as never } : undefined,
    });
    return {};
  });
  app.delete(`${DB}/collections/:collection_id`, { config: { write: true } }, async (req) => {
    const p = req.params as Params;
    checkPath(p);
    const col = await served.byName(p.collection_id);
    await chroma.deleteCollection({ name: p.collection_id });
    served.forget(col.id);
    return {};
  });

  // ---- records ----
  type RecordsBody = { ids: string[]; embeddings?: number[][] | null; documents?: (string | null)[] | null; metadatas?: (Record<string, unknown> | null)[] | null; uris?: unknown };
  const recordsOf = (b: RecordsBody) => ({
    ids: b.ids,
    embeddings: orUndefined(b.embeddings),
    documents: orUndefined(b.documents) as string[] | undefined,
    metadatas: orUndefined(b.metadatas) as never,
    ...(b.uris === undefined || b.uris === null ? {} : { uris: b.uris as string[] }),
  });
  app.post(`${DB}/collections/:collection_id/add`, { schema: schemas.records, config: { write: true } }, async (req, reply: FastifyReply) => {
    await (await collection(req)).add(recordsOf(req.body as RecordsBody));
    return reply.code(201).send({});
  });
  app.post(`${DB}/collections/:collection_id/upsert`, { schema: schemas.records, config: { write: true } }, async (req) => {
    await (await collection(req)).upsert(recordsOf(req.body as RecordsBody));
    return {};
  });
  app.post(`${DB}/collections/:collection_id/update`, { schema: schemas.records, config: { write: true } }, async (req) => {
    await (await collection(req)).update(recordsOf(req.body as RecordsBody));
    return {};
  });
  app.post(`${DB}/collections/:collection_id/delete`, { schema: schemas.delete, config: { write: true } }, async (req) => {
    const b = req.body as { ids?: string[] | null; where?: unknown; where_document?: unknown; limit?: number | null };
    return (await collection(req)).delete({
      ids: orUndefined(b.ids),
      where: filterOf<Where>(b.where),
      whereDocument: filterOf<WhereDocument>(b.where_document),
      limit: orUndefined(b.limit),
    });
  });
  app.get(`${DB}/collections/:collection_id/count`, { schema: schemas.readLevel }, async (req) => (await collection(req)).count());
  app.post(`${DB}/collections/:collection_id/get`, { schema: schemas.get }, async (req) => {
    const b = req.body as { ids?: string[] | null; where?: unknown; where_document?: unknown; limit?: number | null; offset?: number | null; include?: Include[] };
    const r = await (await collection(req)).get({
      ids: orUndefined(b.ids),
      where: filterOf<Where>(b.where),
      whereDocument: filterOf<WhereDocument>(b.where_document),
      limit: orUndefined(b.limit),
      offset: orUndefined(b.offset),
      include: b.include,
    });
    const has = (f: Include) => r.include.includes(f);
    return {
      ids: r.ids,
      documents: has('documents') ? r.documents : null,
      embeddings: has('embeddings') ? r.embeddings : null,
      metadatas: has('metadatas') ? r.metadatas : null,
      uris: has('uris') ? r.uris : null,
      include: r.include,
    };
  });
  app.post(`${DB}/collections/:collection_id/query`, { schema: schemas.query }, async (req) => {
    const b = req.body as QueryBody;
    const r = await (await collection(req)).query({
      queryEmbeddings: orUndefined(b.query_embeddings),
      queryTexts: orUndefined(b.query_texts),
      ids: orUndefined(b.ids),
      nResults: orUndefined(b.n_results),
      where: filterOf<Where>(b.where),
      whereDocument: filterOf<WhereDocument>(b.where_document),
      include: b.include,
      ...rankingOf(b, options.reranker),
    });
    const has = (f: Include) => r.include.includes(f);
    return {
      ids: r.ids,
      distances: has('distances') ? r.distances : null,
      documents: has('documents') ? r.documents : null,
      embeddings: has('embeddings') ? r.embeddings : null,
      metadatas: has('metadatas') ? r.metadatas : null,
      uris: has('uris') ? r.uris : null,
      include: r.include,
      // semvec's addition, only for a query that used semvec's ranking options.
      ...(r.scores !== undefined ? { scores: r.scores } : {}),
    };
  });
  unsupportedRoute(app, 'POST', `${DB}/collections/:collection_id/fork`, 'fork (a Chroma Cloud feature)');
  unsupportedRoute(app, 'GET', `${DB}/collections/:collection_id/fork_count`, 'fork_count (a Chroma Cloud feature)');
  unsupportedRoute(app, 'POST', `${DB}/collections/:collection_id/search`, 'search (Chroma Cloud\'s search API; use query)');
  unsupportedRoute(app, 'GET', `${DB}/collections/:collection_id/indexing_status`, 'indexing_status (every acknowledged write is already indexed)');
  unsupportedRoute(app, 'GET', `${V2}/collections/:crn`, 'getting a collection by Chroma resource name (a Chroma Cloud feature)');
}

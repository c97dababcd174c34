/**
 * The HTTP API of `semvec serve`, in process (Fastify's inject): Chroma's
 * JSON shapes, its error JSON and status codes, limits, the token, CORS,
 * and text embedded with a collection's semvec model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Client } from '../../src/index.js';
import { MAX_BATCH_SIZE } from '../../src/chroma/types.js';
import { createServer, type SemvecServer } from '../../src/server/app.js';
import { haveToyModel, useToyModel } from '../helpers/models.js';

const DB = '/api/v2/tenants/default_tenant/databases/default_database';

type Json = Record<string, any>;

async function serve(options: Partial<Parameters<typeof createServer>[0]> = {}): Promise<{ server: SemvecServer; client: Client; call: (method: string, url: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; json: any; headers: Record<string, unknown> }> }> {
  const client = new Client();
  const server = await createServer({ client, ...options });
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await server.app.inject({
      method: method as 'GET',
      url,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    let json: unknown;
    try {
      json = res.json();
    } catch {
      json = res.body;
    }
    return { status: res.statusCode, json, headers: res.headers };
  };
  return { server, client, call };
}

describe('semvec serve: Chroma API v2', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(async () => {
    await s.server.close();
    await s.client.close();
  });

  it('answers the system routes', async () => {
    expect((await s.call('GET', '/api/v2/heartbeat')).json['nanosecond heartbeat']).toBeGreaterThan(0);
    const version = await s.call('GET', '/api/v2/version');
    expect(version.headers['content-type']).toMatch(/application\/json/);
    expect(version.json).toMatch(/^\d+\.\d+\.\d+/);
    expect((await s.call('GET', '/api/v2/pre-flight-checks')).json).toEqual({ max_batch_size: MAX_BATCH_SIZE, supports_base64_encoding: false });
    expect((await s.call('GET', '/api/v2/auth/identity')).json).toEqual({ user_id: '', tenant: 'default_tenant', databases: ['default_database'] });
    expect((await s.call('GET', '/api/v2/tenants/default_tenant')).json).toMatchObject({ name: 'default_tenant' });
    expect((await s.call('GET', DB)).json).toMatchObject({ name: 'default_database', tenant: 'default_tenant' });
    expect((await s.call('GET', '/api/v2/tenants/default_tenant/databases')).json).toHaveLength(1);
  });

  it('creates, gets, lists, counts, modifies and deletes collections with Chroma\'s JSON', async () => {
    const created = await s.call('POST', `${DB}/collections`, { name: 'alpha', metadata: { owner: 'x' }, configuration: { hnsw: { space: 'l2' } } });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'alpha',
      configuration_json: { hnsw: { space: 'l2' }, spann: null, embedding_function: { type: 'legacy' } },
      metadata: { owner: 'x' },
      dimension: null,
      tenant: 'default_tenant',
      database: 'default_database',
      log_position: 0,
      version: 0,
    });
    const id = created.json.id as string;
    expect((await s.call('POST', `${DB}/collections`, { name: 'alpha' })).status).toBe(409);
    expect((await s.call('POST', `${DB}/collections`, { name: 'alpha', get_or_create: true })).json.id).toBe(id);
    await s.call('POST', `${DB}/collections`, { name: 'beta' });
    await s.call('POST', `${DB}/collections`, { name: 'gamma' });
    expect((await s.call('GET', `${DB}/collections_count`)).json).toBe(3);
    expect((await s.call('GET', `${DB}/collections?limit=2&offset=1`)).json.map((c: Json) => c.name)).toEqual(['beta', 'gamma']);
    expect((await s.call('GET', `${DB}/collections/alpha`)).json.id).toBe(id);
    expect((await s.call('GET', `${DB}/collections/by-id/${id}`)).json.name).toBe('alpha');
    expect((await s.call('PUT', `${DB}/collections/${id}`, { new_name: 'alpha2', new_metadata: { owner: 'y' } })).status).toBe(200);
    expect((await s.call('GET', `${DB}/collections/alpha2`)).json).toMatchObject({ id, metadata: { owner: 'y' } });
    expect((await s.call('PUT', `${DB}/collections/${id}`, { new_name: 'beta' })).status).toBe(409);
    expect((await s.call('DELETE', `${DB}/collections/gamma`)).status).toBe(200);
    const gone = await s.call('GET', `${DB}/collections/gamma`);
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: 'NotFoundError', message: expect.stringContaining('gamma'), code: 'ERR_NOT_FOUND' });
    expect((await s.call('DELETE', `${DB}/collections/gamma`)).status).toBe(404);
  });

  it('adds, gets, queries, updates, upserts, counts and deletes records', async () => {
    const { json: col } = await s.call('POST', `${DB}/collections`, { name: 'records', configuration: { hnsw: { space: 'l2' } } });
    const at = (op: string) => `${DB}/collections/${col.id}/${op}`;
    const add = await s.call('POST', at('add'), { ids: ['a', 'b', 'c'], embeddings: [[0, 0], [1, 0], [5, 5]], documents: ['alpha', 'beta', null], metadatas: [{ g: 1 }, { g: 2 }, null] });
    expect(add.status).toBe(201);
    expect((await s.call('GET', at('count'))).json).toBe(3);
    const got = await s.call('POST', at('get'), { ids: ['b'], include: ['documents', 'metadatas', 'embeddings'] });
    expect(got.json).toEqual({ ids: ['b'], documents: ['beta'], metadatas: [{ g: 2 }], embeddings: [[1, 0]], uris: null, include: ['documents', 'metadatas', 'embeddings'] });
    const q = await s.call('POST', at('query'), { query_embeddings: [[0.9, 0]], n_results: 2, include: ['distances', 'documents'], where: { g: { $gte: 1 } } });
    expect(q.json.ids).toEqual([['b', 'a']]);
    expect(q.json.distances[0][0]).toBeCloseTo(0.01, 5);
    expect(q.json.metadatas).toBeNull();
    expect((await s.call('POST', at('update'), { ids: ['a'], metadatas: [{ g: 9 }] })).status).toBe(200);
    expect((await s.call('POST', at('upsert'), { ids: ['d'], embeddings: [[2, 2]] })).status).toBe(200);
    expect((await s.call('POST', at('get'), { where: { g: 9 } })).json.ids).toEqual(['a']);
    expect((await s.call('POST', at('delete'), { where: { g: 9 } })).json).toEqual({ deleted: 1 });
    expect((await s.call('POST', at('get'), { where: {}, include: [] })).json.ids).toEqual(['b', 'c', 'd']);
    expect((await s.call('POST', at('get'), { where_document: { $regex: '^b.t' }, include: [] })).json.ids).toEqual(['b']);
    expect((await s.call('POST', at('query'), { query_embeddings: [[0, 0]], n_results: 3, where_document: { $not_regex: 'eta$' }, include: [] })).json.ids).toEqual([['d', 'c']]);
    expect((await s.call('POST', at('get'), { where_document: { $regex: '(?<=b)' } })).status).toBe(400);
    expect((await s.call('GET', `${DB}/collections/by-id/${col.id}`)).json.dimension).toBe(2);
  });

  it('answers bad requests with Chroma\'s error JSON and 4xx codes, changing nothing', async () => {
    const { json: col } = await s.call('POST', `${DB}/collections`, { name: 'strict' });
    const at = (op: string) => `${DB}/collections/${col.id}/${op}`;
    await s.call('POST', at('add'), { ids: ['a'], embeddings: [[1, 2, 3]] });
    const cases: [string, unknown, number, RegExp][] = [
      ['add', '{"ids": ["x"], "embeddings": [[1, 2, 3]', 400, /JSON/i],
      ['add', '{"ids": ["x"], "embeddings": [[NaN, 2, 3]]}', 400, /JSON/i],
      ['add', '{"ids": ["x"], "embeddings": [[1e999, 2, 3]]}', 422, /number/], // Infinity is not a JSON number
      ['add', { ids: ['x'], embeddings: [[1, 2]] }, 400, /dim/],
      ['add', { ids: ['x'], embeddings: [[1, 2, 3]], colour: 'red' }, 422, /additional/],
      ['add', { ids: 'x', embeddings: [[1, 2, 3]] }, 422, /array/],
      ['add', { ids: ['x'], embeddings: [['1', 2, 3]] }, 422, /number/],
      ['add', { ids: ['a'], embeddings: [[1, 2, 3]] }, 409, /already/],
      ['add', { ids: ['x'], embeddings: [[1, 2, 3]], metadatas: [{ tags: ['a'] }] }, 422, /metadatas/],
      ['query', { query_embeddings: [[1, 2, 3]], n_results: 0 }, 422, /n_results/],
      ['query', { query_embeddings: [[1, 2, 3]], include: ['scores'] }, 422, /include/],
      ['query', { query_embeddings: [[1, 2, 3]], where: { $bad: 1 } }, 400, /\$bad|operator/],
      ['get', { include: ['distances'] }, 400, /distances/],
      ['update', { ids: ['missing'], embeddings: [[1, 2, 3]] }, 404, /missing/],
      ['query', { query_texts: ['hello'] }, 400, /embedding function/],
    ];
    for (const [op, body, status, message] of cases) {
      const res = await s.call('POST', at(op), body);
      expect([op, body, res.status]).toEqual([op, body, status]);
      // semvec's errors carry their code beside Chroma's two fields; the body parser's and the schema's do not.
      expect(Object.keys(res.json).sort()).toEqual(status === 422 || message.source === 'JSON' ? ['error', 'message'] : ['code', 'error', 'message']);
      expect(res.json.message).toMatch(message);
    }
    const tooMany = Array.from({ length: MAX_BATCH_SIZE + 1 }, (_, i) => `r${i}`);
    expect((await s.call('POST', at('add'), { ids: tooMany, embeddings: tooMany.map(() => [1, 2, 3]) })).status).toBe(422);
    expect((await s.call('GET', at('count'))).json).toBe(1);
    expect((await s.call('POST', `${DB}/collections/00000000-0000-8000-8000-00000000ffff/get`, {})).status).toBe(404);
    expect((await s.call('GET', '/api/v2/tenants/acme/databases/default_database/collections')).status).toBe(404);
    expect((await s.call('GET', '/api/v2/tenants/default_tenant/databases/other/collections')).status).toBe(404);
    expect((await s.call('GET', '/api/v1/heartbeat')).json.error).toBe('NotFoundError');
    expect((await s.call('POST', `${DB}/collections`, { name: 'x' })).status).toBe(400);
  });

  it('answers 501 with a message for what semvec does not have', async () => {
    const { json: col } = await s.call('POST', `${DB}/collections`, { name: 'partial' });
    const at = (op: string) => `${DB}/collections/${col.id}/${op}`;
    const cases: [string, string, unknown][] = [
      ['POST', at('fork'), { new_name: 'copy' }],
      ['GET', at('fork_count'), undefined],
      ['POST', at('search'), { searches: [] }],
      ['GET', at('indexing_status'), undefined],
      ['POST', '/api/v2/reset', undefined],
      ['POST', '/api/v2/tenants', { name: 'acme' }],
      ['POST', '/api/v2/tenants/default_tenant/databases', { name: 'other' }],
      ['DELETE', DB, undefined],
      ['POST', `${DB}/collections`, { name: 'tuned', configuration: { hnsw: { ef_search: 100 } } }],
      ['POST', `${DB}/collections`, { name: 'schema', schema: { defaults: {} } }],
      ['PUT', `${DB}/collections/${col.id}`, { new_configuration: { hnsw: { ef_search: 100 } } }],
      ['POST', at('add'), { ids: ['u'], embeddings: [[1]], uris: ['s3://x'] }],
      ['POST', at('get'), { where_document: { $matches: 'a+' } }],
    ];
    for (const [method, url, body] of cases) {
      const res = await s.call(method, url, body);
      expect([method, url, res.status]).toEqual([method, url, 501]);
      expect(res.json).toEqual({ error: 'UnimplementedError', message: expect.stringMatching(/not supported by semvec/), ...('code' in res.json ? { code: 'ERR_UNSUPPORTED' } : {}) });
    }
    expect((await s.call('POST', '/api/v2/tenants', { name: 'default_tenant' })).status).toBe(409);
    expect((await s.call('GET', `${DB}/collections_count`)).json).toBeGreaterThan(0);
    expect((await s.call('GET', `${DB}/collections/tuned`)).status).toBe(404);
  });

  it('serves the page at / with its scripts, without CORS headers by default', async () => {
    const page = await s.call('GET', '/', undefined, { origin: 'http://evil.example' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    expect((await s.call('GET', '/page/app.js')).headers['content-type']).toMatch(/javascript/);
    const preflight = await s.call('OPTIONS', `${DB}/collections`, undefined, { origin: 'http://evil.example', 'access-control-request-method': 'POST' });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('semvec serve: limits, token and CORS', () => {
  it('refuses a body over the limit with 413', async () => {
    const s = await serve({ bodyLimit: 1024 });
    const { json: col } = await s.call('POST', `${DB}/collections`, { name: 'small' });
    const res = await s.call('POST', `${DB}/collections/${col.id}/add`, { ids: ['a'], embeddings: [Array.from({ length: 500 }, () => 0.5)] });
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('PayloadTooLargeError');
    await s.server.close();
  });

  it('with a token, answers every route without it with 401 and nothing else; accepts x-chroma-token, Bearer and Basic', async () => {
    const token = 'a-long-secret-token';
    const s = await serve({ authToken: token });
    for (const [method, url] of [
      ['GET', '/api/v2/heartbeat'],
      ['GET', `${DB}/collections`],
      ['POST', `${DB}/collections`],
      ['GET', '/'],
      ['GET', '/page/app.js'],
      ['GET', '/semvec/stats'],
      ['GET', '/no/such/route'],
    ] as const) {
      for (const headers of [{}, { 'x-chroma-token': 'wrong' }, { authorization: `Bearer ${token}x` }, { authorization: 'Bearer' }] as Record<string, string>[]) {
        const res = await s.call(method, url, method === 'POST' ? { name: 'sneaky' } : undefined, headers);
        expect([url, res.status]).toEqual([url, 401]);
        expect(res.json).toEqual({ error: 'AuthError', message: 'Unauthorized' });
      }
    }
    expect((await s.call('GET', '/', undefined, {})).headers['www-authenticate']).toMatch(/^Basic/);
    expect((await s.call('GET', `${DB}/collections_count`, undefined, { 'x-chroma-token': token })).json).toBe(0);
    expect((await s.call('GET', `${DB}/collections_count`, undefined, { authorization: `Bearer ${token}` })).json).toBe(0);
    const basic = Buffer.from(`anyone:${token}`).toString('base64');
    expect((await s.call('GET', '/', undefined, { authorization: `Basic ${basic}` })).status).toBe(200);
    await s.server.close();
  });

  it('allows the configured origins only, answering their preflight before the token check', async () => {
    const s = await serve({ corsOrigins: ['http://app.example'], authToken: 'another-secret' });
    const pre = await s.call('OPTIONS', `${DB}/collections`, undefined, { origin: 'http://app.example', 'access-control-request-method': 'POST' });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('http://app.example');
    expect(pre.headers['access-control-allow-headers']).toMatch(/x-chroma-token/);
    const other = await s.call('OPTIONS', `${DB}/collections`, undefined, { origin: 'http://other.example', 'access-control-request-method': 'POST' });
    expect(other.status).toBe(401);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    await s.server.close();
  });

  it('a read-only server refuses writes with 403', async () => {
    const s = await serve({ readOnly: true });
    expect((await s.call('POST', `${DB}/collections`, { name: 'nope' })).status).toBe(403);
    expect((await s.call('GET', `${DB}/collections_count`)).json).toBe(0);
    await s.server.close();
  });
});

describe('semvec serve: semvec\'s query modes, fusion and rerank on the query route', () => {
  /** A reranker that prefers longer documents. */
  const byLength = { score: async (_q: string, passages: readonly string[]) => passages.map((p) => p.length) };

  async function filled(options: Partial<Parameters<typeof createServer>[0]> = {}) {
    const s = await serve(options);
    const { json: col } = await s.call('POST', `${DB}/collections`, { name: 'modes' });
    const at = (op: string) => `${DB}/collections/${col.id}/${op}`;
    await s.call('POST', at('add'), {
      ids: ['fox', 'dog', 'cat'],
      embeddings: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      documents: ['the quick brown fox', 'a lazy dog sleeps all day long', 'a cat'],
      metadatas: [{ k: 1 }, { k: 2 }, { k: 3 }],
    });
    return { s, at };
  }

  it('keyword and hybrid queries honour where and answer each match\'s scores; a Chroma query answers as before', async () => {
    const { s, at } = await filled();
    const kw = await s.call('POST', at('query'), { query_texts: ['a'], mode: 'keyword', n_results: 3, where: { k: { $gte: 2 } }, include: ['distances'] });
    expect(kw.status).toBe(200);
    expect(kw.json.ids[0].sort()).toEqual(['cat', 'dog']);
    expect(kw.json.scores[0][0]).toEqual({ keyword: expect.any(Number), keywordRank: 1 });
    const hy = await s.call('POST', at('query'), { query_texts: ['dog'], query_embeddings: [[0, 0, 1]], mode: 'hybrid', fusion: { method: 'rrf', k: 10 }, candidates: 3, n_results: 3, include: [] });
    expect(hy.json.ids[0]).toHaveLength(3);
    expect(hy.json.scores[0].find((x: Json) => x.keywordRank === 1)).toMatchObject({ fused: expect.any(Number), vector: expect.any(Number) });
    const plain = await s.call('POST', at('query'), { query_embeddings: [[1, 0, 0]], n_results: 1, include: [], mode: null, fusion: null, rerank: null });
    expect(plain.json).toEqual({ ids: [['fox']], distances: null, documents: null, embeddings: null, metadatas: null, uris: null, include: [] });
    await s.server.close();
  });

  it('rerank uses the server\'s reranker; without one, or with a bad value, the query is a 400 carrying the error code', async () => {
    const { s, at } = await filled({ reranker: byLength });
    const r = await s.call('POST', at('query'), { query_texts: ['x'], query_embeddings: [[1, 0, 0]], rerank: { candidates: 3 }, n_results: 2, include: [] });
    expect(r.json.ids).toEqual([['dog', 'fox']]);
    expect(r.json.scores[0][0]).toMatchObject({ rerank: 'a lazy dog sleeps all day long'.length });
    const bad: [object, RegExp][] = [
      [{ query_texts: ['x'], mode: 'bm25' }, /mode must be one of 'vector', 'keyword', 'hybrid'/],
      [{ query_texts: ['x'], mode: 3 }, /mode must be one of/],
      [{ query_texts: ['x'], query_embeddings: [[1, 0, 0]], mode: 'hybrid', fusion: { method: 'weighted', alpha: 2 } }, /fusion.alpha/],
      [{ query_texts: ['x'], mode: 'keyword', candidates: 5 }, /candidates applies to mode 'hybrid'/],
      [{ query_texts: ['x'], query_embeddings: [[1, 0, 0]], rerank: 'yes' }, /rerank must be an object/],
      [{ query_texts: ['x'], query_embeddings: [[1, 0, 0]], rerank: { model: '/some/dir' } }, /unknown key "model"/],
      [{ query_texts: ['x'], query_embeddings: [[1, 0, 0]], rerank: { candidates: 0 } }, /rerank.candidates/],
    ];
    for (const [body, message] of bad) {
      const res = await s.call('POST', at('query'), body);
      expect([body, res.status]).toEqual([body, 400]);
      expect(res.json).toEqual({ error: 'InvalidArgumentError', message: expect.stringMatching(message), code: 'ERR_INVALID_ARGUMENT' });
    }
    await s.server.close();
    const { s: none, at: at2 } = await filled();
    const res = await none.call('POST', at2('query'), { query_texts: ['x'], query_embeddings: [[1, 0, 0]], rerank: {} });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/no reranker.*--reranker/) });
    await none.server.close();
  });
});

describe.skipIf(!haveToyModel)('semvec serve: text embedded with the collection\'s semvec model', () => {
  const toy = useToyModel();

  it('embeds query_texts and documents without embeddings with the model in semvec.model', async () => {
    const s = await serve();
    const { json: col } = await s.call('POST', `${DB}/collections`, { name: 'texts', metadata: { 'semvec.model': toy.dir() } });
    expect(col.configuration_json.embedding_function).toEqual({ type: 'known', name: 'semvec', config: { model: toy.dir() } });
    const at = (op: string) => `${DB}/collections/${col.id}/${op}`;
    expect((await s.call('POST', at('add'), { ids: ['cat', 'stocks'], documents: ['the cat sat on the mat', 'stock markets fell sharply'] })).status).toBe(201);
    const q = await s.call('POST', at('query'), { query_texts: ['the cat sat on the mat'], n_results: 1, include: ['distances'] });
    expect(q.json.ids).toEqual([['cat']]);
    expect(q.json.distances[0][0]).toBeCloseTo(0, 4);
    const vector = (await s.call('POST', at('get'), { ids: ['cat'], include: ['embeddings'] })).json.embeddings[0];
    expect(vector).toHaveLength(toy.model().dim);
    await s.server.close();
  });
});

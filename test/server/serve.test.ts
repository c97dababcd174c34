/**
 * The `semvec serve` command as a process: it binds to loopback by
 * default, takes its token from SEMVEC_AUTH_TOKEN, and stops cleanly on
 * SIGTERM even while a client holds an idle connection open; --reranker
 * gives queries that send "rerank" their cross-encoder.
 */
import { rmSync } from 'node:fs';
import { connect } from 'node:net';

import { describe, expect, it } from 'vitest';

import { haveToyReranker, toyRerankerDir } from '../helpers/models.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp.js';

describe('semvec serve (the command)', () => {
  it('binds to 127.0.0.1, requires the token from SEMVEC_AUTH_TOKEN, and exits 0 on SIGTERM despite an idle open connection', async () => {
    const token = 'token-from-the-environment';
    const server = await startServe(tempDir('semvec-serve-'), [], { SEMVEC_AUTH_TOKEN: token });
    expect(server.output()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ .*token required/);
    expect((await fetch(`${server.url}/api/v2/heartbeat`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/v2/heartbeat`, { headers: { 'x-chroma-token': token } })).status).toBe(200);
    // A connection that never sends a request must not hold the shutdown
    // (it did, until the HTTP server's 60 s header timeout).
    const idle = connect(server.port, '127.0.0.1');
    await new Promise((resolve) => idle.once('connect', resolve));
    const exit = await server.stop('SIGTERM');
    idle.destroy();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/SIGTERM: finishing requests in flight, checkpointing\nsemvec serve: stopped/);
  }, 40_000);

  it('--read-only serves beside the directory\'s writing server: reads catch up with its writes, writes answer 403', async () => {
    const dir = tempDir('semvec-serve-');
    const writer = await startServe(dir);
    const reader = await startServe(dir, ['--read-only', '--refresh-ms', '1']);
    expect(reader.output()).toMatch(/listening on .*read-only/);
    const base = (s: typeof writer) => `${s.url}/api/v2/tenants/default_tenant/databases/default_database/collections`;
    const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = (await (await post(base(writer), { name: 'docs' })).json()) as { id: string };
    expect((await post(`${base(writer)}/${created.id}/add`, { ids: ['a', 'b'], embeddings: [[1, 0], [0, 1]] })).status).toBe(201);
    const count = async () => (await fetch(`${base(reader)}/${created.id}/count`)).json();
    expect(await count()).toBe(2);
    // A later write: the reader catches up (its last catch-up is older than 1 ms by the time the add has answered).
    expect((await post(`${base(writer)}/${created.id}/add`, { ids: ['c'], embeddings: [[1, 1]] })).status).toBe(201);
    expect(await count()).toBe(3);
    const write = await post(`${base(reader)}/${created.id}/add`, { ids: ['d'], embeddings: [[1, 1]] });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { error: string }).error).toBe('ForbiddenError');
    expect((await post(base(reader), { name: 'other' })).status).toBe(403);
    expect(await reader.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await writer.stop();
  }, 60_000);

  it.skipIf(!haveToyReranker)('--reranker loads a cross-encoder that queries sending "rerank" use; its scores come back per match', async () => {
    const model = toyRerankerDir();
    try {
      const server = await startServe(tempDir('semvec-serve-'), ['--reranker', model]);
      const base = `${server.url}/api/v2/tenants/default_tenant/databases/default_database/collections`;
      const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const { id } = (await (await post(base, { name: 'docs' })).json()) as { id: string };
      await post(`${base}/${id}/add`, { ids: ['a', 'b', 'c'], embeddings: [[1, 0], [0, 1], [1, 1]], documents: ['disk quota exceeded', 'free space on the disk', 'upload fails'] });
      const res = await post(`${base}/${id}/query`, { query_texts: ['disk full'], mode: 'keyword', rerank: { candidates: 3 }, n_results: 2, include: [] });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { ids: string[][]; scores: { rerank: number; keywordRank: number }[][] };
      expect(body.ids[0]!.sort()).toEqual(['a', 'b']); // the two documents with "disk" (the toy model's order means nothing)
      for (const s of body.scores[0]!) expect(s).toMatchObject({ rerank: expect.any(Number), keywordRank: expect.any(Number) });
      expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      rmSync(model, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a short token and a taken port with one line and a non-zero exit', async () => {
    const dir = tempDir('semvec-serve-');
    await expect(startServe(dir, ['--auth-token', 'short'])).rejects.toThrow(/at least 8 characters/);
    const first = await startServe(dir);
    await expect(startServe(tempDir('semvec-serve-'), ['--port', String(first.port)])).rejects.toThrow(/port \d+ on 127\.0\.0\.1 is in use/);
    await first.stop();
  });
});

/**
 * The deployment as processes, as docs/cluster.md runs it: `semvec shards
 * init`, three `semvec node` processes and `semvec router`, on a
 * PostgreSQL made for the test. An unmodified chromadb program runs
 * against the router and prints what it prints against `semvec serve`; a node killed
 * with SIGKILL during ingest: queries keep answering from the replicas,
 * no acknowledged write is missing, and the restarted node catches up.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ChromaClient as ChromadbClient } from 'chromadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { workflow } from '../chroma/program/workflow.js';
import { POSTGRES_MISSING, postgresBin, TestPostgres } from '../helpers/postgres.js';
import { runSemvec, startSemvec, type SemvecProcess } from '../helpers/semvec-process.js';
import { startServe } from '../helpers/serve.js';

const bin = postgresBin();
if (!bin) console.warn(`skipping test/distributed/processes.test.ts: ${POSTGRES_MISSING}`);

const root = fileURLToPath(new URL('../../', import.meta.url));
const NODES = ['n1', 'n2', 'n3'];
const NODE_READY = /listening on (http:\/\/\S+); \d+ shards? ready/;
const ROUTER_READY = /listening on http:\/\/[^:]+:(\d+)/;

describe.skipIf(!bin)('semvec shards, semvec node and semvec router as processes', () => {
  let pg: TestPostgres;
  let dir: string;
  const nodes = new Map<string, SemvecProcess>();
  let router: SemvecProcess;
  let port: number;

  const startNode = async (name: string) => {
    const p = await startSemvec(['node', '--name', name, '--data', join(dir, name), '--poll-ms', '200'], NODE_READY, { SEMVEC_PG: pg.url });
    nodes.set(name, p);
    return p;
  };

  beforeAll(async () => {
    pg = await TestPostgres.start(bin as string);
    dir = mkdtempSync(join(tmpdir(), 'semvec-nodes-'));
    const init = await runSemvec(['shards', 'init', '--pg', pg.url, '--nodes', NODES.join(','), '--shards', '6', '--replicas', '2']);
    expect(init.output).toMatch(/6 shards on 3 nodes, 2 replicas each/);
    expect(init.code).toBe(0);
    await Promise.all(NODES.map(startNode));
    router = await startSemvec(['router', '--pg', pg.url, '--port', '0'], ROUTER_READY);
    port = Number(router.ready[1]);
  });

  afterAll(async () => {
    await router?.stop();
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    pg?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an unmodified chromadb program prints through the router what it prints through semvec serve', async () => {
    const routed: string[] = [];
    await workflow(new ChromadbClient({ host: '127.0.0.1', port }), (l) => routed.push(l));
    const serve = await startServe(join(dir, 'serve'));
    const served: string[] = [];
    try {
      await workflow(new ChromadbClient({ host: '127.0.0.1', port: serve.port }), (l) => served.push(l));
    } finally {
      await serve.stop();
    }
    expect(routed).toEqual(served);
    expect(routed.length).toBeGreaterThan(10);
  });

  it('the JavaScript examples of docs/cluster.md run against the deployment (through the built package)', async () => {
    const doc = readFileSync(new URL('../../docs/cluster.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks).toHaveLength(2);
    // Inside the repository, so that 'chromadb' and 'semvec/distributed' resolve (the latter to dist/).
    const here = join(root, 'test', 'distributed', '.generated');
    mkdirSync(here, { recursive: true });
    try {
      for (const [i, code] of blocks.entries()) {
        const file = join(here, `cluster-doc-${i + 1}.mjs`);
        writeFileSync(file, code.replace('port: 8000', `port: ${port}`));
        const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, SEMVEC_PG: pg.url } });
        // chromadb warns when a collection has no embedding function of its own (the example gives embeddings).
        expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('Cannot instantiate a collection with the DefaultEmbeddingFunction'))).toEqual([]);
        expect(r.status).toBe(0);
        if (code.includes("console.log(hits.ids); // [['a']]")) expect(r.stdout.replace(/\s/g, '')).toBe("[['a']]");
      }
    } finally {
      rmSync(here, { recursive: true, force: true });
    }
  });

  it('a node killed with SIGKILL during ingest: queries keep answering, no acknowledged write is missing, the restarted node catches up', async () => {
    const client = new ChromadbClient({ host: '127.0.0.1', port });
    const col = await client.createCollection({ name: 'ingest', configuration: { hnsw: { space: 'l2' } }, embeddingFunction: undefined });
    const acknowledged: string[] = [];
    const vec = (i: number) => [i, i % 7, i % 13, 1];
    let killed = false;
    for (let b = 0; b < 20; b++) {
      const ids = Array.from({ length: 25 }, (_, j) => `d${b * 25 + j}`);
      await col.add({ ids, embeddings: ids.map((_, j) => vec(b * 25 + j)) });
      acknowledged.push(...ids);
      if (b === 7) {
        await nodes.get('n2')?.stop('SIGKILL');
        nodes.delete('n2');
        killed = true;
      }
      if (killed) {
        const q = await col.query({ queryEmbeddings: [vec(b * 25 + 3)], nResults: 1 });
        expect(q.ids[0]?.[0]).toBe(`d${b * 25 + 3}`);
      }
    }
    expect(await col.count()).toBe(acknowledged.length);
    // Every acknowledged record is found by the nodes: each is its own nearest neighbour.
    const all = await col.query({ queryEmbeddings: acknowledged.map((_, i) => vec(i)), nResults: 1 });
    expect(all.ids.map((r) => r[0])).toEqual(acknowledged);
    const restarted = await startNode('n2');
    expect(restarted.output()).toMatch(/loaded from its snapshot|rebuilt from PostgreSQL/);
    // With the two other nodes stopped in turn, the restarted one answers for every shard it shares with them.
    for (const other of ['n1', 'n3']) {
      await nodes.get(other)?.stop('SIGKILL');
      nodes.delete(other);
      const again = await col.query({ queryEmbeddings: acknowledged.map((_, i) => vec(i)), nResults: 1 });
      expect(again.ids.map((r) => r[0])).toEqual(acknowledged);
      await startNode(other);
    }
  });
});

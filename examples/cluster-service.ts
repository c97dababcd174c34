/**
 * A search service the way Node services run: node:cluster workers serving
 * HTTP, all reading one collection directory, beside one writer process
 * that ingests documents into it.
 *
 *   primary ── forks ──> writer   Client.open(dir): the one writing client;
 *                                 adds documents in batches and reports the
 *                                 sequence number of each acknowledged batch
 *           ── forks ──> readers  Client.open(dir, { readOnly: true }), any
 *                                 number; they share one listening port
 *
 * GET /search?q=<text>&k=<n>&after=<seq> answers from any reader. With
 * `after`, the reader first catches up to that sequence number (a writer's
 * `collection.seq` after its write), so a client that just wrote reads its
 * own write from whichever process answers. Without it, a reader is at most
 * `refreshMs` behind the writer.
 *
 * Run: npx tsx examples/cluster-service.ts [dir]   (Ctrl-C to stop)
 * With SEMVEC_EXAMPLE_QUICK=1 it ingests, asks a few questions through HTTP
 * and exits.
 */
import cluster from 'node:cluster';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'semvec';

import { loadModel, quick } from './_shared.js';

const READERS = 2;
const PORT = quick ? 0 : 8080;

const documents = [
  'Transformers use self-attention to relate every token to every other token.',
  'Gradient descent follows the negative gradient of the loss.',
  'An inverted file index scans only the lists nearest to the query.',
  'SQLite in WAL mode lets readers read while one writer commits.',
  'Sourdough bread rises with wild yeast and lactic acid bacteria.',
  'Espresso is brewed by forcing hot water through finely ground coffee.',
  'Node.js runs JavaScript on an event loop with a pool of worker threads.',
  'A memory-mapped file is shared by every process that maps it.',
];

type Message = { kind: 'seq'; seq: number } | { kind: 'listening'; port: number } | { kind: 'done' };

async function writer(dir: string): Promise<void> {
  const model = await loadModel('all-MiniLM-L6-v2');
  const client = await Client.open(dir);
  const docs = await client.getOrCreateCollection('docs', { embedder: model });
  for (let i = 0; i < documents.length; i += 2) {
    const batch = documents.slice(i, i + 2);
    await docs.upsert({ ids: batch.map((_, j) => `doc-${i + j}`), documents: batch });
    process.send?.({ kind: 'seq', seq: docs.seq } satisfies Message);
  }
  await client.checkpoint(); // readers that open from now on start from this snapshot
  process.send?.({ kind: 'done' } satisfies Message);
  await client.close();
  await model.close();
}

async function reader(dir: string): Promise<void> {
  const model = await loadModel('all-MiniLM-L6-v2');
  const client = await Client.open(dir, { readOnly: true, refreshMs: 500 });
  const docs = await client.getCollection('docs', { embedder: model });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const q = url.searchParams.get('q');
    if (url.pathname !== '/search' || !q) {
      res.writeHead(404).end();
      return;
    }
    try {
      const after = Number(url.searchParams.get('after') ?? 0);
      if (after > 0) await docs.refresh({ atLeast: after, timeoutMs: 5000 });
      const [hits] = await docs.query({ queryTexts: q, nResults: Number(url.searchParams.get('k') ?? 3) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pid: process.pid, seq: docs.seq, hits: hits?.map((h) => ({ id: h.id, score: h.score, document: h.document })) }));
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
    }
  });
  server.listen(PORT, () => {
    const address = server.address();
    process.send?.({ kind: 'listening', port: typeof address === 'object' && address ? address.port : PORT } satisfies Message);
  });
}

/** A worker that fails (a model it cannot load, say) stops the service with its exit code. */
function watch(worker: ReturnType<typeof cluster.fork>): ReturnType<typeof cluster.fork> {
  worker.on('exit', (code) => {
    if (code) process.exit(code);
  });
  return worker;
}

async function primary(dir: string): Promise<void> {
  let seq = 0;
  let port = 0;
  const writerDone = new Promise<void>((resolve) => {
    const w = watch(cluster.fork({ ROLE: 'writer', DIR: dir }));
    w.on('message', (m: Message) => {
      if (m.kind === 'seq') seq = m.seq;
      if (m.kind === 'done') resolve();
    });
  });
  await writerDone; // the collection exists before the readers open it
  const listening: Promise<void>[] = [];
  for (let i = 0; i < READERS; i++) {
    const r = watch(cluster.fork({ ROLE: 'reader', DIR: dir }));
    listening.push(new Promise((resolve) => r.on('message', (m: Message) => m.kind === 'listening' && ((port = m.port), resolve()))));
  }
  await Promise.all(listening);
  console.log(`${READERS} readers on http://localhost:${port}/search?q=... (collection in ${dir}, writer at seq ${seq})`);
  if (!quick) return;
  for (const q of ['how do attention models work?', 'what rises bread dough?', 'how do processes share memory?']) {
    const res = await fetch(`http://localhost:${port}/search?q=${encodeURIComponent(q)}&k=2&after=${seq}`);
    const body = (await res.json()) as { pid: number; seq: number; hits: { id: string }[] };
    console.log(`${q} -> ${body.hits.map((h) => h.id).join(', ')} (reader ${body.pid === process.pid ? 'self' : 'worker'}, seq ${body.seq} >= ${seq})`);
  }
  for (const w of Object.values(cluster.workers ?? {})) w?.kill();
}

const dir = process.env.DIR ?? process.argv[2] ?? mkdtempSync(join(tmpdir(), 'semvec-cluster-'));
if (cluster.isPrimary) await primary(dir);
else if (process.env.ROLE === 'writer') await writer(dir);
else await reader(dir);

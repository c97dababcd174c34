/**
 * bench/cluster.ts (npm run bench:cluster): what does running semvec as a
 * distributed deployment on PostgreSQL cost, and what do a second node
 * and a second replica change, on this machine? A PostgreSQL made for the
 * run (Debian's binaries, initdb in a temporary directory); semvec nodes as
 * processes (`semvec node`); the router in this process (DistributedClient).
 *
 * Measured per layout (1 node; 2 nodes with the shards split between them;
 * 2 nodes each holding every shard): ingest through PostgreSQL (records/s,
 * batches of 500), the time a node takes to rebuild its shards from
 * PostgreSQL (disk lost) and to catch up from its snapshot with changes
 * it missed, and queries through the router: latency with one
 * query in flight (p50, p99) and QPS with several. The same data ingested
 * and queried in an embedded collection (in process) is the reference.
 *
 * On one machine, every process (PostgreSQL, the nodes, the router, this
 * script) shares its cores: this measures correctness and overheads, not
 * scaling. Ratios between layouts say how the overheads move, not what
 * more machines would give.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Client } from '../src/index.js';
import { initDeployment } from '../src/distributed/admin.js';
import { DistributedClient } from '../src/distributed/client.js';
import { postgresBin, TestPostgres } from '../test/helpers/postgres.js';
import { pgQuery } from '../test/helpers/pg-query.js';
import { option, parseCommand, runMain, BenchError } from './lib/args.js';
import { CLUSTERED, draw, rowViews } from './lib/data.js';
import { fmt, fmtInt, fmtQps, progress, table } from './lib/format.js';
import { loadText, machineInfo, printMachine } from './lib/machine.js';
import { now, quantile } from './lib/timing.js';

const COMMAND = {
  script: 'bench/cluster.ts',
  npm: 'bench:cluster',
  summary: 'what does a distributed deployment on PostgreSQL cost against the embedded collection, and what do a second node and a second replica change on this machine?',
  options: {
    n: option.int('records', { full: '50000', quick: '10000' }),
    dim: option.int('dimensions', '128'),
    shards: option.int('virtual shards', '16'),
    queries: option.int('queries timed per run', { full: '400', quick: '100' }),
    concurrency: option.int('queries in flight for the QPS run', '8'),
    k: option.int('results per query', '10'),
  },
};

const root = fileURLToPath(new URL('../', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const BATCH = 500;

interface Layout {
  name: string;
  nodes: string[];
  replicas: number;
}

const LAYOUTS: Layout[] = [
  { name: '1 node', nodes: ['n1'], replicas: 1 },
  { name: '2 nodes, shards split', nodes: ['n1', 'n2'], replicas: 1 },
  { name: '2 nodes, 2 replicas', nodes: ['n1', 'n2'], replicas: 2 },
];

interface NodeProcess {
  child: ChildProcess;
  output(): string;
}

function startNode(url: string, name: string, dir: string): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), 'node', '--pg', url, '--name', name, '--data', dir, '--poll-ms', '500'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/shards? ready/.test(out)) resolve({ child, output: () => out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new BenchError(`node ${name} exited (${code}): ${out}`)));
  });
}

async function stopNode({ child }: NodeProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** The node's own report of loading every shard it holds: "N shards loaded and caught up in <ms> ms". */
function loadedMs(output: string): number {
  const m = /shards loaded and caught up in (\d+) ms/.exec(output);
  if (!m) throw new BenchError(`the node did not report its load time: ${output}`);
  return Number(m[1]);
}

interface Timing {
  p50: number;
  p99: number;
  qps: number;
}

/** Latency with one query in flight, then QPS with `concurrency` in flight. */
async function timeQueries(run: (q: Float32Array) => Promise<unknown>, queries: Float32Array[], count: number, concurrency: number): Promise<Timing> {
  for (let i = 0; i < Math.min(20, count); i++) await run(queries[i % queries.length] as Float32Array); // warm up
  const lat: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = now();
    await run(queries[i % queries.length] as Float32Array);
    lat.push((now() - t) * 1000);
  }
  lat.sort((a, b) => a - b);
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await run(queries[i % queries.length] as Float32Array);
      }
    }),
  );
  const seconds = now() - t0;
  return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), qps: count / seconds };
}

async function main(): Promise<void> {
  const v = parseCommand(COMMAND);
  const bin = postgresBin();
  if (!bin) throw new BenchError('PostgreSQL is not installed (apt-get install postgresql): bench:cluster runs its own PostgreSQL');
  const machine = machineInfo();
  console.log(`bench:cluster: ${fmtInt(v.n)} records of dim ${v.dim}, ${v.shards} shards, k = ${v.k}; load ${loadText()}`);
  printMachine(machine);
  console.log(`  note      PostgreSQL, the nodes, the router and this script share ${os.cpus().length} cores: this measures overheads, not scaling.`);

  const data = draw(CLUSTERED, v.dim, v.n, 200, true);
  const rows = rowViews(data.data, v.dim);
  const queries = rowViews(data.queries, v.dim);
  const ids = rows.map((_, i) => `r${i}`);
  const metadatas = rows.map((_, i) => ({ group: i % 10 }));

  // The reference: the embedded collection, in process.
  progress('embedded collection');
  const local = new Client();
  const embedded = await local.createCollection('bench', { metric: 'cosine' });
  let t = now();
  for (let at = 0; at < v.n; at += BATCH) await embedded.add({ ids: ids.slice(at, at + BATCH), embeddings: rows.slice(at, at + BATCH), metadatas: metadatas.slice(at, at + BATCH) });
  const embeddedIngest = v.n / (now() - t);
  const embeddedQ = await timeQueries((q) => embedded.query({ queryEmbeddings: [q], nResults: v.k }), queries, v.queries, v.concurrency);
  await local.close();

  const pg = await TestPostgres.start(bin);
  const work = mkdtempSync(join(os.tmpdir(), 'semvec-bench-cluster-'));
  const results: { layout: string; ingest: number; rebuild: { records: number; ms: number; startMs: number }; catchUp: { changes: number; ms: number }; q: Timing }[] = [];
  try {
    for (const [li, layout] of LAYOUTS.entries()) {
      progress(layout.name);
      const db = `bench${li}`;
      await pgQuery(pg.url, `CREATE DATABASE ${db}`);
      const url = pg.url.replace(/\/postgres$/, `/${db}`);
      await initDeployment(url, { shards: v.shards, nodes: layout.nodes, replicas: layout.replicas });
      const nodes = await Promise.all(layout.nodes.map((name) => startNode(url, name, join(work, `${db}-${name}`))));
      const client = await DistributedClient.connect({ urls: url, waitMs: 120_000 });
      try {
        const col = await client.createCollection('bench', { metric: 'cosine' });
        t = now();
        for (let at = 0; at < v.n; at += BATCH) await col.add({ ids: ids.slice(at, at + BATCH), embeddings: rows.slice(at, at + BATCH), metadatas: metadatas.slice(at, at + BATCH) });
        const ingest = v.n / (now() - t);
        // The first query waits (read-your-writes) until the nodes have applied every write.
        await col.query({ queryEmbeddings: [queries[0] as Float32Array], nResults: v.k });
        const q = await timeQueries((x) => col.query({ queryEmbeddings: [x], nResults: v.k }), queries, v.queries, v.concurrency);
        // A node that lost its disk: the time from its start to every shard rebuilt from PostgreSQL.
        await stopNode(nodes[0] as NodeProcess);
        rmSync(join(work, `${db}-${layout.nodes[0]}`), { recursive: true, force: true });
        t = now();
        nodes[0] = await startNode(url, layout.nodes[0] as string, join(work, `${db}-${layout.nodes[0]}`));
        const startMs = (now() - t) * 1000;
        // Each shard's rebuild as the node reports it: "rebuilt from PostgreSQL at <seq> (<records> records, <ms> ms)"; shards load in parallel.
        const rebuilt = [...nodes[0].output().matchAll(/rebuilt from PostgreSQL at \d+ \((\d+) records, \d+ ms\)/g)].map((m) => Number(m[1]));
        const rebuild = { records: rebuilt.reduce((a, r) => a + r, 0), ms: loadedMs(nodes[0].output()), startMs };
        // Catching up: n1 stopped cleanly (it snapshots), a tenth of the records rewritten, n1 started again.
        await stopNode(nodes[0] as NodeProcess);
        const changes = Math.max(BATCH, Math.round(v.n / 10));
        for (let at = 0; at < changes; at += BATCH) await col.upsert({ ids: ids.slice(at, at + BATCH), embeddings: rows.slice(at, at + BATCH), metadatas: metadatas.slice(at, at + BATCH).map((m) => ({ ...m, round: 2 })) });
        nodes[0] = await startNode(url, layout.nodes[0] as string, join(work, `${db}-${layout.nodes[0]}`));
        const caught = [...nodes[0].output().matchAll(/caught up to \d+ \((\d+) changes, \d+ ms\)/g)].map((m) => Number(m[1]));
        const catchUp = { changes: caught.reduce((a, r) => a + r, 0), ms: loadedMs(nodes[0].output()) };
        results.push({ layout: layout.name, ingest, rebuild, catchUp, q });
        // Exactness check: the deployment and the embedded collection agree on the first query.
        const [dist] = await col.query({ queryEmbeddings: [queries[1] as Float32Array], nResults: v.k });
        if (!dist || dist.length !== v.k) throw new BenchError(`${layout.name}: a query returned ${dist?.length} results, not ${v.k}`);
      } finally {
        await client.close();
        for (const n of nodes) await stopNode(n);
      }
    }
  } finally {
    pg.destroy();
    rmSync(work, { recursive: true, force: true });
  }

  const base = results[0] as (typeof results)[number];
  console.log('');
  console.log(
    table(
      ['layout', 'ingest rec/s', 'vs embedded', 'p50 ms', 'p99 ms', `QPS (${v.concurrency} in flight)`, 'QPS vs 1 node', 'rebuilt records', 'rebuild s', 'start to ready s', 'caught-up changes', 'catch-up s', 's per 100k changes'],
      [
        ['embedded (in process)', fmtInt(embeddedIngest), '1.00x', fmt(embeddedQ.p50, 3), fmt(embeddedQ.p99, 3), fmtQps(embeddedQ.qps), '-', '-', '-', '-', '-', '-', '-'],
        ...results.map((r) => [
          r.layout,
          fmtInt(r.ingest),
          `${fmt(r.ingest / embeddedIngest, 2)}x`,
          fmt(r.q.p50, 3),
          fmt(r.q.p99, 3),
          fmtQps(r.q.qps),
          `${fmt(r.q.qps / base.q.qps, 2)}x`,
          fmtInt(r.rebuild.records),
          fmt(r.rebuild.ms / 1000, 2),
          fmt(r.rebuild.startMs / 1000, 2),
          fmtInt(r.catchUp.changes),
          fmt(r.catchUp.ms / 1000, 2),
          r.catchUp.changes > 0 ? fmt((r.catchUp.ms / 1000) * (100_000 / r.catchUp.changes), 1) : '-',
        ]),
      ],
    ),
  );
  console.log('');
  console.log('  rebuild: node n1 restarted with an empty disk; "rebuild s" is the time it reports to load every shard it holds from PostgreSQL,');
  console.log('  "start to ready s" adds starting the process (tsx compiles the sources) and connecting.');
  console.log('  catch-up: n1 stopped cleanly (snapshots), a tenth of the records rewritten, n1 started: the changes its shards applied from the log');
  console.log('  and the time it reports to load its snapshots and apply them; "s per 100k changes" scales that time linearly (snapshot loading included).');
  console.log(`  load after the run: ${loadText()} (other processes on the machine make every figure here noisier).`);
  console.log(`  On ${os.cpus().length} cores shared by every process, a second node adds no cores: ratios show the cost of the fan-out and merge, not the gain of a second machine.`);
}

await runMain(COMMAND.script, main);

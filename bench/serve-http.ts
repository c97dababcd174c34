/**
 * bench/serve-http.ts (npm run bench:serve-http): what does HTTP cost on
 * top of the in-process API, and does `semvec serve` use both cores? Query
 * QPS and p50/p99 latency at 1, 8 and 64 connections (autocannon, in this
 * process; the server is a second process), unfiltered and with a 1%
 * `where`; add throughput in batches of 100; the server's event-loop delay
 * (p99) and CPU during each run; the same queries through semvec/chroma in
 * process. Method and options: bench/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { ChromaClient } from '../src/chroma/index.js';
import { createServer } from '../src/server/app.js';
import { Client } from '../src/index.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { CLUSTERED, draw, rowViews } from './lib/data.js';
import { fmt, fmtInt, fmtQps, progress, verdict } from './lib/format.js';
import { loadText, machineInfo, printMachine } from './lib/machine.js';
import { Report, writeJson } from './lib/report.js';
import { now, quantile } from './lib/timing.js';

const COMMAND = {
  script: 'bench/serve-http.ts',
  npm: 'bench:serve-http',
  summary: 'what does HTTP cost on top of the in-process API, and does semvec serve use both cores?',
  options: {
    n: option.int('records in the collection', { full: '100000', quick: '10000' }),
    dim: option.int('dimensions', '384'),
    connections: option.sizes('concurrent connections, comma-separated', { full: '1,8,64', quick: '1,8' }),
    seconds: option.int('seconds per query run', { full: '10', quick: '3' }),
    adds: option.int('add requests of 100 records (a third over 1 connection, the rest over 8)', { full: '300', quick: '40' }, { min: 24 }),
    queries: option.int('distinct query vectors (cycled)', '200'),
    out: option.path('JSON results', 'bench/results/serve-http.json'),
    tmp: option.path('where the temporary collection directory goes', os.tmpdir(), { arg: 'DIR' }),
  },
};

/** HTTP overhead per query at p50 (HTTP at 1 connection minus in process) must stay under this. */
const OVERHEAD_TARGET_MS = 0.3;
/** The server must keep this many cores busy at the best concurrency (of the 2 of the reference machine). */
const CORES_TARGET = 1.6;
const BATCH = 100;
const K = 10;
const DB = '/api/v2/tenants/default_tenant/databases/default_database';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const root = fileURLToPath(new URL('../', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** CPU seconds (user + system) of a process so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** One POST on a kept-alive connection; resolves when the whole answer has arrived. */
function post(agent: Agent, url: URL, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function startServer(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), 'serve', '--db', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^ ]+)/.exec(out);
      if (m) resolve({ child, url: m[1] as string });
    });
    child.on('exit', (code) => reject(new Error(`semvec serve exited with ${code}: ${out}`)));
  });
}

async function main(): Promise<void> {
  const v = parseCommand(COMMAND);
  const machine = machineInfo();
  const loadBefore = os.loadavg();
  const report = new Report();
  console.log(`semvec serve HTTP benchmark${v.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(`  params    ${fmtInt(v.n)} x ${v.dim} (cosine, exact search), nResults ${K}; ${v.queries} query vectors; connections ${v.connections.join(', ')}; ${v.seconds} s per run; ${v.adds} adds of ${BATCH}`);
  console.log(`  load      ${loadText(loadBefore)} (1, 5, 15 min) at the start`);

  progress('drawing data');
  const { data, queries } = draw(CLUSTERED, v.dim, v.n + v.adds * BATCH, v.queries, true);
  const dir = mkdtempSync(join(v.tmp, 'semvec-bench-serve-'));
  try {
    progress(`filling ${fmtInt(v.n)} records`);
    const filler = await Client.open(dir);
    const col = await filler.createCollection('bench', { metric: 'cosine' });
    for (let i = 0; i < v.n; i += 10_000) {
      const to = Math.min(v.n, i + 10_000);
      const ids = Array.from({ length: to - i }, (_, j) => `r${i + j}`);
      await col.add({ ids, embeddings: data.subarray(i * v.dim, to * v.dim), metadatas: ids.map((_, j) => ({ bucket: (i + j) % 100 })) });
    }
    await filler.close();

    const qRows = rowViews(queries, v.dim).map((q) => Array.from(q));
    const filters: { name: string; where: Record<string, unknown> | undefined }[] = [
      { name: 'unfiltered', where: undefined },
      { name: 'where 1%', where: { bucket: 7 } },
    ];

    // ---- in process: semvec/chroma, the layer the server uses, one query at a time ----
    progress('in-process queries');
    const inProcess: Record<string, { p50: number; p99: number; qps: number }> = {};
    const injected: Record<string, { p50: number; p99: number; qps: number }> = {};
    {
      const client = new ChromaClient({ path: dir });
      const c = await client.getCollection({ name: 'bench' });
      // The server's own handling, without the network: Fastify's inject on a server in this process.
      const server = await createServer({ client: await client.client() });
      for (const f of filters) {
        const path = `${DB}/collections/${c.id}/query`;
        const bodies = qRows.map((q) => JSON.stringify({ query_embeddings: [q], n_results: K, include: ['distances', 'metadatas'], ...(f.where ? { where: f.where } : {}) }));
        const call = (i: number) => server.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json' }, payload: bodies[i % bodies.length] });
        for (let i = 0; i < 20; i++) await call(i);
        const times: number[] = [];
        const start = now();
        for (let i = 0; now() - start < v.seconds; i++) {
          const t = now();
          const res = await call(i);
          times.push(now() - t);
          if (res.statusCode !== 200) throw new Error(`inject: HTTP ${res.statusCode}: ${res.body}`);
        }
        injected[f.name] = { p50: quantile(times, 0.5) * 1e3, p99: quantile(times, 0.99) * 1e3, qps: times.length / (now() - start) };
      }
      await server.close();
      for (const f of filters) {
        for (let i = 0; i < 20; i++) await c.query({ queryEmbeddings: [qRows[i % qRows.length]!], nResults: K, where: f.where as never });
        const times: number[] = [];
        const start = now();
        for (let i = 0; now() - start < v.seconds; i++) {
          const t = now();
          await c.query({ queryEmbeddings: [qRows[i % qRows.length]!], nResults: K, where: f.where as never });
          times.push(now() - t);
        }
        const total = now() - start;
        inProcess[f.name] = { p50: quantile(times, 0.5) * 1e3, p99: quantile(times, 0.99) * 1e3, qps: times.length / total };
      }
      await client.close();
    }

    // ---- over HTTP ----
    progress('starting semvec serve');
    const { child, url } = await startServer(dir);
    const pid = child.pid as number;
    const get = async (path: string) => (await fetch(url + path)).json();
    const { id } = (await get(`${DB}/collections/bench`)) as { id: string };
    const headers = { 'content-type': 'application/json' };
    const rows: Record<string, unknown>[] = [];
    const sequential: Record<string, { p50: number; p99: number; qps: number }> = {};
    let heartbeat = { p50: 0, p99: 0, qps: 0 };
    try {
      {
        // The floor of one HTTP round trip here: a heartbeat, one at a time.
        progress('heartbeat, sequential');
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const times: number[] = [];
        const start = now();
        while (now() - start < Math.min(3, v.seconds)) {
          const t = now();
          await new Promise<void>((resolve, reject) => {
            request({ agent, host: new URL(url).hostname, port: new URL(url).port, path: '/api/v2/heartbeat' }, (res) => {
              res.on('data', () => undefined);
              res.on('end', resolve);
            }).on('error', reject).end();
          });
          times.push(now() - t);
        }
        heartbeat = { p50: quantile(times, 0.5) * 1e3, p99: quantile(times, 0.99) * 1e3, qps: times.length / (now() - start) };
        agent.destroy();
      }
      for (const f of filters) {
        const bodies = qRows.map((q) => JSON.stringify({ query_embeddings: [q], n_results: K, include: ['distances', 'metadatas'], ...(f.where ? { where: f.where } : {}) }));
        const requests = bodies.map((body) => ({ method: 'POST', path: `${DB}/collections/${id}/query`, headers, body }));
        await autocannon({ url, connections: 2, amount: 50, requests }); // warm-up
        // One connection, one query at a time, each timed (autocannon's latencies are whole milliseconds).
        progress(`${f.name}, sequential`);
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const times: number[] = [];
        const start = now();
        for (let i = 0; now() - start < v.seconds; i++) {
          const t = now();
          await post(agent, new URL(url), `${DB}/collections/${id}/query`, bodies[i % bodies.length]!);
          times.push(now() - t);
        }
        sequential[f.name] = { p50: quantile(times, 0.5) * 1e3, p99: quantile(times, 0.99) * 1e3, qps: times.length / (now() - start) };
        agent.destroy();
        for (const connections of v.connections) {
          progress(`${f.name}, ${connections} connection${connections > 1 ? 's' : ''}`);
          await get('/semvec/stats?reset=1');
          const cpu0 = cpuSeconds(pid);
          const t0 = now();
          const r = await autocannon({ url, connections, duration: v.seconds, requests });
          const cores = (cpuSeconds(pid) - cpu0) / (now() - t0);
          const stats = (await get('/semvec/stats')) as { event_loop_delay: { p99_ms: number; max_ms: number } };
          rows.push({ kind: 'query', filter: f.name, connections, qps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, loopP99: stats.event_loop_delay.p99_ms, loopMax: stats.event_loop_delay.max_ms, cores, errors: r.errors + r.non2xx });
        }
      }
      // ---- adds of 100 ----
      progress(`adds: ${v.adds} x ${BATCH}`);
      const addBodies = Array.from({ length: v.adds }, (_, b) => {
        const from = v.n + b * BATCH;
        return JSON.stringify({
          ids: Array.from({ length: BATCH }, (_, j) => `a${from + j}`),
          embeddings: Array.from({ length: BATCH }, (_, j) => Array.from(data.subarray((from + j) * v.dim, (from + j + 1) * v.dim))),
          metadatas: Array.from({ length: BATCH }, (_, j) => ({ bucket: (from + j) % 100 })),
        });
      });
      let next = 0;
      for (const connections of [1, 8]) {
        const share = connections === 1 ? Math.floor(v.adds / 3) : v.adds - Math.floor(v.adds / 3);
        await get('/semvec/stats?reset=1');
        const cpu0 = cpuSeconds(pid);
        const t0 = now();
        const r = await autocannon({
          url,
          connections,
          amount: share,
          requests: [{ method: 'POST', path: `${DB}/collections/${id}/add`, headers, setupRequest: (req: object) => ({ ...req, body: addBodies[next++] }) }],
        });
        const seconds = now() - t0;
        const cores = (cpuSeconds(pid) - cpu0) / seconds;
        const stats = (await get('/semvec/stats')) as { event_loop_delay: { p99_ms: number; max_ms: number } };
        rows.push({ kind: 'add', filter: `batches of ${BATCH}`, connections, qps: (r.requests.total / seconds) * BATCH, p50: r.latency.p50, p99: r.latency.p99, loopP99: stats.event_loop_delay.p99_ms, loopMax: stats.event_loop_delay.max_ms, cores, errors: r.errors + r.non2xx });
      }
      const count = (await get(`${DB}/collections/${id}/count`)) as number;
      if (count !== v.n + v.adds * BATCH) throw new Error(`after the adds the collection holds ${count} records; expected ${v.n + v.adds * BATCH}`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }

    // ---- report ----
    report.heading('Queries and adds over HTTP (semvec serve) and in process (semvec/chroma)');
    report.table(
      ['run', 'connections', 'QPS / records/s', 'p50 ms', 'p99 ms', 'server loop p99 ms', 'loop max ms', 'server cores', 'errors'],
      [
        ['heartbeat, HTTP', '1 (sequential)', fmtQps(heartbeat.qps), fmt(heartbeat.p50, 3), fmt(heartbeat.p99, 3), '-', '-', '-', '0'],
        ...filters.flatMap((f) => [
          [`${f.name}, in process`, '1 (sequential)', fmtQps(inProcess[f.name]!.qps), fmt(inProcess[f.name]!.p50, 3), fmt(inProcess[f.name]!.p99, 3), '-', '-', '-', '0'],
          [`${f.name}, server in process`, '1 (sequential)', fmtQps(injected[f.name]!.qps), fmt(injected[f.name]!.p50, 3), fmt(injected[f.name]!.p99, 3), '-', '-', '-', '0'],
          [`${f.name}, HTTP`, '1 (sequential)', fmtQps(sequential[f.name]!.qps), fmt(sequential[f.name]!.p50, 3), fmt(sequential[f.name]!.p99, 3), '-', '-', '-', '0'],
        ]),
        ...rows.map((r) => [
          `${r.filter}${r.kind === 'add' ? ' (adds)' : ''}`,
          String(r.connections),
          r.kind === 'add' ? fmtInt(r.qps as number) : fmtQps(r.qps as number),
          fmt(r.p50 as number, 2),
          fmt(r.p99 as number, 2),
          fmt(r.loopP99 as number, 2),
          fmt(r.loopMax as number, 1),
          fmt(r.cores as number, 2),
          String(r.errors),
        ]),
      ],
    );
    report.text('Sequential rows: one query at a time, each timed (HTTP: node:http on one kept-alive connection). Other rows: autocannon, whose latencies are whole milliseconds.');
    const verdicts: [string, string][] = [];
    for (const f of filters) {
      const http1 = rows.find((r) => r.kind === 'query' && r.filter === f.name && r.connections === 1);
      if (!http1) continue;
      const httpMs = sequential[f.name]!.p50;
      const inMs = inProcess[f.name]!.p50;
      const overhead = httpMs - inMs;
      verdicts.push([`HTTP overhead, ${f.name}`, `${fmt(overhead, 3)} ms per query at p50 (${fmt(httpMs, 3)} ms over HTTP, one query at a time, vs ${fmt(inMs, 3)} ms in process; an empty round trip, heartbeat: ${fmt(heartbeat.p50, 3)} ms) — target < ${OVERHEAD_TARGET_MS} ms: ${verdict(overhead < OVERHEAD_TARGET_MS)}`]);
      const handling = injected[f.name]!.p50 - inMs;
      verdicts.push([`server handling, ${f.name}`, `${fmt(handling, 3)} ms per query at p50 (routing, JSON, schema, auth hooks; Fastify inject in process, no network: ${fmt(injected[f.name]!.p50, 3)} ms vs ${fmt(inMs, 3)} ms)`]);
      const best = rows.filter((r) => r.kind === 'query' && r.filter === f.name).sort((a, b) => (b.qps as number) - (a.qps as number))[0]!;
      verdicts.push([
        `scaling, ${f.name}`,
        `best ${fmtQps(best.qps as number)} QPS at ${best.connections} connections = ${fmt((best.qps as number) / (http1.qps as number), 2)}x one connection; server busy ${fmt(best.cores as number, 2)} cores — target >= ${CORES_TARGET} of 2: ${verdict((best.cores as number) >= CORES_TARGET)}`,
      ]);
    }
    report.heading('Targets');
    report.list(verdicts);
    report.text(
      "Chroma's own server needs glibc 2.39 and cannot run on this machine (Debian 12, glibc 2.36), so it is not measured here; no published single-node figures are compared.",
    );
    console.log(`  load      ${loadText()} (1, 5, 15 min) at the end`);
    writeJson(v.out, { machine, params: { ...v }, loadBefore, loadAfter: os.loadavg(), inProcess, injected, sequential, heartbeat, http: rows, verdicts });
    console.log(`  results   ${v.out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runMain('bench/serve-http.ts', main);

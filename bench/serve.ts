/**
 * bench/serve.ts (npm run bench:serve): one collection directory served by
 * many processes, one writer and read-only readers (Client.open readOnly),
 * each a child process (bench/serve/child.ts). Measured in this run:
 *   - memory: the proportional set size (PSS, /proc/<pid>/smaps_rollup) of
 *     the writer and every reader, with snapshots mapped (mmap, default)
 *     and each process holding its own copy (mmap: false), against the
 *     size of the index;
 *   - open time of a reader, with and without verify, and what verifying
 *     costs per GB;
 *   - query throughput of 1, 2, ... reader processes against one;
 *   - staleness: from the writer's acknowledged add to a reader seeing it,
 *     while the writer adds at full speed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '../src/index.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { CLUSTERED, draw } from './lib/data.js';
import { fmt, fmtBytes, fmtInt, progress, table, verdict } from './lib/format.js';
import { machineInfo, printMachine, probeLimits } from './lib/machine.js';
import { writeJson } from './lib/report.js';
import { median, quantile } from './lib/timing.js';

const COMMAND = {
  script: 'bench/serve.ts',
  npm: 'bench:serve',
  summary: 'one collection, many processes: memory, open time, throughput and staleness of read-only readers beside a writer',
  options: {
    n: option.int('records', { full: '1000000', quick: '100000' }),
    dim: option.int('dimensions', '384'),
    readers: option.int('reader processes', '4'),
    seconds: option.int('seconds of each throughput and staleness run', { full: '5', quick: '2' }),
    index: option.choices('collection index kinds, comma-separated', ['flat', 'ivf'] as const, 'flat'),
    out: option.path('JSON results', 'bench/results/serve.json'),
  },
};

const childScript = fileURLToPath(new URL('./serve/child.ts', import.meta.url));

interface Child {
  proc: ChildProcess;
  ready: { openMs: number; firstQueryMs: number };
  next(filter: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  messages: Record<string, unknown>[];
}

async function start(dir: string, role: 'writer' | 'reader' | 'bare', mmap: boolean, verify: boolean, dim: number): Promise<Child> {
  const proc = fork(childScript, [dir, role, mmap ? '1' : '0', verify ? '1' : '0', String(dim)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: Record<string, unknown>[] = [];
  const waiters: [(m: Record<string, unknown>) => boolean, (m: Record<string, unknown>) => void][] = [];
  proc.on('message', (m: Record<string, unknown>) => {
    messages.push(m);
    const i = waiters.findIndex(([f]) => f(m));
    if (i >= 0) waiters.splice(i, 1)[0]![1](m);
  });
  const next = (filter: (m: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      waiters.push([filter, resolve]);
      proc.once('exit', (code) => reject(new Error(`a ${role} process exited (${code})`)));
    });
  const ready = (await next((m) => m.ready === true)) as unknown as Child['ready'];
  return { proc, ready, next, messages };
}

async function stop(children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((resolve) => {
    c.proc.once('exit', resolve);
    c.proc.send({ cmd: 'exit' });
  })));
}

/** PSS, RSS and private (unshared) bytes of a process. */
function memoryOf(pid: number): { pss: number; rss: number; private: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { pss: kb('Pss'), rss: kb('Rss'), private: kb('Private_Clean') + kb('Private_Dirty') };
}

async function build(dir: string, kind: 'flat' | 'ivf', n: number, dim: number): Promise<number> {
  progress(`building a ${kind} collection of ${fmtInt(n)} x ${dim} in ${dir}`);
  const { data } = draw(CLUSTERED, dim, n, 0, false);
  const client = await Client.open(dir);
  const col = await client.createCollection('bench', { metric: 'l2', index: kind });
  const chunk = 20_000;
  for (let from = 0; from < n; from += chunk) {
    const m = Math.min(chunk, n - from);
    await col.add({ ids: Array.from({ length: m }, (_, i) => `r${from + i}`), embeddings: data.subarray(from * dim, (from + m) * dim) });
  }
  await client.close();
  const snapshots = join(dir, 'indexes');
  return readdirSync(snapshots).reduce((s, f) => s + statSync(join(snapshots, f)).size, 0);
}

interface KindResult {
  kind: string;
  indexBytes: number;
  memory: Record<'mapped' | 'copies', { pss: number[]; rss: number[]; private: number[]; total: number }>;
  /** Private bytes of a Node process with semvec and a client, no collection: what any reader costs before the index. */
  barePrivate: number;
  openMs: { verify: number; noVerify: number; verifyMsPerGb: number };
  qps: { readers: number; total: number; perProcess: number }[];
  staleness: { medianMs: number; p99Ms: number; samples: number; added: number };
}

async function measureKind(kind: 'flat' | 'ivf', p: { n: number; dim: number; readers: number; seconds: number }): Promise<KindResult> {
  const dir = mkdtempSync(join(tmpdir(), `semvec-bench-serve-${kind}-`));
  try {
    const indexBytes = await build(dir, kind, p.n, p.dim);
    const memory = {} as KindResult['memory'];
    let barePrivate = 0;
    for (const mmap of [true, false]) {
      progress(`${kind}: memory of 1 writer + ${p.readers} readers (${mmap ? 'mapped' : 'a copy each'})`);
      const writer = await start(dir, 'writer', mmap, false, p.dim);
      const readers: Child[] = [];
      for (let i = 0; i < p.readers; i++) readers.push(await start(dir, 'reader', mmap, false, p.dim));
      const bare = await start(dir, 'bare', mmap, false, p.dim);
      const all = [writer, ...readers].map((c) => memoryOf(c.proc.pid!));
      if (mmap) barePrivate = memoryOf(bare.proc.pid!).private;
      memory[mmap ? 'mapped' : 'copies'] = {
        pss: all.map((m) => m.pss),
        rss: all.map((m) => m.rss),
        private: all.map((m) => m.private),
        total: all.reduce((s, m) => s + m.pss, 0),
      };
      await stop([writer, ...readers, bare]);
    }

    progress(`${kind}: reader open time, with and without verify`);
    const writer = await start(dir, 'writer', true, false, p.dim);
    const opens = { verify: [] as number[], noVerify: [] as number[] };
    for (let i = 0; i < 3; i++) {
      for (const verify of [true, false]) {
        const r = await start(dir, 'reader', true, verify, p.dim);
        opens[verify ? 'verify' : 'noVerify'].push(r.ready.openMs);
        await stop([r]);
      }
    }
    const openMs = { verify: median(opens.verify), noVerify: median(opens.noVerify), verifyMsPerGb: 0 };
    openMs.verifyMsPerGb = (openMs.verify - openMs.noVerify) / (indexBytes / 1e9);

    const qps: KindResult['qps'] = [];
    const counts = [...new Set([1, 2, p.readers])].filter((c) => c <= p.readers);
    const readers: Child[] = [];
    for (let i = 0; i < Math.max(...counts); i++) readers.push(await start(dir, 'reader', true, false, p.dim));
    for (const c of counts) {
      progress(`${kind}: query throughput of ${c} reader process${c > 1 ? 'es' : ''}`);
      const results = await Promise.all(readers.slice(0, c).map((r) => {
        r.proc.send({ cmd: 'qps', seconds: p.seconds, queries: 200 });
        return r.next((m) => 'qps' in m);
      }));
      const total = results.reduce((s, m) => s + (m.qps as number), 0);
      qps.push({ readers: c, total, perProcess: total / c });
    }

    progress(`${kind}: staleness while the writer adds at full speed`);
    const watcher = readers[0]!;
    watcher.proc.send({ cmd: 'watch', seconds: p.seconds + 1 });
    writer.proc.send({ cmd: 'ingest', seconds: p.seconds, batch: 100 });
    const added = (await writer.next((m) => m.done === true)).added as number;
    await watcher.next((m) => m.done === true);
    const acked = writer.messages.filter((m) => 'acked' in m) as unknown as { acked: number; at: number }[];
    const seen = watcher.messages.filter((m) => 'seen' in m) as unknown as { seen: number; at: number }[];
    const lags = acked.flatMap(({ acked: seq, at }) => {
      const first = seen.find((s) => s.seen >= seq);
      return first ? [Math.max(0, first.at - at)] : [];
    });
    await stop([writer, ...readers]);
    return {
      kind,
      indexBytes,
      memory,
      barePrivate,
      openMs,
      qps,
      staleness: { medianMs: median(lags), p99Ms: quantile(lags, 0.99), samples: lags.length, added },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function print(r: KindResult, readers: number, readGbps: number): void {
  const { mapped, copies } = r.memory;
  console.log(`\n${r.kind} collection: index snapshot ${fmtBytes(r.indexBytes)}`);
  console.log(
    table(
      ['processes', 'PSS mapped', 'PSS a copy each', 'private mapped', 'private a copy each'],
      mapped.pss.map((pss, i) => [i === 0 ? 'writer' : `reader ${i}`, fmtBytes(pss), fmtBytes(copies.pss[i]!), fmtBytes(mapped.private[i]!), fmtBytes(copies.private[i]!)]).concat([
        ['total', fmtBytes(mapped.total), fmtBytes(copies.total), '', ''],
      ]),
    ),
  );
  // What the readers add beyond one copy: their private (unshared) bytes, less those of a bare Node process each.
  const beyondOne = mapped.private.slice(1).reduce((x, y) => x + y, 0) - readers * r.barePrivate;
  console.log(
    `  all ${readers + 1} processes: ${fmtBytes(mapped.total)} PSS mapped, ${fmtBytes(copies.total)} with a copy each (${fmt(copies.total / mapped.total, 2)}x); ` +
      `beyond a bare Node process each (${fmtBytes(r.barePrivate)} private), the readers' private bytes add ${fmtBytes(beyondOne)} = ` +
      `${fmt((100 * beyondOne) / r.indexBytes, 1)}% of the index (target <= 10%: ${verdict(beyondOne <= 0.1 * r.indexBytes)})`,
  );
  console.log(
    `  reader open: ${fmt(r.openMs.noVerify, 1)} ms without verify (target < 50 ms: ${verdict(r.openMs.noVerify < 50)}), ${fmt(r.openMs.verify, 1)} ms with verify; ` +
      `verify costs ${fmt(r.openMs.verifyMsPerGb, 0)} ms per GB`,
  );
  const one = r.qps[0]!.total;
  const bytesPerQuery = r.kind === 'flat' ? r.indexBytes : undefined;
  console.log(
    table(
      ['readers', 'QPS total', 'QPS per process', 'vs 1 reader'],
      r.qps.map((q) => [String(q.readers), fmt(q.total, 1), fmt(q.perProcess, 1), `${fmt(q.total / one, 2)}x`]),
    ),
  );
  if (bytesPerQuery) console.log(`  bandwidth bound (a flat query reads the whole index): ${fmt((readGbps * 1e9) / bytesPerQuery, 1)} QPS at ${fmt(readGbps, 1)} GB/s`);
  console.log(`  staleness (writer ack -> reader sees it, writer adding ${fmtInt(r.staleness.added)} records at full speed): median ${fmt(r.staleness.medianMs, 1)} ms, p99 ${fmt(r.staleness.p99Ms, 1)} ms (${r.staleness.samples} samples)`);
}

async function main(): Promise<void> {
  const v = parseCommand(COMMAND);
  const p = { n: v.n, dim: v.dim, readers: v.readers, seconds: v.seconds };
  const machine = machineInfo();
  console.log(`semvec one collection, many processes${v.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(`  params    N ${fmtInt(p.n)}; dim ${p.dim}; ${p.readers} readers + 1 writer; ${p.seconds} s per run; index ${v.index.join(', ')}`);
  const limits = probeLimits({ probeBytes: v.quick ? 256 * 2 ** 20 : 2 ** 30, probeRepeats: 3, fmaSeconds: 0.2 }, 'before');
  const results: KindResult[] = [];
  for (const kind of v.index) results.push(await measureKind(kind, p));
  for (const r of results) print(r, p.readers, limits.readAllGbps);
  writeJson(v.out, { benchmark: 'semvec one collection, many processes (bench/serve.ts)', machine, limits, params: p, results });
  console.log(`\nResults written to ${v.out}`);
}

await runMain(COMMAND.script, main);

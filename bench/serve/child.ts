/**
 * bench/serve/child.ts: one process of bench/serve.ts, driven over IPC.
 * argv: <dir> <role: writer | reader | bare> <mmap: 1 | 0> <verify: 1 | 0> <dim>
 * (bare: a baseline process that opens a read-only client and nothing else)
 *
 * On start it opens the directory (a reader read-only), gets the
 * collection, runs one query (touching every page of a flat index) and
 * sends { ready, openMs, firstQueryMs }. Then it answers messages:
 *   { cmd: 'qps', seconds, queries }  single queries in a loop -> { qps, count }
 *   { cmd: 'ingest', seconds, batch } (writer) adds batches at full speed,
 *                                     sending { acked: seq, at } per batch
 *   { cmd: 'watch', seconds }         (reader) refresh() in a loop, sending
 *                                     { seen: seq, at } when seq moves
 *   { cmd: 'exit' }
 * Times `at` are epoch milliseconds (performance.timeOrigin + now()), the
 * same clock in every process.
 */
import { Client } from '../../src/index.js';
import { mulberry32, gaussianRow } from '../lib/data.js';

const [dir, role, mmapArg, verifyArg, dimArg] = process.argv.slice(2) as [string, string, string, string, string];
const dim = Number(dimArg);
const send = (m: unknown) => process.send?.(m);
const epochMs = () => performance.timeOrigin + performance.now();

/** n standard-normal vectors. */
function queries(n: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  const out = new Float32Array(n * dim);
  const zero = new Float32Array(dim);
  for (let i = 0; i < n; i++) gaussianRow(out, i * dim, dim, zero, 0, 1, rand);
  return Array.from({ length: n }, (_, i) => Array.from(out.subarray(i * dim, (i + 1) * dim)));
}

if (role === 'bare') {
  // A baseline: Node with semvec and a read-only client, no collection opened.
  const client = await Client.open(dir, { readOnly: true });
  send({ ready: true, openMs: 0, firstQueryMs: 0 });
  process.on('message', async () => {
    await client.close();
    process.exit(0);
  });
} else {
  await serve();
}

async function serve(): Promise<void> {
const t0 = performance.now();
const client = await Client.open(dir, { readOnly: role === 'reader', mmap: mmapArg === '1', verify: verifyArg === '1', refreshMs: 0 });
const col = await client.getCollection('bench');
const openMs = performance.now() - t0;
const t1 = performance.now();
await col.query({ queryEmbeddings: queries(1, 99), nResults: 10, include: [] });
send({ ready: true, openMs, firstQueryMs: performance.now() - t1 });

process.on('message', async (m: { cmd: string; seconds?: number; queries?: number; batch?: number }) => {
  const until = performance.now() + (m.seconds ?? 0) * 1000;
  if (m.cmd === 'qps') {
    const qs = queries(m.queries ?? 100, process.pid);
    let count = 0;
    const start = performance.now();
    while (performance.now() < until) await col.query({ queryEmbeddings: [qs[count++ % qs.length] as number[]], nResults: 10, include: [] });
    send({ qps: (count * 1000) / (performance.now() - start), count });
  } else if (m.cmd === 'ingest') {
    const batch = m.batch ?? 100;
    let next = 0;
    while (performance.now() < until) {
      const embeddings = queries(batch, next + 7);
      await col.add({ ids: embeddings.map((_, i) => `ingest-${process.pid}-${next + i}`), embeddings });
      next += batch;
      send({ acked: col.seq, at: epochMs() });
    }
    send({ done: true, added: next });
  } else if (m.cmd === 'watch') {
    let last = col.seq;
    while (performance.now() < until) {
      const seq = await col.refresh();
      if (seq > last) send({ seen: seq, at: epochMs() });
      last = seq;
      await new Promise((r) => setImmediate(r));
    }
    send({ done: true });
  } else if (m.cmd === 'exit') {
    await client.close();
    process.exit(0);
  }
});
}

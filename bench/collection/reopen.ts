/**
 * bench/collection/reopen.ts: closing and reopening a collection. close()
 * (which snapshots the index), then Client.open + getCollection + a first
 * query, timed per step, in four states: from the valid snapshot; after a
 * child added records and was killed without close (caught up from the
 * change log); with the snapshot deleted (rebuilt from SQLite); and once more
 * after that rebuilt client was closed.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client, FlatIndex } from '../../src/index.js';
import type { Collection } from '../../src/index.js';
import { sample, type Mixture } from '../lib/data.js';
import { fmtInt, progress } from '../lib/format.js';
import { collectGarbage } from '../lib/machine.js';
import { now } from '../lib/timing.js';
import { fileBytes, K, type Params } from './measure.js';
import { CATCHUP_RECORDS, COLLECTION, SEEDS, TARGET_CASE } from './records.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.ts');

export interface ReopenStep {
  openMs: number;
  getCollectionMs: number;
  firstQueryMs: number;
  totalSeconds: number;
  count: number;
  snapshotFiles: number; // .svx files in indexes/ before the open
}

export interface ReopenResult {
  closeWithSnapshotSeconds: number;
  snapshotBytes: number;
  snapshotLoadSeconds: number; // FlatIndex.load of the snapshot file alone
  fromSnapshot: ReopenStep & { firstFilteredQueryMs: number };
  catchUp: ReopenStep & {
    childOpenAndGetMs: number;
    childAddMs: number;
    childExit: string;
    added: number;
    countOk: boolean;
    newRecordFound: boolean;
    closeSeconds: number;
  };
  rebuild: ReopenStep & { closeSeconds: number; snapshotWrittenAtClose: boolean };
  afterRebuildClose: ReopenStep;
}

function snapshotFiles(dir: string): string[] {
  return readdirSync(join(dir, 'indexes')).filter((f) => f.endsWith('.svx'));
}

async function timedReopen(dir: string, query: Float32Array): Promise<{ client: Client; col: Collection; step: ReopenStep }> {
  const files = snapshotFiles(dir).length;
  const t0 = now();
  const client = await Client.open(dir);
  const t1 = now();
  const col = await client.getCollection(COLLECTION);
  const t2 = now();
  await col.query({ queryEmbeddings: query, nResults: K });
  const t3 = now();
  return {
    client,
    col,
    step: {
      openMs: (t1 - t0) * 1e3,
      getCollectionMs: (t2 - t1) * 1e3,
      firstQueryMs: (t3 - t2) * 1e3,
      totalSeconds: t3 - t0,
      count: await col.count(),
      snapshotFiles: files,
    },
  };
}

/** Closes a client, timed, then collects the garbage it leaves. */
async function timedClose(client: Client): Promise<number> {
  const t0 = now();
  await client.close();
  const seconds = now() - t0;
  collectGarbage();
  return seconds;
}

/** Runs bench/collection/child.ts, which adds records to `dir` and is killed without close. */
function runCatchUpChild(p: Params, dir: string): { openAndGetMs: number; addMs: number; exit: string } {
  const r = spawnSync(process.execPath, [...process.execArgv, CHILD, '--dir', dir, '--dim', String(p.dim)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the catch-up child printed no result (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
  const out = JSON.parse(line) as { openAndGetMs: number; addMs: number };
  return { ...out, exit: r.signal ?? `status ${r.status}` };
}

/** close() with its snapshot, and FlatIndex.load of that snapshot alone (the native share of a reopen). */
async function closeWithSnapshot(dir: string, client: Client, n: number) {
  progress(`N=${fmtInt(n)}: close (snapshot)`);
  let t0 = now();
  await client.close();
  const closeWithSnapshotSeconds = now() - t0;
  const snaps = snapshotFiles(dir);
  const snapshotBytes = snaps.reduce((s, f) => s + fileBytes(join(dir, 'indexes', f)), 0);
  t0 = now();
  const loaded = snaps.length === 1 ? FlatIndex.load(join(dir, 'indexes', snaps[0]!)).size : -1;
  const snapshotLoadSeconds = now() - t0;
  if (loaded !== n) throw new Error(`the snapshot holds ${loaded} vectors; expected ${n}`);
  collectGarbage();
  return { closeWithSnapshotSeconds, snapshotBytes, snapshotLoadSeconds };
}

/** 1. From the valid snapshot, with the first filtered query after it (metadata columns rebuilt). */
async function fromSnapshot(dir: string, qs: readonly Float32Array[], n: number): Promise<ReopenResult['fromSnapshot']> {
  progress(`N=${fmtInt(n)}: reopen from the snapshot`);
  const r = await timedReopen(dir, qs[0]!);
  const t0 = now();
  await r.col.query({ queryEmbeddings: qs[1]!, nResults: K, where: TARGET_CASE.where });
  const step = { ...r.step, firstFilteredQueryMs: (now() - t0) * 1e3 };
  await timedClose(r.client);
  return step;
}

/** 2. A child adds records and dies without close: the reopen catches up from the change log. */
async function catchUp(p: Params, dir: string, qs: readonly Float32Array[], n: number, mixture: Mixture): Promise<ReopenResult['catchUp']> {
  progress(`N=${fmtInt(n)}: child adds ${fmtInt(CATCHUP_RECORDS)} records and is killed; reopen catches up`);
  const child = runCatchUpChild(p, dir);
  const r = await timedReopen(dir, qs[0]!);
  const late = sample(mixture, 1, SEEDS.catchup); // the child's first record
  const [hit] = await r.col.query({ queryEmbeddings: late, nResults: 1, include: [] });
  const newRecordFound = hit?.[0]?.id === 'c0';
  const closeSeconds = await timedClose(r.client); // snapshots again (1,000 changes pending)
  return {
    ...r.step,
    childOpenAndGetMs: child.openAndGetMs,
    childAddMs: child.addMs,
    childExit: child.exit,
    added: CATCHUP_RECORDS,
    countOk: r.step.count === n + CATCHUP_RECORDS,
    newRecordFound,
    closeSeconds,
  };
}

/** Every close and reopen, in order, on the collection the client holds. */
export async function measureReopen(p: Params, dir: string, client: Client, qs: readonly Float32Array[], n: number, mixture: Mixture): Promise<ReopenResult> {
  const closed = await closeWithSnapshot(dir, client, n);
  const snapshot = await fromSnapshot(dir, qs, n);
  const caughtUp = await catchUp(p, dir, qs, n, mixture);

  // 3. Without the snapshot file: rebuilt from SQLite.
  progress(`N=${fmtInt(n)}: delete the snapshot; reopen rebuilds from SQLite`);
  for (const f of snapshotFiles(dir)) rmSync(join(dir, 'indexes', f));
  let r = await timedReopen(dir, qs[0]!);
  const closeSeconds = await timedClose(r.client);
  const rebuild = { ...r.step, closeSeconds, snapshotWrittenAtClose: snapshotFiles(dir).length > 0 };

  // 4. Once more: did that close leave a snapshot to load?
  progress(`N=${fmtInt(n)}: reopen after the rebuilt client was closed`);
  r = await timedReopen(dir, qs[0]!);
  await timedClose(r.client);
  return { ...closed, fromSnapshot: snapshot, catchUp: caughtUp, rebuild, afterRebuildClose: r.step };
}

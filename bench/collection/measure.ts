/**
 * bench/collection/measure.ts: filling a collection and querying it. Every
 * add call is timed; every timed query is checked: each result satisfies the
 * filter, and the ids equal an exact top-10 over just the matching
 * embeddings.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { Client, FlatIndex } from '../../src/index.js';
import type { Collection, Metric, QueryMatch, Where, WhereDocument } from '../../src/index.js';
import { fmt, fmtInt, fmtMs, progress } from '../lib/format.js';
import { collectGarbage } from '../lib/machine.js';
import { mean, median, now, quantile, sum } from '../lib/timing.js';
import { CASES, COLLECTION, recordsInput, type Attributes, type QueryCase } from './records.js';

export const K = 10;
export const WARMUP = 2;

export interface Params {
  sizes: number[];
  dim: number;
  queries: number;
  batch: number;
  metric: Metric;
  out: string;
  quick: boolean;
  tmp: string;
  keep: boolean;
  documentBudgetSeconds: number;
}

/** One size's records: embeddings (first n rows), attributes, queries and their views. */
export interface Records {
  n: number;
  data: Float32Array;
  attrs: Attributes;
  queries: Float32Array;
  /** The queries' views, then WARMUP more (the first ones again). */
  qs: readonly Float32Array[];
}

export interface LatencyStats {
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  meanMs: number;
  samples: number;
}

export function stats(seconds: readonly number[]): LatencyStats {
  return {
    medianMs: median(seconds) * 1e3,
    p95Ms: quantile(seconds, 0.95) * 1e3,
    maxMs: Math.max(...seconds) * 1e3,
    meanMs: mean(seconds) * 1e3,
    samples: seconds.length,
  };
}

export function fileBytes(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

export interface AddResult {
  records: number;
  batchSize: number;
  batches: number;
  seconds: number;
  recordsPerSecond: number;
  batchMs: LatencyStats;
  firstBatchMs: number;
  lastBatchMs: number;
  databaseBytes: number;
  walBytes: number;
  rssBytes: number;
}

export interface Verification {
  queries: number;
  exact: number; // result ids equal the exact top-k
  tieEquivalent: number; // differ only by the order of equal scores
  mismatched: number;
  filterViolations: number; // results not satisfying the filter
  shortResults: number; // fewer than min(k, matching) results
}

export interface QueryResult {
  name: string;
  where?: Where;
  whereDocument?: WhereDocument;
  matching: number;
  selectivity: number;
  nominal: number;
  latency: LatencyStats;
  verification: Verification;
  target: boolean;
}

// -------------------------------------------------------------------- add ---

/** A new collection in `dir`, filled by collection.add in batches of p.batch, each call timed. */
export async function addRecords(p: Params, dir: string, r: Records): Promise<{ client: Client; col: Collection; add: AddResult }> {
  const { dim } = p;
  const { n } = r;
  const client = await Client.open(dir);
  const col = await client.createCollection(COLLECTION, { metric: p.metric });
  const batchTimes: number[] = [];
  const addStart = now();
  for (let from = 0; from < n; from += p.batch) {
    const to = Math.min(n, from + p.batch);
    const input = recordsInput(r.attrs, r.data, dim, from, to);
    // An empty collection without an embedder does not know its dim, and
    // then add rejects a flat Float32Array: the first batch goes as rows.
    const embeddings = from === 0 ? Array.from({ length: to - from }, (_, j) => input.embeddings.subarray(j * dim, (j + 1) * dim)) : input.embeddings;
    const t0 = now();
    await col.add({ ...input, embeddings });
    batchTimes.push(now() - t0);
    if (batchTimes.length % 10 === 0) progress(`N=${fmtInt(n)}: added ${fmtInt(to)} (last batch ${fmtMs(batchTimes[batchTimes.length - 1]! * 1e3)})`);
  }
  const addSeconds = now() - addStart; // includes building each batch's input
  const addTotal = sum(batchTimes);
  const db = join(dir, 'semvec.db');
  const add: AddResult = {
    records: n,
    batchSize: p.batch,
    batches: batchTimes.length,
    seconds: addTotal,
    recordsPerSecond: n / addTotal,
    batchMs: stats(batchTimes),
    firstBatchMs: batchTimes[0]! * 1e3,
    lastBatchMs: batchTimes[batchTimes.length - 1]! * 1e3,
    databaseBytes: fileBytes(db),
    walBytes: fileBytes(`${db}-wal`),
    rssBytes: process.memoryUsage().rss,
  };
  progress(`N=${fmtInt(n)}: add took ${fmt(addTotal, 1)} s in add calls (${fmt(addSeconds, 1)} s with input building)`);
  return { client, col, add };
}

// ---------------------------------------------------------------- queries ---

/** Times `count` single queries (queries[i]); stops early past `budget` seconds (at least 5 run). */
async function timeQueries(col: Collection, qs: readonly Float32Array[], c: QueryCase, count: number, budgetSeconds: number) {
  const query = (q: Float32Array) => col.query({ queryEmbeddings: q, nResults: K, where: c.where, whereDocument: c.whereDocument });
  for (let i = 0; i < WARMUP; i++) await query(qs[qs.length - 1 - i]!);
  const times: number[] = [];
  const results: QueryMatch[][] = [];
  const start = now();
  for (let i = 0; i < count; i++) {
    const t0 = now();
    const r = await query(qs[i]!);
    times.push(now() - t0);
    results.push(r[0] ?? []);
    if (i + 1 >= 5 && now() - start > budgetSeconds) break;
  }
  return { times, results };
}

/** An exact index over just the records matching the case (ids = record numbers); how many match. */
function exactIndexOf(p: Params, r: Records, c: QueryCase): { exact: FlatIndex; matching: number } {
  const { dim } = p;
  const exact = new FlatIndex({ dim, metric: p.metric });
  if (c.where === undefined && c.whereDocument === undefined) {
    exact.add(r.data.subarray(0, r.n * dim));
    return { exact, matching: r.n };
  }
  const CHUNK = 50_000;
  let matching = 0;
  let ids: number[] = [];
  const flush = (): void => {
    if (ids.length === 0) return;
    const x = new Float32Array(ids.length * dim);
    ids.forEach((id, j) => x.set(r.data.subarray(id * dim, (id + 1) * dim), j * dim));
    exact.add(x, ids);
    ids = [];
  };
  for (let i = 0; i < r.n; i++) {
    if (!c.matches(r.attrs, i)) continue;
    ids.push(i);
    matching++;
    if (ids.length === CHUNK) flush();
  }
  flush();
  return { exact, matching };
}

/** The exact top-k over the matching records against the results. */
function verify(p: Params, r: Records, c: QueryCase, results: QueryMatch[][]): { matching: number; verification: Verification } {
  const { exact, matching } = exactIndexOf(p, r, c);
  const v: Verification = { queries: results.length, exact: 0, tieEquivalent: 0, mismatched: 0, filterViolations: 0, shortResults: 0 };
  if (matching === 0) {
    for (const got of results) if (got.length > 0) v.filterViolations += got.length;
    v.exact = results.filter((got) => got.length === 0).length;
    v.mismatched = results.length - v.exact;
    return { matching, verification: v };
  }
  const truth = exact.searchBatch(r.queries.subarray(0, results.length * p.dim), K);
  results.forEach((got, qi) => {
    const t = truth[qi]!;
    for (const m of got) {
      const i = Number(m.id.slice(1));
      if (!m.id.startsWith('r') || !Number.isInteger(i) || i >= r.n || !c.matches(r.attrs, i) || !c.accepts(m)) v.filterViolations++;
    }
    if (got.length < Math.min(K, matching)) v.shortResults++;
    const ids = got.map((m) => Number(m.id.slice(1)));
    if (ids.length === t.ids.length && ids.every((id, j) => id === t.ids[j])) {
      v.exact++;
    } else if (
      got.length === t.ids.length &&
      got.every((m, j) => Math.abs(m.score - t.scores[j]!) <= 1e-6 * Math.max(1, Math.abs(t.scores[j]!))) &&
      new Set(ids).size === ids.length
    ) {
      v.tieEquivalent++; // same scores rank by rank: only equal-score records swapped
    } else {
      v.mismatched++;
    }
  });
  return { matching, verification: v };
}

/** Every query case, timed over the queries, each result verified. */
export async function measureQueries(p: Params, col: Collection, r: Records): Promise<QueryResult[]> {
  const out: QueryResult[] = [];
  for (const c of CASES) {
    progress(`N=${fmtInt(r.n)}: ${c.name}`);
    const budget = c.whereDocument ? p.documentBudgetSeconds : Infinity;
    const { times, results } = await timeQueries(col, r.qs, c, r.queries.length / p.dim, budget);
    const { matching, verification } = verify(p, r, c, results);
    collectGarbage();
    out.push({
      name: c.name,
      where: c.where,
      whereDocument: c.whereDocument,
      matching,
      selectivity: matching / r.n,
      nominal: c.nominal,
      latency: stats(times),
      verification,
      target: c.target === true,
    });
  }
  return out;
}

/**
 * bench/collection/run.ts: one collection at one N, in a fresh directory:
 * add, the first filtered query (which builds the metadata columns), the
 * timed and verified queries, then close and the reopens; judged against
 * the targets at N = 1,000,000.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { Mixture } from '../lib/data.js';
import { fmtInt, progress } from '../lib/format.js';
import { now } from '../lib/timing.js';
import { K, addRecords, measureQueries, type AddResult, type Params, type QueryResult, type Records } from './measure.js';
import { TARGET_CASE } from './records.js';
import { measureReopen, type ReopenResult } from './reopen.js';

export const FILTERED_TARGET_MS = 20; // median of the 1% where query at 1M, under
export const REOPEN_TARGET_S = 3; // open + getCollection + first query at 1M, under
export const TARGET_N = 1_000_000;

export interface SizeResult {
  n: number;
  add: AddResult;
  columnsBuild: { firstFilteredQueryMs: number; filter: string; steadyMedianMs: number; buildMsEstimate: number };
  queries: QueryResult[];
  reopen: ReopenResult;
  targets: {
    filtered1pct: { medianMs: number; targetMs: number; pass: boolean };
    reopen: { seconds: number; targetSeconds: number; pass: boolean };
    judged: boolean; // n === TARGET_N
  };
}

export async function benchN(p: Params, r: Records, mixture: Mixture): Promise<SizeResult> {
  const { n } = r;
  const dir = mkdtempSync(join(p.tmp, `semvec-bench-collection-${n}-`));
  progress(`N=${fmtInt(n)}: collection in ${dir}`);
  try {
    const { client, col, add } = await addRecords(p, dir, r);
    const t0 = now();
    await col.query({ queryEmbeddings: r.qs[0]!, nResults: K, where: TARGET_CASE.where });
    const firstFilteredQueryMs = (now() - t0) * 1e3;
    const queries = await measureQueries(p, col, r);
    const reopen = await measureReopen(p, dir, client, r.qs, n, mixture);
    const filtered = queries.find((q) => q.target)!.latency.medianMs;
    const reopenSeconds = reopen.fromSnapshot.totalSeconds;
    return {
      n,
      add,
      columnsBuild: { firstFilteredQueryMs, filter: TARGET_CASE.name, steadyMedianMs: filtered, buildMsEstimate: firstFilteredQueryMs - filtered },
      queries,
      reopen,
      targets: {
        filtered1pct: { medianMs: filtered, targetMs: FILTERED_TARGET_MS, pass: filtered < FILTERED_TARGET_MS },
        reopen: { seconds: reopenSeconds, targetSeconds: REOPEN_TARGET_S, pass: reopenSeconds < REOPEN_TARGET_S },
        judged: n === TARGET_N,
      },
    };
  } finally {
    if (!p.keep) rmSync(dir, { recursive: true, force: true });
    else progress(`kept ${dir}`);
  }
}

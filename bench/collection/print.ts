/** bench/collection/print.ts: bench:collection's tables: each N (add, queries, reopens) and the summary with its targets. */
import { fmt, fmtBytes, fmtInt, fmtMs, table, verdict } from '../lib/format.js';
import { K, type Params, type Verification } from './measure.js';
import { CASES } from './records.js';
import type { ReopenResult, ReopenStep } from './reopen.js';
import { FILTERED_TARGET_MS, REOPEN_TARGET_S, TARGET_N, type SizeResult } from './run.js';

function verificationText(v: Verification): string {
  const ok = v.filterViolations === 0 && v.mismatched === 0 && v.shortResults === 0;
  const ties = v.tieEquivalent > 0 ? ` + ${v.tieEquivalent} ties` : '';
  return `${v.exact}${ties}/${v.queries} ${ok ? 'ok' : `FAIL (${v.mismatched} differ, ${v.filterViolations} violate, ${v.shortResults} short)`}`;
}

function reopenRow(name: string, s: ReopenStep): string[] {
  return [name, fmtMs(s.openMs), fmtMs(s.getCollectionMs), fmtMs(s.firstQueryMs), `${fmt(s.totalSeconds, 2)} s`, fmtInt(s.count)];
}

function printQueries(r: SizeResult): void {
  console.log('\n  Single queries (one query embedding, nResults 10, include documents + metadatas)');
  console.log(
    table(
      ['', 'matching', 'median', 'p95', 'max', 'samples', 'exact top-10'],
      r.queries.map((q) => [
        q.name,
        `${fmtInt(q.matching)} (${fmt(q.selectivity * 100, q.selectivity < 0.01 ? 2 : 1)}%)`,
        fmtMs(q.latency.medianMs),
        fmtMs(q.latency.p95Ms),
        fmtMs(q.latency.maxMs),
        String(q.latency.samples),
        verificationText(q.verification),
      ]),
      '    ',
    ),
  );
}

function printReopen(ro: ReopenResult): void {
  console.log(`\n  Reopen (Client.open + getCollection + first unfiltered query; close with snapshot took ${fmt(ro.closeWithSnapshotSeconds, 2)} s)`);
  console.log(
    table(
      ['', 'open', 'getCollection', '1st query', 'total', 'count'],
      [
        reopenRow('from the snapshot', ro.fromSnapshot),
        reopenRow(`after ${fmtInt(ro.catchUp.added)} adds, no close (catch-up)`, ro.catchUp),
        reopenRow('snapshot deleted (rebuild from SQLite)', ro.rebuild),
        reopenRow('again, after closing the rebuilt one', ro.afterRebuildClose),
      ],
      '    ',
    ),
  );
  console.log(
    `    FlatIndex.load of the ${fmtBytes(ro.snapshotBytes)} snapshot alone: ${fmt(ro.snapshotLoadSeconds, 2)} s ` +
      `(${fmt(ro.snapshotBytes / ro.snapshotLoadSeconds / 2 ** 20, 0)} MiB/s)`,
  );
  console.log(`    first filtered query after reopen (columns rebuilt from SQLite): ${fmtMs(ro.fromSnapshot.firstFilteredQueryMs)}`);
  const cu = ro.catchUp;
  console.log(
    `    catch-up child: open + getCollection ${fmtMs(cu.childOpenAndGetMs)}, add ${fmtMs(cu.childAddMs)}, exit ${cu.childExit}; ` +
      `after reopen count ${cu.countOk ? 'ok' : 'WRONG'}, new record ${cu.newRecordFound ? 'found' : 'NOT FOUND'}; close ${fmt(cu.closeSeconds, 2)} s`,
  );
  console.log(
    `    after the rebuild, close ${fmt(ro.rebuild.closeSeconds, 2)} s, snapshot written: ${ro.rebuild.snapshotWrittenAtClose ? 'yes' : 'NO (the next open rebuilds again)'}`,
  );
}

export function printSize(r: SizeResult, p: Params): void {
  const a = r.add;
  console.log(`\nN = ${fmtInt(r.n)}  (dim ${p.dim}, ${p.metric}, nResults ${K}; embeddings ${fmtBytes(r.n * p.dim * 4)})`);
  console.log(
    `  add             ${fmtInt(a.recordsPerSecond)} records/s  (${fmt(a.seconds, 1)} s, ${a.batches} batches of ${fmtInt(a.batchSize)}; ` +
      `per batch median ${fmtMs(a.batchMs.medianMs)}, p95 ${fmtMs(a.batchMs.p95Ms)}, max ${fmtMs(a.batchMs.maxMs)}; first ${fmtMs(a.firstBatchMs)}, last ${fmtMs(a.lastBatchMs)})`,
  );
  console.log(`  storage         database ${fmtBytes(a.databaseBytes)} + WAL ${fmtBytes(a.walBytes)}; snapshot ${fmtBytes(r.reopen.snapshotBytes)}; process rss after add ${fmtBytes(a.rssBytes)}`);
  console.log(
    `  first filtered query (${r.columnsBuild.filter}) ${fmtMs(r.columnsBuild.firstFilteredQueryMs)}: ` +
      `builds the metadata columns, ~${fmtMs(r.columnsBuild.buildMsEstimate)} over the steady median`,
  );
  printQueries(r);
  printReopen(r.reopen);
}

export function printSummary(results: SizeResult[]): void {
  console.log('\nSummary');
  const q = (r: SizeResult, name: string): string => fmtMs(r.queries.find((x) => x.name === name)?.latency.medianMs ?? NaN);
  console.log(
    table(
      ['N', 'add rec/s', 'unfiltered', '50%', '5%', '1%', '0.1%', '1% (3 fields)', '$contains', 'cols build', 'reopen', 'catch-up', 'rebuild'],
      results.map((r) => [
        fmtInt(r.n),
        fmtInt(r.add.recordsPerSecond),
        ...CASES.map((c) => q(r, c.name)),
        fmtMs(r.columnsBuild.buildMsEstimate),
        `${fmt(r.reopen.fromSnapshot.totalSeconds, 2)} s`,
        `${fmt(r.reopen.catchUp.totalSeconds, 2)} s`,
        `${fmt(r.reopen.rebuild.totalSeconds, 2)} s`,
      ]),
    ),
  );
  console.log('  (query columns: median latency; reopen = open + getCollection + first query)');
  const at = results.find((r) => r.targets.judged);
  console.log(`\nTargets (N = ${fmtInt(TARGET_N)})`);
  if (!at) {
    console.log(`  not judged: N = ${fmtInt(TARGET_N)} was not run`);
    return;
  }
  const t = at.targets;
  console.log(`  1% where query, median       ${fmtMs(t.filtered1pct.medianMs)}   target < ${FILTERED_TARGET_MS} ms   ${verdict(t.filtered1pct.pass)}`);
  console.log(`  reopen from a valid snapshot ${fmt(t.reopen.seconds, 2)} s   target < ${REOPEN_TARGET_S} s   ${verdict(t.reopen.pass)}`);
}

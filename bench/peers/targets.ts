/** bench/peers/targets.ts: bench:peers' targets (TARGETS), each judged PASS or MISS from the measured numbers. */
import { fmt, fmtInt, fmtMs, fmtQps, fmtRatio, verdict } from '../lib/format.js';
import type { Report } from '../lib/report.js';
import { fastest, type ApproxLib, type ApproxRun, type Pick } from './approximate.js';
import type { ExactResult } from './exact.js';
import { TARGETS, type Lib } from './settings.js';

export interface TargetResult {
  name: string;
  measured: string;
  pass: boolean | null; // null: not measured in this run
}

/** A target met when ratio >= min (null ratio: not measured). */
function ratioTarget(name: string, ratio: number | null, min: number, measured: string): TargetResult {
  return { name, measured, pass: ratio === null ? null : ratio >= min };
}

export function exactTargets(exact: ExactResult): TargetResult[] {
  const semvec = exact.rows[0]!;
  const batchOver = (lib: Lib, min: number): TargetResult => {
    const peer = exact.rows.find((e) => e.lib === lib);
    const ratio = peer ? semvec.batchQps / peer.batchQps : null;
    const measured = peer ? `semvec ${fmtInt(semvec.batchQps)} QPS, ${lib} ${fmtInt(peer.batchQps)} QPS: ${fmtRatio(ratio)}` : `${lib} not run`;
    return ratioTarget(`exact batch QPS >= ${min}x ${lib}`, ratio, min, measured);
  };
  const peers = exact.rows.filter((e) => e.lib !== 'semvec');
  const best = peers.reduce((a, b) => (b.single.medianMs < a.single.medianMs ? b : a));
  const ratio = best.single.medianMs / semvec.single.medianMs;
  return [
    batchOver('faiss', TARGETS.exactBatchOverFaiss),
    batchOver('usearch', TARGETS.exactBatchOverUsearch),
    ratioTarget(
      `exact single-query latency >= ${TARGETS.exactSingleOverBestPeer}x lower than the best peer's`,
      ratio,
      TARGETS.exactSingleOverBestPeer,
      `semvec ${fmtMs(semvec.single.medianMs)}, best peer ${best.lib} ${fmtMs(best.single.medianMs)}: ${fmtRatio(ratio)}`,
    ),
  ];
}

/**
 * semvec's single-query QPS at recall@10 >= TARGETS.recall (its fastest
 * setting reaching it) against the fastest of the peers; a peer that never
 * reaches the level counts as beaten, semvec not reaching it as a miss.
 */
function qpsAtRecallTarget(
  name: string,
  semvec: ApproxLib,
  peers: readonly ApproxLib[],
  min: number,
  level: number = TARGETS.recall,
  by: 'single' | 'batch' = 'single',
): TargetResult {
  if (peers.length === 0) return { name, measured: 'peer not run', pass: null };
  const qps = (x: NonNullable<Pick>): number => (by === 'single' ? x.singleQps : x.batchQps);
  const mine = fastest(semvec, level, by);
  if (mine === null) {
    const top = Math.max(...semvec.rows.map((r) => r.recall));
    return { name, measured: `${semvec.label} does not reach recall ${level} (best ${fmt(top, 4)})`, pass: false };
  }
  const at = (label: string, x: NonNullable<Pick>): string => `${label} ${fmtQps(qps(x))} QPS (${x.setting}, recall ${fmt(x.recall, 3)})`;
  const reached = peers.flatMap((peer) => {
    const pick = fastest(peer, level, by);
    return pick ? [{ peer, pick }] : [];
  });
  if (reached.length === 0) {
    return { name, measured: `${at(semvec.label, mine)}; ${peers.map((x) => x.label).join(', ')}: recall ${level} not reached`, pass: true };
  }
  const best = reached.reduce((a, b) => (qps(b.pick) > qps(a.pick) ? b : a));
  const ratio = qps(mine) / qps(best.pick);
  return ratioTarget(name, ratio, min, `${at(semvec.label, mine)}, ${at(best.peer.label, best.pick)}: ${fmtRatio(ratio)}`);
}

/** Targets on the hard data at N, for each semvec IVF configuration. */
export function approximateTargets(run: ApproxRun | undefined): TargetResult[] {
  if (run === undefined) {
    return [{ name: 'approximate targets (hard data)', measured: 'not measured: run with --difficulty hard and without --no-approximate', pass: null }];
  }
  const where = `(hard, N = ${fmtInt(run.n)})`;
  const faissIvf = run.libs.filter((a) => a.lib === 'faiss' && a.setting === 'nprobe');
  const hnsws = run.libs.filter((a) => a.lib !== 'semvec' && a.setting === 'ef');
  return run.libs
    .filter((a) => a.lib === 'semvec' && a.setting === 'nprobe')
    .flatMap((s) => {
      const prefix = `at recall@10 >= ${TARGETS.recall} ${where}: ${s.label} single-query QPS`;
      return [
        qpsAtRecallTarget(`${prefix} >= ${TARGETS.ivfOverFaissIvf}x FAISS IVF`, s, faissIvf, TARGETS.ivfOverFaissIvf),
        qpsAtRecallTarget(`${prefix} >= the best HNSW peer`, s, hnsws, TARGETS.ivfOverBestHnsw),
        ...hnsws.map((h) => {
          const ratio = h.buildSeconds / s.buildSeconds;
          return ratioTarget(
            `${s.label} build <= 1/${TARGETS.hnswBuildOverIvfBuild} of ${h.label} build ${where}`,
            ratio,
            TARGETS.hnswBuildOverIvfBuild,
            `${fmtMs(s.buildSeconds * 1e3)} vs ${fmtMs(h.buildSeconds * 1e3)}: 1/${fmt(ratio, 1)}`,
          );
        }),
      ];
    });
}

/**
 * The graph index's targets on one data set: at each of TARGETS.graphRecalls,
 * single-query QPS >= TARGETS.graphSingleOverBestPeer x the best peer's and
 * batch QPS >= the best peer's; its build within TARGETS.graphBuildOverIvf x
 * semvec IVF's.
 */
export function graphTargets(run: ApproxRun): TargetResult[] {
  const graph = run.libs.find((a) => a.lib === 'semvec' && a.setting === 'ef');
  const ivf = run.libs.find((a) => a.lib === 'semvec' && a.setting === 'nprobe');
  if (!graph) return [];
  const where = `(${run.difficulty}, N = ${fmtInt(run.n)})`;
  const peers = run.libs.filter((a) => a.lib !== 'semvec');
  const out = TARGETS.graphRecalls.flatMap((level) => [
    qpsAtRecallTarget(
      `at recall@10 >= ${level} ${where}: ${graph.label} single-query QPS >= ${TARGETS.graphSingleOverBestPeer}x the best peer`,
      graph,
      peers,
      TARGETS.graphSingleOverBestPeer,
      level,
      'single',
    ),
    qpsAtRecallTarget(`at recall@10 >= ${level} ${where}: ${graph.label} batch QPS >= the best peer`, graph, peers, 1, level, 'batch'),
  ]);
  if (ivf) {
    const ratio = (TARGETS.graphBuildOverIvf * ivf.buildSeconds) / graph.buildSeconds;
    out.push(
      ratioTarget(
        `${graph.label} build <= ${TARGETS.graphBuildOverIvf}x ${ivf.label} build ${where}`,
        ratio,
        1,
        `${fmtMs(graph.buildSeconds * 1e3)} vs ${fmtMs(ivf.buildSeconds * 1e3)}: ${fmt(graph.buildSeconds / ivf.buildSeconds, 2)}x`,
      ),
    );
  }
  return out;
}

export function printTargets(report: Report, targets: readonly TargetResult[]): void {
  report.heading('Targets (judged on the measured numbers)');
  report.table(
    ['result', 'target', 'measured'],
    targets.map((t) => [t.pass === null ? 'n/a' : verdict(t.pass), t.name, t.measured]),
    { left: 3 },
  );
}

/** bench/ivf/targets.ts: bench:ivf's targets, judged on the measured numbers. */
import type { Difficulty } from '../lib/data.js';
import { fmt, fmtInt, verdict } from '../lib/format.js';
import { runLabel, type RunResult } from './measure.js';

/** Targets, judged on the run with N = TARGETS.n and difficulty TARGETS.difficulty. */
export const TARGETS = {
  n: 1_000_000,
  difficulty: 'hard' as Difficulty,
  recall: 0.95, // recall@10 at least ...
  speedup: 20, // ... at this many times the flat index's single-query QPS
  buildSeconds: 60, // train + add, under
  nprobe1RecallBelow: 0.6, // the data must be hard: nprobe 1 finds less than this
} as const;

export interface TargetResult {
  name: string;
  run: string;
  measured: string;
  limit: string;
  value: number | null;
  pass: boolean | null; // null: not measured in this run
}

/** recall@10 >= TARGETS.recall at >= TARGETS.speedup x the flat index, per encoding at the target run. */
function speedTargets(targets: readonly RunResult[]): TargetResult[] {
  const speed = `>= ${TARGETS.speedup}x flat single-query QPS`;
  const name = `recall@10 >= ${TARGETS.recall} at ${speed}`;
  if (targets.length === 0) {
    return [{ name, run: runLabel(TARGETS.difficulty, TARGETS.n), measured: 'not in this run', limit: speed, value: null, pass: null }];
  }
  return targets.map((target): TargetResult => {
    const run = runLabel(target.difficulty, target.n, target.encoding);
    const at = target.atRecall.find((a) => a.level === TARGETS.recall);
    if (at === undefined || !at.reached) {
      const best = at?.reached === false ? at.bestRecall : 0;
      return { name, run, measured: `recall ${TARGETS.recall} not reached (best ${fmt(best, 3)})`, limit: speed, value: null, pass: false };
    }
    return {
      name,
      run,
      measured: `nprobe ${at.nprobe}: recall ${fmt(at.recall, 3)}, ${fmt(at.singleSpeedup, 1)}x`,
      limit: speed,
      value: at.singleSpeedup,
      pass: at.singleSpeedup >= TARGETS.speedup,
    };
  });
}

/** Train + add under TARGETS.buildSeconds, on every run at the target N. */
function buildTargets(runs: readonly RunResult[]): TargetResult[] {
  const name = `train + add < ${TARGETS.buildSeconds} s`;
  const limit = `< ${TARGETS.buildSeconds} s`;
  const atN = runs.filter((r) => r.n === TARGETS.n);
  if (atN.length === 0) return [{ name, run: `N = ${fmtInt(TARGETS.n)}`, measured: 'not in this run', limit, value: null, pass: null }];
  return atN.map((r) => ({
    name,
    run: runLabel(r.difficulty, r.n, r.encoding),
    measured: `${fmt(r.ivf.train.seconds, 1)} + ${fmt(r.ivf.add.seconds, 1)} = ${fmt(r.ivf.buildSeconds, 1)} s`,
    limit,
    value: r.ivf.buildSeconds,
    pass: r.ivf.buildSeconds < TARGETS.buildSeconds,
  }));
}

export function judgeTargets(runs: readonly RunResult[]): TargetResult[] {
  const targets = runs.filter((r) => r.n === TARGETS.n && r.difficulty === TARGETS.difficulty);
  // The data check, on the first encoding run (the coarse quantizer is the same).
  const first = targets[0];
  const np1 = first?.ivf.rows.find((row) => row.nprobe === 1);
  return [
    ...speedTargets(targets),
    ...buildTargets(runs),
    {
      name: `nprobe 1 recall@10 < ${TARGETS.nprobe1RecallBelow} (data is hard)`,
      run: first ? runLabel(first.difficulty, first.n, first.encoding) : runLabel(TARGETS.difficulty, TARGETS.n),
      measured: np1 ? fmt(np1.recall, 3) : 'not in this run',
      limit: `< ${TARGETS.nprobe1RecallBelow}`,
      value: np1?.recall ?? null,
      pass: np1 ? np1.recall < TARGETS.nprobe1RecallBelow : null,
    },
  ];
}

export function printTargets(targets: readonly TargetResult[]): void {
  console.log('\nTargets (judged on the measured numbers)');
  const width = Math.max(...targets.map((t) => t.name.length));
  for (const t of targets) {
    const result = t.pass === null ? 'not measured' : verdict(t.pass);
    console.log(`  ${result.padEnd(4)}  ${t.name.padEnd(width)}  ${t.run}: ${t.measured}`);
  }
}

/** The line under a hard run's recall levels: whether nprobe 1 finds little enough for the data to count as hard. */
export function difficultyCheck(r: RunResult): string | null {
  if (r.difficulty !== TARGETS.difficulty) return null;
  const np1 = r.ivf.rows.find((row) => row.nprobe === 1);
  if (!np1) return null;
  const hard = np1.recall < TARGETS.nprobe1RecallBelow;
  const judged = r.n === TARGETS.n;
  return (
    `  difficulty check: nprobe 1 recall ${fmt(np1.recall, 3)} ${hard ? '<' : '>='} ${TARGETS.nprobe1RecallBelow}` +
    (judged ? (hard ? '  ok' : '  WARNING: the hard data is not hard enough') : `  (judged at N = ${fmtInt(TARGETS.n)} only)`)
  );
}

/**
 * bench/embed/operators.ts (bench:embed --operators): where does each
 * precision's time go inside onnxruntime? One pass of the same texts per
 * precision, in a session with onnxruntime's own profiler on; its kernel
 * times are summed by operator type (Node events named *_kernel_time).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { Embedder } from '../../src/index.js';
import { fmt, progress, table } from '../lib/format.js';
import { withSessionOptions } from './measure.js';
import { ONNX_FILES } from './model.js';
import type { Params, Precision } from './runs.js';

export interface OperatorTimes {
  dtype: Precision;
  /** Sum of every kernel's time, seconds. */
  kernelSeconds: number;
  /** Seconds per operator type, largest first. */
  operators: { op: string; seconds: number }[];
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

/** Kernel time by operator type in an onnxruntime profile file. */
function sumByOperator(path: string): { op: string; seconds: number }[] {
  const by = new Map<string, number>();
  for (const e of JSON.parse(readFileSync(path, 'utf8')) as ProfileEvent[]) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.args?.op_name === undefined) continue;
    by.set(e.args.op_name, (by.get(e.args.op_name) ?? 0) + (e.dur ?? 0) / 1e6);
  }
  return [...by].map(([op, seconds]) => ({ op, seconds })).sort((a, b) => b.seconds - a.seconds);
}

/** One profiled pass of `texts` (length-sorted batches, as the main runs) per precision. */
export async function profileOperators(p: Params, texts: string[]): Promise<OperatorTimes[]> {
  const out: OperatorTimes[] = [];
  for (const dtype of ['q8', 'fp32'] as const) {
    const dir = mkdtempSync(join(os.tmpdir(), 'semvec-embed-profile-'));
    try {
      progress(`operators: one profiled pass, ${dtype}`);
      const model = await withSessionOptions({ enableProfiling: true, profileFilePrefix: join(dir, dtype) }, () =>
        // onnxruntime's operators: semvec's own int8 encoder runs no ONNX session to profile.
        Embedder.load(p.modelDir, { threads: p.threads, dtype, onnxFile: ONNX_FILES[dtype], offline: true, engine: 'onnxruntime' }),
      );
      await model.embed(texts.slice(0, Math.min(texts.length, 50)), { batchSize: p.batch }); // warm-up, profiled too
      await model.embed(texts, { batchSize: p.batch });
      await model.close(); // the session writes its profile as it is released
      const file = readdirSync(dir).find((f) => f.startsWith(dtype) && f.endsWith('.json'));
      if (file === undefined) throw new Error(`onnxruntime wrote no profile in ${dir}`);
      const operators = sumByOperator(join(dir, file));
      out.push({ dtype, kernelSeconds: operators.reduce((a, o) => a + o.seconds, 0), operators });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

export function printOperators(profiles: OperatorTimes[], texts: number): void {
  const [q8, fp32] = profiles as [OperatorTimes, OperatorTimes];
  console.log(`\nWhere the time goes inside onnxruntime (its profiler; ${texts} texts, warm-up pass included; seconds and share of kernel time)`);
  const ops = [...new Set([...q8.operators, ...fp32.operators].map((o) => o.op))];
  const cell = (t: OperatorTimes, op: string) => {
    const s = t.operators.find((o) => o.op === op)?.seconds;
    return s === undefined ? '-' : `${fmt(s, 3)} (${fmt((100 * s) / t.kernelSeconds, 1)}%)`;
  };
  const rows = ops
    .map((op) => ({ op, weight: q8.operators.find((o) => o.op === op)?.seconds ?? 0 }))
    .sort((a, b) => b.weight - a.weight)
    .filter((r) => r.weight / q8.kernelSeconds >= 0.001 || (fp32.operators.find((o) => o.op === r.op)?.seconds ?? 0) / fp32.kernelSeconds >= 0.001)
    .map(({ op }) => [op, cell(q8, op), cell(fp32, op)]);
  rows.push(['all kernels', fmt(q8.kernelSeconds, 3), fmt(fp32.kernelSeconds, 3)]);
  console.log(table(['operator', 'q8 s', 'fp32 s'], rows));
  console.log(`  kernel time fp32 / q8 = ${fmt(fp32.kernelSeconds / q8.kernelSeconds, 2)}x`);
}

/**
 * bench/embed/levers.ts: what else could make semvec's int8 embedding
 * faster, each measured against semvec q8 on onnxruntime as it ships, in paired rounds
 * (base and lever back to back, the order alternating) so that a shared
 * machine's drift falls on both: batch sizes, onnxruntime session options,
 * and how much of a pass tokenising takes (the most that tokenising in a
 * worker thread, overlapped with inference, could save).
 */
import { Embedder } from '../../src/index.js';
import { fmt, fmtInt, fmtRatio, progress, table } from '../lib/format.js';
import { median, now } from '../lib/timing.js';
import { cosineStats, timePass, withSessionOptions, type Pass } from './measure.js';
import { ONNX_FILES } from './model.js';
import type { Params, Setup } from './runs.js';

export interface Lever {
  name: string;
  /** embed()'s batchSize (default: the main runs'). */
  batch?: number;
  /** Merged into semvec's InferenceSession options. */
  session?: Record<string, unknown>;
  /** embed()'s batchTokens (default: semvec's, DEFAULT_BATCH_TOKENS). */
  batchTokens?: number;
}

/** semvec's own session options: sessionOptions() in src/embedder/runtime.ts. */
export const LEVERS: readonly Lever[] = [
  { name: 'batch 16', batch: 16 },
  { name: 'batch 64', batch: 64 },
  { name: 'batch 128', batch: 128 },
  { name: 'no position cap (batches of 32 texts)', batchTokens: 1 << 24 },
  { name: 'batches of <= 512 positions', batchTokens: 512 },
  { name: 'batches of <= 2,048 positions', batchTokens: 2048 },
  { name: "graphOptimizationLevel 'extended'", session: { graphOptimizationLevel: 'extended' } },
  { name: "graphOptimizationLevel 'basic'", session: { graphOptimizationLevel: 'basic' } },
  { name: "executionMode 'parallel', 2 inter-op threads", session: { executionMode: 'parallel', interOpNumThreads: 2 } },
  { name: "intra-op spinning on (onnxruntime's default)", session: { extra: { session: { intra_op: { allow_spinning: '1' } } } } },
  { name: 'CPU memory arena off', session: { enableCpuMemArena: false } },
  { name: 'memory pattern off', session: { enableMemPattern: false } },
];

export interface LeverResult {
  name: string;
  batch: number;
  session: Record<string, unknown> | undefined;
  /** Per round: base seconds, lever seconds. */
  rounds: { base: Pass; lever: Pass }[];
  /** Median over rounds of base seconds / lever seconds: above 1, the lever is faster. */
  speedup: number;
  minCosineToBase: number;
}

export interface TokenisingShare {
  texts: number;
  tokeniseSeconds: number;
  passSeconds: number;
  /** tokenising / the q8 pass: the most overlapping it with inference could save. */
  share: number;
}

/** Each lever paired with semvec q8 on onnxruntime as it ships, on the first `leverTexts` texts. */
export async function measureLevers(p: Params, s: Setup): Promise<{ levers: LeverResult[]; tokenising: TokenisingShare }> {
  const texts = s.texts.slice(0, p.leverTexts);
  // The levers are onnxruntime's (session options, batch shapes): measured on semvec q8 on onnxruntime.
  const base = s.semvecOnnx;
  const baseRun = () => base.embed(texts, { batchSize: p.batch });
  const results: LeverResult[] = [];
  for (const lever of LEVERS) {
    const batch = lever.batch ?? p.batch;
    const model = lever.session
      ? await withSessionOptions(lever.session, () => Embedder.load(p.modelDir, { threads: p.threads, onnxFile: ONNX_FILES.q8, dtype: 'q8', offline: true, engine: 'onnxruntime' }))
      : base;
    try {
      const leverRun = () => model.embed(texts, { batchSize: batch, batchTokens: lever.batchTokens });
      progress(`lever: ${lever.name} (warm-up)`);
      await leverRun();
      const rounds: { base: Pass; lever: Pass }[] = [];
      let out: Float32Array | undefined;
      let ref: Float32Array | undefined;
      for (let r = 0; r < p.leverRounds; r++) {
        const pair: Partial<{ base: Pass; lever: Pass }> = {};
        for (const which of r % 2 === 0 ? (['base', 'lever'] as const) : (['lever', 'base'] as const)) {
          pair[which] = await timePass(async () => {
            const x = await (which === 'base' ? baseRun() : leverRun());
            if (which === 'base') ref = x;
            else out = x;
          });
        }
        rounds.push(pair as { base: Pass; lever: Pass });
        progress(`lever: ${lever.name}, round ${r + 1}/${p.leverRounds}: base ${fmt(pair.base!.seconds, 2)} s, lever ${fmt(pair.lever!.seconds, 2)} s`);
      }
      results.push({
        name: lever.name,
        batch,
        session: lever.session,
        rounds,
        speedup: median(rounds.map((r) => r.base.seconds / r.lever.seconds)),
        minCosineToBase: cosineStats(out as Float32Array, ref as Float32Array, s.dim, 0).min,
      });
    } finally {
      if (model !== base) await model.close();
    }
  }
  // Tokenising alone, as embed() does it (encode, truncate): the bound on what overlapping it could save.
  const t0 = now();
  for (const t of texts) base.countTokens(t);
  const tokeniseSeconds = now() - t0;
  const pass = await timePass(baseRun);
  return { levers: results, tokenising: { texts: texts.length, tokeniseSeconds, passSeconds: pass.seconds, share: tokeniseSeconds / pass.seconds } };
}

export function printLevers(p: Params, r: { levers: LeverResult[]; tokenising: TokenisingShare }): void {
  console.log(`\nLevers: each against semvec q8 on onnxruntime as it ships (batch ${p.batch}, ${p.threads} threads), ${fmtInt(p.leverTexts)} texts, ${p.leverRounds} paired rounds`);
  console.log(
    table(
      ['lever', 'base s / lever s per round', 'median speed-up', 'min cosine to base'],
      r.levers.map((l) => [
        l.name,
        l.rounds.map((x) => `${fmt(x.base.seconds, 2)}/${fmt(x.lever.seconds, 2)}`).join(' '),
        fmtRatio(l.speedup),
        fmt(l.minCosineToBase, 6),
      ]),
    ),
  );
  const t = r.tokenising;
  console.log(
    `  tokenising the ${fmtInt(t.texts)} texts alone: ${fmt(t.tokeniseSeconds, 3)} s of a ${fmt(t.passSeconds, 2)} s q8 pass (${fmt(100 * t.share, 1)}%): ` +
      'the most that tokenising in a worker thread, overlapped with inference, could save (less on 2 cores, where it competes with the runtime\'s threads)',
  );
}

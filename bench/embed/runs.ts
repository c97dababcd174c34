/**
 * bench/embed/runs.ts: the configurations bench:embed times and how. The
 * four main runs, interleaved for `reps` passes: semvec on the int8 export
 * (`dtype: 'q8'`, semvec's own encoder), the same file on onnxruntime
 * (`engine: 'onnxruntime'`), transformers.js with `dtype: 'q8'` on the same
 * file and the same length-sorted slices, and semvec on the fp32 model. The variants
 * (transformers.js q8 on slices in input order, semvec q8 with 1 thread) get
 * `variantReps` passes. Every configuration is warmed up on texts of all
 * lengths first; each best pass is then set against its batching plan's
 * FLOPs and the FMA peak.
 */
import type { FeatureExtractionPipeline } from '@huggingface/transformers';

import type { Embedder } from '../../src/index.js';
import { fmt, fmtInt, progress } from '../lib/format.js';
import type { FmaLimits } from '../lib/machine.js';
import { batching, cosineStats, timePass, type Batching, type Pass } from './measure.js';
import type { ModelShape } from './model.js';

const WARMUP_TEXTS = 96;

export interface Params {
  modelDir: string;
  generated: boolean; // the default random model (made if missing)
  texts: number;
  batch: number;
  reps: number;
  variantReps: number;
  threads: number;
  fmaSeconds: number;
  /** Texts per pass and paired rounds of the lever measurements (0 rounds: none). */
  leverTexts: number;
  leverRounds: number;
  /** One profiled pass per precision: time by onnxruntime operator type. */
  operators: boolean;
  out: string;
  quick: boolean;
}

export type Precision = 'q8' | 'fp32';

export interface Config {
  name: string;
  library: 'semvec' | 'transformers.js';
  dtype: Precision;
  batch: number;
  threads: number;
  order: 'length-sorted' | 'input';
  main: boolean; // one of the runs the targets compare
  /** What ran the model: onnxruntime, or semvec's own encoder (packed sequences: no padding, no InferenceSession.run). */
  engine: 'onnxruntime' | 'semvec';
}

export interface ConfigResult extends Config {
  passes: Pass[];
  best: Pass;
  textsPerSecond: number;
  batching: Batching;
  realGflops: number;
  executedGflops: number;
  fractionOfFmaPeak: number; // executed GFLOP/s over the FMA peak at the same thread count
  cpuUtilisation: number; // CPU seconds / wall seconds of the best pass
  outsideRunSeconds: number; // best pass time not inside InferenceSession.run
  minCosineToSemvecQ8: number;
}

type Runner = Config & { run: (list: readonly string[]) => Promise<Float32Array> };

/** The loaded libraries, the texts and their token counts (semvec's tokenizer). */
export interface Setup {
  /** semvec with all threads, per precision. */
  semvec: Record<Precision, Embedder>;
  /** semvec with 1 thread, per precision. */
  semvec1: Record<Precision, Embedder>;
  /** semvec q8 on onnxruntime (`engine: 'onnxruntime'`). */
  semvecOnnx: Embedder;
  /** transformers.js's feature-extraction pipeline with dtype 'q8'. */
  extractor: FeatureExtractionPipeline;
  /** The same with semvec's session options (intra-op threads that do not spin). */
  extractorAsSemvec: FeatureExtractionPipeline;
  dim: number;
  texts: string[];
  tokens: number[];
  /** Text indexes by token count (ties by index), and in input order. */
  sortedOrder: number[];
  inputOrder: number[];
}

/** transformers.js on consecutive slices of `batch` texts, in input order or sorted by token count. */
function transformersRunner(s: Setup, batch: number, sorted: boolean, extractor: FeatureExtractionPipeline = s.extractor) {
  return async (list: readonly string[]): Promise<Float32Array> => {
    const { dim } = s;
    const out = new Float32Array(list.length * dim);
    let order = list.map((_, i) => i);
    if (sorted) {
      // Sorted by token count, as semvec sorts (same tokenizer; counted up front, untimed, for the benchmark's texts).
      const tk = list === s.texts ? s.tokens : list.map((t) => s.semvec.q8.countTokens(t));
      order = order.sort((a, b) => (tk[a] as number) - (tk[b] as number) || a - b);
    }
    for (let from = 0; from < order.length; from += batch) {
      const rows = order.slice(from, from + batch);
      const result = await extractor(
        rows.map((i) => list[i] as string),
        { pooling: 'mean', normalize: true },
      );
      const data = result.data as Float32Array;
      rows.forEach((r, k) => out.set(data.subarray(k * dim, (k + 1) * dim), r * dim));
    }
    return out;
  };
}

/** The run of semvec q8 on onnxruntime. */
export const Q8_ONNX = 'semvec q8 on onnxruntime';

/** The main runs first (semvec q8, on onnxruntime, transformers.js q8 sorted, semvec fp32), then the variants. */
function configs(p: Params, s: Setup): Runner[] {
  const semvecRun = (model: Embedder, batch: number) => (list: readonly string[]) => model.embed(list, { batchSize: batch });
  const sorted = 'length-sorted' as const;
  const t = p.threads;
  const ort = 'onnxruntime' as const;
  return [
    { name: 'semvec q8', library: 'semvec', dtype: 'q8', batch: p.batch, threads: t, order: sorted, main: true, engine: s.semvec.q8.engine, run: semvecRun(s.semvec.q8, p.batch) },
    { name: Q8_ONNX, library: 'semvec', dtype: 'q8', batch: p.batch, threads: t, order: sorted, main: true, engine: ort, run: semvecRun(s.semvecOnnx, p.batch) },
    { name: 'transformers.js q8', library: 'transformers.js', dtype: 'q8', batch: p.batch, threads: t, order: sorted, main: true, engine: ort, run: transformersRunner(s, p.batch, true) },
    { name: 'semvec fp32', library: 'semvec', dtype: 'fp32', batch: p.batch, threads: t, order: sorted, main: true, engine: ort, run: semvecRun(s.semvec.fp32, p.batch) },
    { name: 'transformers.js q8, input order', library: 'transformers.js', dtype: 'q8', batch: p.batch, threads: t, order: 'input', main: false, engine: ort, run: transformersRunner(s, p.batch, false) },
    {
      name: "transformers.js q8, semvec's session options",
      library: 'transformers.js',
      dtype: 'q8',
      batch: p.batch,
      threads: t,
      order: sorted,
      main: false,
      engine: ort,
      run: transformersRunner(s, p.batch, true, s.extractorAsSemvec),
    },
    { name: 'semvec q8 1 thread', library: 'semvec', dtype: 'q8', batch: p.batch, threads: 1, order: sorted, main: false, engine: s.semvec1.q8.engine, run: semvecRun(s.semvec1.q8, p.batch) },
    { name: 'semvec fp32 1 thread', library: 'semvec', dtype: 'fp32', batch: p.batch, threads: 1, order: sorted, main: false, engine: ort, run: semvecRun(s.semvec1.fp32, p.batch) },
  ];
}

/** Texts of every length (the runtime's arena grows to the largest shapes), the longest last. */
export function warmupTexts(s: Setup): string[] {
  const { texts, sortedOrder } = s;
  const warm = sortedOrder.filter((_, k) => k % Math.max(1, Math.floor(texts.length / WARMUP_TEXTS)) === 0).map((i) => texts[i] as string);
  warm.push(texts[sortedOrder[sortedOrder.length - 1] as number] as string);
  return warm;
}

/** Every configuration warmed up, then timed: each one's passes and its first output. */
export async function runPasses(p: Params, s: Setup, warm: readonly string[]) {
  const all = configs(p, s);
  for (const c of all) {
    progress(`warm-up: ${c.name} (${warm.length} texts)`);
    await c.run(warm);
  }
  const passes = new Map<string, Pass[]>();
  const outputs = new Map<string, Float32Array>();
  const record = async (c: Runner): Promise<void> => {
    let out: Float32Array | undefined;
    const pass = await timePass(async () => {
      out = await c.run(s.texts);
    });
    passes.set(c.name, [...(passes.get(c.name) ?? []), pass]);
    if (!outputs.has(c.name) && out) outputs.set(c.name, out);
    progress(`${c.name}: ${fmt(pass.seconds, 2)} s (${fmtInt(s.texts.length / pass.seconds)} texts/s)`);
  };
  const mains = all.filter((c) => c.main);
  for (let r = 0; r < p.reps; r++) {
    // Interleaved, the order rotating, so drift on a shared machine hits each alike.
    for (const c of mains.map((_, i) => mains[(i + r) % mains.length] as Runner)) {
      progress(`pass ${r + 1}/${p.reps}: ${c.name}`);
      await record(c);
    }
  }
  for (const c of all.filter((x) => !x.main)) {
    for (let r = 0; r < p.variantReps; r++) {
      progress(`pass ${r + 1}/${p.variantReps}: ${c.name}`);
      await record(c);
    }
  }
  const configList: Config[] = all.map(({ run: _run, ...c }) => c);
  return { configs: configList, passes, outputs };
}

/** Each configuration's best pass against its batching plan, the FMA peak and semvec q8's output. */
export function configResults(
  s: Setup,
  shape: ModelShape,
  limits: FmaLimits,
  timedRuns: { configs: Config[]; passes: Map<string, Pass[]>; outputs: Map<string, Float32Array> },
): ConfigResult[] {
  const semvecQ8 = timedRuns.outputs.get('semvec q8') as Float32Array;
  return timedRuns.configs.map((c) => {
    const ps = timedRuns.passes.get(c.name) ?? [];
    const best = ps.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const padded = batching(s.tokens, c.order === 'input' ? s.inputOrder : s.sortedOrder, c.batch, shape);
    // semvec's encoder packs sequences: it runs the texts' own tokens only.
    const plan = c.engine === 'semvec' ? { ...padded, paddedTokens: padded.realTokens, executedGflop: padded.realGflop } : padded;
    const executedGflops = plan.executedGflop / best.seconds;
    return {
      ...c,
      passes: ps,
      best,
      textsPerSecond: s.texts.length / best.seconds,
      batching: plan,
      realGflops: plan.realGflop / best.seconds,
      executedGflops,
      fractionOfFmaPeak: executedGflops / (c.threads === 1 ? limits.fma1Gflops : limits.fmaAllGflops),
      cpuUtilisation: best.cpuSeconds / best.seconds,
      outsideRunSeconds: best.seconds - best.runSeconds,
      minCosineToSemvecQ8: cosineStats(timedRuns.outputs.get(c.name) as Float32Array, semvecQ8, s.dim, 0).min,
    };
  });
}

/** bench/embed/print.ts: bench:embed's header, tables, agreement and summary. */
import { fmt, fmtInt, table, verdict } from '../lib/format.js';
import type { FmaLimits } from '../lib/machine.js';
import type { Agreement, CosineStats } from './measure.js';
import { flopsPerToken, type ModelShape, type modelInfo } from './model.js';
import type { ConfigResult, Params, Setup } from './runs.js';
import { SEED, WORDS, type Kind } from './texts.js';

/** The targets: semvec q8 texts/s over its own fp32, and over transformers.js q8 on the same file and slices. */
export const TARGETS = { q8OverFp32: 2.5, overTransformers: 1.2 } as const;
/** The centred cosine of every text's q8 and fp32 vectors must reach this. */
export const FP32_AGREEMENT = 0.99;
/** A best pass with CPU time / wall time below this x threads had competition. */
export const BUSY_FRACTION = 0.8;

/** The machine facts bench:embed reports (its JSON's `machine`). */
export interface EmbedMachine {
  cpu: string;
  logicalCores: number;
  hardwareThreads: number;
  simd: string;
  totalMemoryGB: number;
  loadAverageAtStart: number[];
  node: string;
  platform: string;
  date: string;
}

export function printHeader(
  p: Params,
  machine: EmbedMachine,
  versions: { onnxruntimeNode: string; transformers: string },
  model: ReturnType<typeof modelInfo>,
  sessionOptions: { semvec: object; transformers: object },
): void {
  console.log(`semvec Embedder benchmark${p.quick ? ' (quick)' : ''}`);
  console.log(`  date      ${machine.date}`);
  console.log(`  cpu       ${machine.cpu}, ${machine.logicalCores} logical cores, ${fmt(machine.totalMemoryGB, 1)} GiB RAM, load avg ${machine.loadAverageAtStart.map((x) => fmt(x, 2)).join(' ')}`);
  console.log(`  node      ${machine.node}, ${machine.platform}; onnxruntime-node ${versions.onnxruntimeNode}, @huggingface/transformers ${versions.transformers}`);
  console.log(
    `  model     ${p.modelDir}${p.generated ? ' (RANDOM weights, all-MiniLM-L6-v2 architecture)' : ''}\n` +
      `            fp32 onnx/model.onnx ${fmt(model.fp32.bytes / 1e6, 1)} MB, sha256 ${model.fp32.sha256.slice(0, 16)}...; ` +
      `q8 onnx/model_quantized.onnx ${fmt(model.q8.bytes / 1e6, 1)} MB, sha256 ${model.q8.sha256.slice(0, 16)}...\n` +
      `            ${model.layers} layers, hidden ${model.hidden}, FFN ${model.intermediate}, ${model.heads} heads`,
  );
  console.log(`  session   semvec: ${JSON.stringify(sessionOptions.semvec)} (1-thread run: intraOpNumThreads 1)`);
  console.log(`            transformers.js: ${JSON.stringify(sessionOptions.transformers)}; its variant with semvec's options: ${JSON.stringify(sessionOptions.semvec)}`);
}

/** The texts: counts per kind, tokens, truncation, agreement of the two tokenizers' counts, an example. */
export function printTexts(s: Setup, kinds: readonly Kind[], words: readonly number[], tokenMismatches: number, tokenizeSeconds: number): void {
  const { texts, tokens } = s;
  const byKind = (k: Kind): string => {
    const idx = kinds.map((x, i) => (x === k ? i : -1)).filter((i) => i >= 0);
    const tk = idx.map((i) => tokens[i] as number);
    const ws = idx.map((i) => words[i] as number);
    return `${k} ${idx.length} (${Math.min(...ws)}-${Math.max(...ws)} words, ${Math.min(...tk)}-${Math.max(...tk)} tokens)`;
  };
  const totalTokens = tokens.reduce((a, b) => a + b, 0);
  const truncated = tokens.filter((t) => t >= s.semvec.q8.maxTokens).length;
  console.log(
    `  texts     ${fmtInt(texts.length)} generated (seed ${SEED}, ${WORDS.length}-word list): ${(['query', 'sentence', 'paragraph'] as const).map(byKind).join('; ')}\n` +
      `            ${fmtInt(totalTokens)} tokens, mean ${fmt(totalTokens / texts.length, 1)}, max ${Math.max(...tokens)} ` +
      `(maxTokens ${s.semvec.q8.maxTokens}: ${truncated} truncated); token counts semvec vs transformers.js: ` +
      `${tokenMismatches === 0 ? 'identical' : `${tokenMismatches} differ`}`,
  );
  console.log(`            tokenising them all once (semvec's encoder, untimed set-up): ${fmt(tokenizeSeconds * 1e3, 0)} ms`);
  console.log(`  example   ${JSON.stringify(texts.find((_, i) => kinds[i] === 'sentence'))}`);
}

/** The FMA peak, the FLOPs per token, and one row per configuration. */
export function printRuns(p: Params, shape: ModelShape, limits: { used: FmaLimits; before: FmaLimits; after: FmaLimits }, results: readonly ConfigResult[], count: number): void {
  const { used, before, after } = limits;
  console.log(
    `\nMachine: FMA peak ${fmt(used.fmaAllGflops, 1)} GFLOP/s with ${p.threads} threads, ${fmt(used.fma1Gflops, 1)} with 1 ` +
      `(probed before: ${fmt(before.fmaAllGflops, 1)} / ${fmt(before.fma1Gflops, 1)}, after: ${fmt(after.fmaAllGflops, 1)} / ${fmt(after.fma1Gflops, 1)}; best used)`,
  );
  console.log(
    `FLOPs per token: 2 x ${fmtInt(shape.matmulWeights)} matmul weights = ${fmt((2 * shape.matmulWeights) / 1e6, 1)} MFLOP ` +
      `+ attention ${shape.layers} x 4 x seq x ${shape.hidden} (${fmt((flopsPerToken(shape, 64) - 2 * shape.matmulWeights) / 1e6, 2)} MFLOP at seq 64)`,
  );
  console.log(`\nEmbedding ${fmtInt(count)} texts (best of ${p.reps} for the first three rows, ${p.variantReps} for the others)`);
  console.log(
    table(
      ['run', 'dtype', 'batch', 'thr', 'order', 'seconds', 'texts/s', 'real tok', 'padded tok', 'GFLOP/s real', 'GFLOP/s exec', '% peak', 'CPU/wall', 'in run()'],
      results.map((r) => [
        r.name,
        r.dtype,
        String(r.batch),
        String(r.threads),
        r.order,
        fmt(r.best.seconds, 2),
        fmtInt(r.textsPerSecond),
        fmtInt(r.batching.realTokens),
        fmtInt(r.batching.paddedTokens),
        fmt(r.realGflops, 1),
        fmt(r.executedGflops, 1),
        `${fmt(r.fractionOfFmaPeak * 100, 1)}%`,
        fmt(r.cpuUtilisation, 2),
        r.engine === 'semvec' ? '-' : `${fmt((r.best.runSeconds / r.best.seconds) * 100, 1)}%`,
      ]),
    ),
  );
  console.log(
    '  real tok: tokens of the texts; padded tok: positions run (each batch padded to its longest text). ' +
      "GFLOP/s exec counts padded positions (the work the runtime does), real only the texts' own tokens; " +
      '% peak = exec / fp32 FMA peak at the same thread count (int8 products can exceed it); CPU/wall = process CPU time / wall time; ' +
      "in run() = share of the time inside InferenceSession.run ('-': semvec's own encoder, which runs no ONNX session and no padding).",
  );
}

/** Where each onnxruntime best pass spent its time: inside InferenceSession.run or outside it. */
export function printTimeSplit(results: readonly ConfigResult[], count: number): void {
  console.log("\nWhere the time goes (best pass; runs on onnxruntime only: semvec's encoder runs no session)");
  console.log(
    table(
      ['run', 'total s', 'in session.run s', 'outside s', 'run() calls', 'outside per text'],
      results.filter((r) => r.engine === 'onnxruntime').map((r) => [
        r.name,
        fmt(r.best.seconds, 3),
        fmt(r.best.runSeconds, 3),
        fmt(r.outsideRunSeconds, 3),
        fmtInt(r.best.runCalls),
        `${fmt((r.outsideRunSeconds / count) * 1e6, 1)} us`,
      ]),
    ),
  );
}

type Agreements = { transformers: Agreement; engines: Agreement; fp32: Agreement };

export function printAgreement(a: Agreements, count: number): void {
  const stats = (c: CosineStats, digits: number): string => `min ${fmt(c.min, digits)}, mean ${fmt(c.mean, digits)}, max ${fmt(c.max, digits)}`;
  const t = a.transformers;
  console.log(`\nAgreement, semvec q8 on onnxruntime and transformers.js q8 (same ONNX file, same runtime, same texts, all ${fmtInt(count)})`);
  console.log(`  cosine of corresponding rows:          ${stats(t.cosine, 7)}`);
  console.log(`  centred (mean embedding subtracted):   ${stats(t.centred, 7)}`);
  console.log(`  largest |difference| of a component: ${t.maxAbsDiff.toExponential(2)}; rows agree (plain and centred > ${t.threshold}): ${t.pass ? 'yes' : 'NO'}`);
  const e = a.engines;
  console.log(`Agreement, semvec q8 (semvec's encoder) and semvec q8 on onnxruntime (same ONNX file; activations quantised per token against per batch)`);
  console.log(`  cosine of corresponding rows:          ${stats(e.cosine, 5)}`);
  console.log(`  centred (mean embedding subtracted):   ${stats(e.centred, 5)}`);
  const f = a.fp32;
  console.log(`Agreement, semvec q8 and semvec fp32 (int8 against the fp32 graph it was quantised from)`);
  console.log(`  cosine of corresponding rows:          ${stats(f.cosine, 5)}`);
  console.log(`  centred on the fp32 mean:              ${stats(f.centred, 5)}   (every text >= ${FP32_AGREEMENT}: ${f.centred.min >= FP32_AGREEMENT ? 'yes' : 'NO'})`);
  console.log(`  unrelated rows for scale, centred cosine(row i, row i+1): ${stats(f.mismatchedCentred, 4)}`);
}

export interface Targets {
  q8OverFp32: { ratio: number; target: number; pass: boolean };
  overTransformers: { ratio: number; target: number; pass: boolean };
  fp32Agreement: { minCentredCosine: number; target: number; pass: boolean };
  transformersAgreement: boolean;
  /** semvec q8 over transformers.js q8 on slices in input order (how a list is usually passed). */
  overTransformersInputOrder: number;
  /** semvec q8 over transformers.js q8 given semvec's session options too (the same runtime work). */
  overTransformersSameOptions: number;
  /** semvec q8 over fp32 with 1 thread each: the kernels alone, without waits between threads. */
  q8OverFp32OneThread: number;
  /** semvec q8 (semvec's encoder) over the same file on onnxruntime. */
  overOnnxQ8: number;
  /** Which engine ran semvec q8, and why not semvec's when it did not. */
  q8Engine: string;
}

export function summaryOf(byName: (name: string) => ConfigResult, a: Agreements, q8Engine: string): Targets {
  const q8 = byName('semvec q8').textsPerSecond;
  const r1 = q8 / byName('semvec fp32').textsPerSecond;
  const r2 = q8 / byName('transformers.js q8').textsPerSecond;
  return {
    q8OverFp32: { ratio: r1, target: TARGETS.q8OverFp32, pass: r1 >= TARGETS.q8OverFp32 },
    overTransformers: { ratio: r2, target: TARGETS.overTransformers, pass: r2 >= TARGETS.overTransformers },
    fp32Agreement: { minCentredCosine: a.fp32.centred.min, target: FP32_AGREEMENT, pass: a.fp32.centred.min >= FP32_AGREEMENT },
    transformersAgreement: a.transformers.pass,
    overTransformersInputOrder: q8 / byName('transformers.js q8, input order').textsPerSecond,
    overTransformersSameOptions: q8 / byName("transformers.js q8, semvec's session options").textsPerSecond,
    q8OverFp32OneThread: byName('semvec q8 1 thread').textsPerSecond / byName('semvec fp32 1 thread').textsPerSecond,
    overOnnxQ8: q8 / byName('semvec q8 on onnxruntime').textsPerSecond,
    q8Engine,
  };
}

/** The targets, and a warning when the machine was busy. */
export function printSummary(
  p: Params,
  t: Targets,
  byName: (name: string) => ConfigResult,
  busy: readonly ConfigResult[],
  count: number,
  load: { start: number[]; afterRuns: number[]; end: number[] },
): void {
  const line = (name: string, note: string): string => {
    const r = byName(name);
    return `  ${name.padEnd(20)} ${fmtInt(r.textsPerSecond).padStart(6)} texts/s   (${fmt(r.best.seconds, 2)} s for ${fmtInt(count)} texts${note})`;
  };
  console.log('\nSummary');
  console.log(line('semvec q8', `, batch ${p.batch}, ${p.threads} threads`));
  console.log(line('transformers.js q8', ', the same file, the same length-sorted slices'));
  console.log(line('semvec fp32', ''));
  console.log(`  semvec q8 / semvec fp32          = ${fmt(t.q8OverFp32.ratio, 2)}x   target >= ${t.q8OverFp32.target}x   ${verdict(t.q8OverFp32.pass)}`);
  console.log(
    `  semvec q8 / transformers.js q8   = ${fmt(t.overTransformers.ratio, 2)}x   target >= ${t.overTransformers.target}x   ${verdict(t.overTransformers.pass)}` +
      (t.transformersAgreement ? '' : '   (but the embeddings DISAGREE)'),
  );
  console.log(`  q8 vs fp32, min centred cosine   = ${fmt(t.fp32Agreement.minCentredCosine, 5)}   target >= ${t.fp32Agreement.target}   ${verdict(t.fp32Agreement.pass)}`);
  console.log(`  reference: semvec q8 / semvec q8 on onnxruntime (the same file) = ${fmt(t.overOnnxQ8, 2)}x; semvec q8 ran on: ${t.q8Engine}`);
  console.log(`  reference: semvec q8 / semvec fp32 with 1 thread each = ${fmt(t.q8OverFp32OneThread, 2)}x (best of ${p.variantReps})`);
  console.log(`  reference: semvec q8 / transformers.js q8 on slices in input order = ${fmt(t.overTransformersInputOrder, 2)}x`);
  console.log(`  reference: semvec q8 / transformers.js q8 given semvec's session options too = ${fmt(t.overTransformersSameOptions, 2)}x (best of ${p.variantReps})`);
  console.log(`  load average (1, 5, 15 min): start ${load.start.map((x) => fmt(x, 2)).join(' ')}; after the main runs ${load.afterRuns.map((x) => fmt(x, 2)).join(' ')}; end ${load.end.map((x) => fmt(x, 2)).join(' ')}`);
  if (busy.length > 0) {
    console.log(
      `  WARNING: the machine was busy: CPU/wall below ${BUSY_FRACTION} x threads in ${busy.map((r) => `${r.name} (${fmt(r.cpuUtilisation, 2)})`).join(', ')}; ` +
        'other processes took CPU time, so those numbers are low and the ratios less certain. Run again on a quiet machine.',
    );
  }
}

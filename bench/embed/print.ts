/** bench/embed/print.ts: bench:embed's header, tables, agreement and summary. */
import { fmt, fmtInt, table, verdict } from '../lib/format.js';
import type { FmaLimits } from '../lib/machine.js';
import type { Agreement, CosineStats } from './measure.js';
import { flopsPerToken, type ModelShape, type modelInfo } from './model.js';
import type { ConfigResult, Params, Setup } from './runs.js';
import { SEED, WORDS, type Kind } from './texts.js';

/** semvec texts/s over transformers.js texts/s, at least. */
export const TARGET = 1.3;
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
  sessionOptions: object,
): void {
  console.log(`semvec Embedder benchmark${p.quick ? ' (quick)' : ''}`);
  console.log(`  date      ${machine.date}`);
  console.log(`  cpu       ${machine.cpu}, ${machine.logicalCores} logical cores, ${fmt(machine.totalMemoryGB, 1)} GiB RAM, load avg ${machine.loadAverageAtStart.map((x) => fmt(x, 2)).join(' ')}`);
  console.log(`  node      ${machine.node}, ${machine.platform}; onnxruntime-node ${versions.onnxruntimeNode}, @huggingface/transformers ${versions.transformers}`);
  console.log(
    `  model     ${p.modelDir}${p.generated ? ' (RANDOM weights, all-MiniLM-L6-v2 architecture)' : ''}\n` +
      `            onnx/model.onnx ${fmt(model.bytes / 1e6, 1)} MB, sha256 ${model.sha256.slice(0, 16)}...; ` +
      `${model.layers} layers, hidden ${model.hidden}, FFN ${model.intermediate}, ${model.heads} heads`,
  );
  console.log(`  session   both libraries: ${JSON.stringify(sessionOptions)} (1-thread semvec run: intraOpNumThreads 1)`);
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
  const truncated = tokens.filter((t) => t >= s.semvec.maxTokens).length;
  console.log(
    `  texts     ${fmtInt(texts.length)} generated (seed ${SEED}, ${WORDS.length}-word list): ${(['query', 'sentence', 'paragraph'] as const).map(byKind).join('; ')}\n` +
      `            ${fmtInt(totalTokens)} tokens, mean ${fmt(totalTokens / texts.length, 1)}, max ${Math.max(...tokens)} ` +
      `(maxTokens ${s.semvec.maxTokens}: ${truncated} truncated); token counts semvec vs transformers.js: ` +
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
  console.log(`\nEmbedding ${fmtInt(count)} texts (best of ${p.reps} for the first two rows, ${p.variantReps} for the others)`);
  console.log(
    table(
      ['run', 'batch', 'thr', 'order', 'seconds', 'texts/s', 'real tok', 'padded tok', 'GFLOP/s real', 'GFLOP/s exec', '% peak', 'CPU/wall', 'in run()'],
      results.map((r) => [
        r.name,
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
        `${fmt((r.best.runSeconds / r.best.seconds) * 100, 1)}%`,
      ]),
    ),
  );
  console.log(
    '  real tok: tokens of the texts; padded tok: positions run (each batch padded to its longest text). ' +
      "GFLOP/s exec counts padded positions (the work the runtime does), real only the texts' own tokens; " +
      '% peak = exec / FMA peak at the same thread count; CPU/wall = process CPU time / wall time; ' +
      'in run() = share of the time inside InferenceSession.run.',
  );
}

/** Where each best pass spent its time: inside InferenceSession.run or outside it. */
export function printTimeSplit(results: readonly ConfigResult[], count: number): void {
  console.log('\nWhere the time goes (best pass)');
  console.log(
    table(
      ['run', 'total s', 'in session.run s', 'outside s', 'run() calls', 'outside per text'],
      results.map((r) => [
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

export function printAgreement(p: Params, a: Agreement, results: readonly ConfigResult[], count: number): void {
  console.log('\nAgreement (same ONNX file, same texts)');
  const stats = (c: CosineStats, digits: number): string => `min ${fmt(c.min, digits)}, mean ${fmt(c.mean, digits)}, max ${fmt(c.max, digits)}`;
  console.log(`  cosine(semvec row i, transformers.js row i), all ${fmtInt(count)} texts:          ${stats(a.cosine, 7)}`);
  console.log(`  the same after subtracting the mean embedding (centred):          ${stats(a.centred, 7)}`);
  console.log(`  largest |difference| of a component: ${a.maxAbsDiff.toExponential(2)}`);
  console.log(`  mismatched rows for scale, cosine(row i, row i+1):               ${stats(a.mismatchedRows, 4)}`);
  console.log(`  mismatched rows, centred:                                        ${stats(a.mismatchedCentred, 4)}`);
  console.log(`  corresponding rows agree (plain and centred cosine > ${a.threshold}): ${a.pass ? 'yes' : 'NO'}`);
  console.log(
    `  min cosine with semvec batch ${p.batch}: ${results
      .filter((r) => r.name !== 'semvec')
      .map((r) => `${r.name} ${fmt(r.minCosineToSemvecMain, 7)}`)
      .join('; ')}`,
  );
}

/** The target (semvec over transformers.js), the length-sorted reference, and a warning when the machine was busy. */
export function printSummary(p: Params, byName: (name: string) => ConfigResult, agree: boolean, busy: readonly ConfigResult[], count: number): void {
  const s = byName('semvec');
  const t = byName('transformers.js');
  const ratio = s.textsPerSecond / t.textsPerSecond;
  const ratioSorted = s.textsPerSecond / byName('transformers.js, sorted input').textsPerSecond;
  console.log('\nSummary');
  console.log(`  semvec            ${fmtInt(s.textsPerSecond)} texts/s   (${fmt(s.best.seconds, 2)} s for ${fmtInt(count)} texts, batch ${p.batch}, ${p.threads} threads)`);
  console.log(`  transformers.js   ${fmtInt(t.textsPerSecond)} texts/s   (${fmt(t.best.seconds, 2)} s, batches of ${p.batch} in input order)`);
  console.log(`  semvec / transformers.js = ${fmt(ratio, 2)}x   target >= ${TARGET}x   ${verdict(ratio >= TARGET)}` + (agree ? '' : '   (but the embeddings DISAGREE)'));
  console.log(
    `  reference: semvec / transformers.js on length-sorted input = ${fmt(ratioSorted, 2)}x ` +
      `(padded tokens ${fmtInt(s.batching.paddedTokens)} vs ${fmtInt(t.batching.paddedTokens)} in input order: length sorting is most of the gap)`,
  );
  if (busy.length > 0) {
    console.log(
      `  WARNING: the machine was busy: CPU/wall below ${BUSY_FRACTION} x threads in ${busy.map((r) => `${r.name} (${fmt(r.cpuUtilisation, 2)})`).join(', ')}; ` +
        'other processes took CPU time, so those numbers are low. Run again on a quiet machine.',
    );
  }
}

/**
 * bench/ingest.ts (npm run bench:ingest): how fast do texts get into semvec?
 * (1) Embedder texts/s of the int8 export (dtype 'q8') against the fp32
 * model in the same run, on the same texts, and how closely their vectors
 * agree; (2) end to end, `semvec index --split paragraph` of real
 * paragraphs from this machine's documentation (man pages, /usr/share/doc,
 * /usr/share/info; 100,000 by default) into a persistent collection:
 * documents/s, tokens/s, resident memory over time, and the split between
 * tokenising, inference and storage. Method: bench/README.md.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { Embedder, hardwareThreads, type Dtype } from '../src/index.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { fmt, fmtBytes, fmtInt, fmtRatio, progress, table } from './lib/format.js';
import { loadText, machineInfo, printMachine } from './lib/machine.js';
import { writeJson } from './lib/report.js';
import { median, now } from './lib/timing.js';
import { agreementOf, instrumentSessionRun } from './embed/measure.js';
import { DEFAULT_MODEL_DIR, ONNX_FILES, ensureModel } from './embed/model.js';
import { SEED, makeTexts } from './embed/texts.js';
import { buildCorpus, type Corpus } from './ingest/corpus.js';
import { indexRun, type IndexRun, type RssSample } from './ingest/index-run.js';

const DTYPES: readonly Dtype[] = ['fp32', 'q8'];
/** Where the paragraphs are written for `semvec index` (git-ignored), one folder per size. */
const CORPUS_DIR = resolve(import.meta.dirname, '.cache', 'ingest-corpus');

const COMMAND = {
  script: 'bench/ingest.ts',
  npm: 'bench:ingest',
  summary: 'how fast do texts get into semvec: int8 against fp32 embedding, and `semvec index` of real paragraphs into a persistent collection?',
  options: {
    'model-dir': option.optionalPath(
      'a model directory with onnx/model.onnx and onnx/model_quantized.onnx; default: the random-weight ' +
        'MiniLM-shaped model of bench:embed with ../shared/models/minilm-shape-qint8 beside it',
    ),
    parts: option.choices('what to run: embed (q8 against fp32 on generated texts), index (semvec index end to end)', ['embed', 'index'] as const, 'embed,index'),
    texts: option.int('texts per embedding pass', { full: '1000', quick: '200' }, { min: 2 }),
    paragraphs: option.int('paragraphs indexed end to end', { full: '100000', quick: '2000' }, { min: 1 }),
    dtype: option.choice('precision of the end-to-end run', ['q8', 'fp32'] as const, 'q8'),
    'rss-every': option.int('seconds between resident-memory samples of the end-to-end run', '5'),
    out: option.path('JSON results', 'bench/results/ingest.json'),
  },
};

/** The model directory: the fp32 twin made by make_bert.py, the shared int8 export copied beside it. */
function modelDir(given: string | undefined): string {
  if (given !== undefined) return given;
  ensureModel(DEFAULT_MODEL_DIR, true);
  return DEFAULT_MODEL_DIR;
}

interface PassResult {
  dtype: Dtype;
  textsPerSecond: number;
  tokensPerSecond: number;
  seconds: number[];
}

async function embedPasses(models: Record<Dtype, Embedder>, texts: string[], reps: number): Promise<{ passes: PassResult[]; vectors: Record<Dtype, Float32Array> }> {
  const secs: Record<Dtype, number[]> = { fp32: [], q8: [] };
  const tokens: Record<Dtype, number> = { fp32: 0, q8: 0 };
  const vectors = {} as Record<Dtype, Float32Array>;
  for (let r = 0; r < reps; r++) {
    // Alternate the order so that a neighbour's load falls on both alike.
    for (const d of r % 2 === 0 ? DTYPES : [...DTYPES].reverse()) {
      progress(`embedding ${fmtInt(texts.length)} texts, ${d}, pass ${r + 1}/${reps}`);
      const t0 = now();
      vectors[d] = await models[d].embed(texts, { batchSize: 32, onProgress: (_d, _n, w) => void (tokens[d] = w.tokens) });
      secs[d].push(now() - t0);
    }
  }
  const passes = DTYPES.map((d) => {
    const s = median(secs[d]);
    return { dtype: d, textsPerSecond: texts.length / s, tokensPerSecond: tokens[d] / s, seconds: secs[d] };
  });
  return { passes, vectors };
}

/** q8 against fp32 on the seeded texts, median of alternating passes, and their agreement. */
async function embedPart(dir: string, threads: number, count: number, quick: boolean) {
  const models = {} as Record<Dtype, Embedder>;
  for (const d of DTYPES) models[d] = await Embedder.load(dir, { dtype: d, onnxFile: ONNX_FILES[d], threads, offline: true });
  try {
    console.log(`  model       ${dir}: fp32 ${ONNX_FILES.fp32}, q8 ${ONNX_FILES.q8}; ${threads} threads\n`);
    const { texts } = makeTexts(count, SEED);
    const warm = texts.slice(0, 64);
    for (const d of DTYPES) await models[d].embed(warm);
    const { passes, vectors } = await embedPasses(models, texts, quick ? 1 : 3);
    const agreement = agreementOf(vectors.fp32, vectors.q8, models.fp32.dim);
    const fp32 = passes[0] as PassResult;
    const q8 = passes[1] as PassResult;
    console.log(`Embedding ${fmtInt(texts.length)} texts (seed ${SEED}, batch 32, length-sorted), median of ${fp32.seconds.length}:`);
    console.log(
      table(
        ['dtype', 'texts/s', 'tokens/s', 'vs fp32'],
        passes.map((p) => [p.dtype, fmt(p.textsPerSecond, 1), fmtInt(p.tokensPerSecond), fmtRatio(p.textsPerSecond / fp32.textsPerSecond)]),
      ),
    );
    console.log(
      `  agreement   centred cosine q8 vs fp32: min ${fmt(agreement.centred.min, 4)}, mean ${fmt(agreement.centred.mean, 4)} ` +
        `(unrelated rows: mean ${fmt(agreement.mismatchedCentred.mean, 4)})`,
    );
    console.log(`  q8 / fp32   ${fmtRatio(q8.textsPerSecond / fp32.textsPerSecond)} texts/s in the same run\n`);
    return { texts: texts.length, passes, agreement };
  } finally {
    for (const d of DTYPES) await models[d].close();
  }
}

/** RSS at about `points` evenly spaced moments of the run, and how much it grew over the second half. */
function rssOverTime(r: IndexRun, points: number): { rows: RssSample[]; secondHalfGrowthMB: number; maxMB: number } {
  const { rss } = r;
  const rows: RssSample[] = [];
  for (let k = 0; k <= points; k++) {
    const at = (k / points) * r.seconds;
    const s = rss.reduce((best, x) => (Math.abs(x.seconds - at) < Math.abs(best.seconds - at) ? x : best));
    if (!rows.includes(s)) rows.push(s);
  }
  const half = rss.filter((x) => x.seconds >= r.seconds / 2);
  const first = half[0] ?? rss[rss.length - 1]!;
  return { rows, secondHalfGrowthMB: Math.max(...half.map((x) => x.rssMB)) - first.rssMB, maxMB: Math.max(...rss.map((x) => x.rssMB)) };
}

function printIndexRun(r: IndexRun, corpus: Corpus): void {
  console.log(`End to end: ${r.command}`);
  console.log(
    `  corpus      ${fmtInt(corpus.paragraphs)} distinct paragraphs from ${fmtInt(corpus.files)} files ` +
      `(${Object.entries(corpus.bySource).map(([k, n]) => `${k} ${fmtInt(n)}`).join(', ')}; ${fmtInt(corpus.duplicatesDropped)} repeated paragraphs left out)`,
  );
  console.log(`  semvec      ${r.summary}`);
  console.log(
    table(
      ['dtype', 'threads', 'documents', 'tokens', 'seconds', 'documents/s', 'tokens/s', 'database'],
      [[r.dtype, String(r.threads), fmtInt(r.documents), fmtInt(r.tokens), fmt(r.seconds, 1), fmt(r.documentsPerSecond, 1), fmtInt(r.tokensPerSecond), fmtBytes(r.dbBytes)]],
    ),
  );
  const { tokeniseSeconds: tk, inferenceSeconds: inf, storageSeconds: st } = r.split;
  const pct = (x: number): string => `${fmt((100 * x) / r.seconds, 1)}%`;
  console.log('  Where the time went (summed inside each call; a write overlaps the next batch\'s inference):');
  console.log(
    table(
      ['part', 'seconds', 'of wall', 'calls'],
      [
        ['tokenising (tokenizer encode)', fmt(tk, 1), pct(tk), fmtInt(r.split.tokeniseCalls)],
        ['inference (InferenceSession.run or semvec\'s encoder)', fmt(inf, 1), pct(inf), fmtInt(r.split.runCalls)],
        ['storage (batch upserts)', fmt(st, 1), pct(st), fmtInt(r.split.writeCalls)],
        ['rest (reading files, tensors, pooling, waiting)', fmt(Math.max(0, r.seconds - tk - inf - st), 1), pct(Math.max(0, r.seconds - tk - inf - st)), '-'],
      ],
    ),
  );
  const o = rssOverTime(r, 10);
  console.log(`  Resident memory over time (sampled every ${fmt(r.rss.length > 1 ? r.rss[1]!.seconds - r.rss[0]!.seconds : 0, 0)} s, ${r.rss.length} samples):`);
  console.log(table(['seconds', 'written', 'RSS MB'], o.rows.map((x) => [fmt(x.seconds, 0), fmtInt(x.written), fmt(x.rssMB, 0)])));
  console.log(
    `  RSS max ${fmt(o.maxMB, 0)} MB; growth over the second half of the run: ${fmt(o.secondHalfGrowthMB, 0)} MB; ` +
      `${fmt(r.rssAfterCloseMB, 0)} MB after the command closed its embedder`,
  );
  console.log(`  load        ${r.loadAverage.start.map((x) => fmt(x, 2)).join(' ')} (start of the run), ${r.loadAverage.end.map((x) => fmt(x, 2)).join(' ')} (end)`);
}

async function main(): Promise<void> {
  const v = parseCommand(COMMAND);
  const dir = modelDir(v['model-dir']);
  const threads = hardwareThreads();
  const machine = machineInfo();
  instrumentSessionRun();
  console.log('bench:ingest');
  printMachine(machine);
  console.log(`  load        ${loadText()} (start)`);
  const results: Record<string, unknown> = { machine, model: dir, threads };
  if (v.parts.includes('embed')) Object.assign(results, await embedPart(dir, threads, v.texts, v.quick));
  if (v.parts.includes('index')) {
    progress(`collecting ${fmtInt(v.paragraphs)} paragraphs of this machine's documentation into ${CORPUS_DIR}`);
    const corpus = buildCorpus(join(CORPUS_DIR, String(v.paragraphs)), v.paragraphs, progress);
    progress(`semvec index of ${fmtInt(corpus.paragraphs)} paragraphs (${v.dtype}, ${threads} threads); a progress line every minute`);
    process.env.SEMVEC_PROGRESS_INTERVAL ??= '60';
    const run = await indexRun({ corpus: corpus.dir, modelDir: dir, dtype: v.dtype, threads, batchSize: 32, sampleSeconds: v['rss-every'] });
    printIndexRun(run, corpus);
    Object.assign(results, { corpus, index: run });
  }
  console.log(`  load        ${loadText()} (end)`);
  writeJson(v.out, results);
  console.log(`\nWrote ${v.out} (${fmtBytes(readFileSync(v.out).length)})`);
}

await runMain('bench/ingest.ts', main);

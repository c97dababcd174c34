/**
 * bench/ingest.ts (npm run bench:ingest): how fast do texts get into semvec?
 * (1) Embedder texts/s of the int8 export (dtype 'q8') against the fp32
 * model in the same run, on the same texts, and how closely their vectors
 * agree; (2) end to end, records/s and tokens/s of a streaming
 * `collection.add` of real paragraphs (this machine's man pages) into a
 * persistent collection, with resident memory over time and the split
 * between tokenising, inference and storage. Method: bench/README.md.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { Client, Embedder, hardwareThreads, type Dtype, type IngestRecord } from '../src/index.js';
import { BenchError, option, parseCommand, runMain } from './lib/args.js';
import { fmt, fmtBytes, fmtInt, fmtRatio, progress, table } from './lib/format.js';
import { loadText, machineInfo, printMachine } from './lib/machine.js';
import { writeJson } from './lib/report.js';
import { median, now } from './lib/timing.js';
import { agreementOf } from './embed/measure.js';
import { DEFAULT_MODEL_DIR, ensureModel } from './embed/model.js';
import { SEED, makeTexts } from './embed/texts.js';

const SHARED_INT8 = resolve(import.meta.dirname, '..', '..', 'shared', 'models', 'minilm-shape-qint8', 'model_quantized.onnx');
const MAN_ROOT = '/usr/share/man';
const DTYPES: readonly Dtype[] = ['fp32', 'q8'];

const COMMAND = {
  script: 'bench/ingest.ts',
  npm: 'bench:ingest',
  summary: 'how fast do texts get into semvec: int8 against fp32 embedding, and streaming writes of real paragraphs into a collection?',
  options: {
    'model-dir': option.optionalPath(
      'a model directory with onnx/model.onnx and an int8 export (onnx/model_quantized.onnx, ...); default: the random-weight ' +
        'MiniLM-shaped model of bench:embed with ../shared/models/minilm-shape-qint8 beside it',
    ),
    texts: option.int('texts per embedding pass', { full: '1000', quick: '200' }, { min: 2 }),
    records: option.int('paragraphs written end to end, per precision', { full: '5000', quick: '500' }, { min: 1 }),
    source: option.path('where the paragraphs come from: man pages (.gz troff) under this directory', MAN_ROOT, { arg: 'DIR' }),
    out: option.path('JSON results', 'bench/results/ingest.json'),
  },
};

/** The model directory: the fp32 twin made by make_bert.py, the shared int8 export copied beside it. */
function modelDir(given: string | undefined): string {
  if (given !== undefined) return given;
  ensureModel(DEFAULT_MODEL_DIR, true);
  const int8 = join(DEFAULT_MODEL_DIR, 'onnx', 'model_quantized.onnx');
  if (!existsSync(int8)) {
    if (!existsSync(SHARED_INT8)) throw new BenchError(`the int8 model ${SHARED_INT8} is missing; pass --model-dir DIR with both precisions`);
    progress(`copying the int8 export ${SHARED_INT8} beside the fp32 model`);
    copyFileSync(SHARED_INT8, int8);
  }
  return DEFAULT_MODEL_DIR;
}

/** Plain text of a troff man page: requests dropped, font escapes removed. */
function manText(troff: string): string[] {
  const paragraphs: string[] = [];
  let cur: string[] = [];
  const end = (): void => {
    const p = cur.join(' ').replace(/\s+/g, ' ').trim();
    if (p.split(' ').length >= 5) paragraphs.push(p);
    cur = [];
  };
  for (const raw of troff.split('\n')) {
    if (/^\.(PP|P|LP|SH|SS|TP|IP|HP|sp|br|RS|RE)\b/.test(raw) || raw.trim() === '') {
      end();
      continue;
    }
    if (raw.startsWith('.') || raw.startsWith("'")) {
      // Font macros carry text: .B word, .BR a b.
      const m = /^\.(B|I|BR|BI|IB|IR|RB|RI)\s+(.*)$/.exec(raw);
      if (m) cur.push((m[2] as string).replace(/"/g, ''));
      continue;
    }
    cur.push(raw.replace(/\\f[BIRPC]|\\f\(..|\\\(..|\\[&-]|\\e/g, (s) => (s === '\\-' ? '-' : s === '\\e' ? '\\' : '')));
  }
  end();
  return paragraphs;
}

/** Paragraphs of the man pages under root, in a stable order, as records. */
async function* manParagraphs(root: string, limit: number): AsyncGenerator<IngestRecord> {
  let n = 0;
  const sections = readdirSync(root)
    .filter((d) => /^man\d/.test(d))
    .sort();
  for (const s of sections) {
    for (const f of readdirSync(join(root, s)).sort()) {
      if (!f.endsWith('.gz')) continue;
      let text: string;
      try {
        text = gunzipSync(readFileSync(join(root, s, f))).toString('utf8');
      } catch {
        continue;
      }
      const paras = manText(text);
      for (let i = 0; i < paras.length; i++) {
        yield { id: `${s}/${basename(f, '.gz')}#${i + 1}`, document: paras[i] as string, metadata: { page: basename(f, '.gz'), section: s } };
        if (++n >= limit) return;
      }
    }
  }
}

interface PassResult {
  dtype: Dtype;
  textsPerSecond: number;
  tokensPerSecond: number;
  seconds: number[];
}

interface EndToEnd {
  dtype: Dtype;
  records: number;
  tokens: number;
  seconds: number;
  recordsPerSecond: number;
  tokensPerSecond: number;
  /** Seconds inside embed() (tokenising + inference), the rest being reading, storage and waiting. */
  embedSeconds: number;
  /** Seconds the tokenizer alone takes on the same texts (measured apart). */
  tokenizeSeconds: number;
  rssMB: { start: number; min: number; max: number; end: number; samples: number[] };
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

async function endToEnd(model: Embedder, source: string, records: number): Promise<EndToEnd> {
  const dir = mkdtempSync(join(tmpdir(), 'semvec-bench-ingest-'));
  const client = await Client.open(dir);
  const mb = (): number => process.memoryUsage.rss() / 2 ** 20;
  const rss = { start: mb(), min: Infinity, max: 0, end: 0, samples: [] as number[] };
  const sample = (): void => {
    const v = mb();
    rss.min = Math.min(rss.min, v);
    rss.max = Math.max(rss.max, v);
    rss.samples.push(Math.round(v));
  };
  const timer = setInterval(sample, 1000);
  let embedSeconds = 0;
  const texts: string[] = [];
  const embed = model.embed.bind(model);
  // Time spent in embed(): the instance's method wrapped for this run only.
  Object.defineProperty(model, 'embed', {
    configurable: true,
    value: async (...args: Parameters<Embedder['embed']>) => {
      const t0 = now();
      try {
        return await embed(...args);
      } finally {
        embedSeconds += now() - t0;
      }
    },
  });
  try {
    const col = await client.createCollection('bench', { embedder: model });
    const t0 = now();
    async function* kept(): AsyncGenerator<IngestRecord> {
      for await (const r of manParagraphs(source, records)) {
        if (texts.length < 2000) texts.push(r.document as string);
        yield r;
      }
    }
    const result = await col.add(kept(), {});
    const seconds = now() - t0;
    sample();
    rss.end = mb();
    if (result.records === 0) throw new BenchError(`no paragraphs found in man pages under ${source}`);
    const t1 = now();
    for (const t of texts) model.countTokens(t);
    const tokenizeSeconds = ((now() - t1) * result.records) / texts.length;
    return {
      dtype: model.dtype,
      records: result.records,
      tokens: result.tokens,
      seconds,
      recordsPerSecond: result.records / seconds,
      tokensPerSecond: result.tokens / seconds,
      embedSeconds,
      tokenizeSeconds,
      rssMB: rss,
    };
  } finally {
    clearInterval(timer);
    delete (model as { embed?: unknown }).embed;
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const v = parseCommand(COMMAND);
  const dir = modelDir(v['model-dir']);
  const threads = hardwareThreads();
  const machine = machineInfo();
  console.log('bench:ingest');
  printMachine(machine);
  console.log(`  load        ${loadText()} (start)`);
  const models = {} as Record<Dtype, Embedder>;
  for (const d of DTYPES) models[d] = await Embedder.load(dir, { dtype: d, threads, offline: true });
  try {
    console.log(`  model       ${dir}: fp32 ${basename(models.fp32.files.onnx)}, q8 ${basename(models.q8.files.onnx)}; ${threads} threads\n`);
    const { texts } = makeTexts(v.texts, SEED);
    const warm = texts.slice(0, 64);
    for (const d of DTYPES) await models[d].embed(warm);
    const { passes, vectors } = await embedPasses(models, texts, v.quick ? 1 : 3);
    const agreement = agreementOf(vectors.fp32, vectors.q8, models.fp32.dim);
    const fp32 = passes[0] as PassResult;
    const q8 = passes[1] as PassResult;
    console.log(`Embedding ${fmtInt(texts.length)} texts (seed ${SEED}, batch 32, length-sorted), median of ${passes[0]!.seconds.length}:`);
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

    const e2e: EndToEnd[] = [];
    for (const d of DTYPES) {
      progress(`streaming ${fmtInt(v.records)} man-page paragraphs into a collection, ${d}`);
      e2e.push(await endToEnd(models[d], v.source, v.records));
    }
    console.log(`End to end: collection.add of a stream of man-page paragraphs (${v.source}) into a persistent collection:`);
    console.log(
      table(
        ['dtype', 'records', 'tokens', 'seconds', 'records/s', 'tokens/s', 'in embed()', 'tokenizer', 'storage+rest', 'RSS MB start/max/end'],
        e2e.map((r) => [
          r.dtype,
          fmtInt(r.records),
          fmtInt(r.tokens),
          fmt(r.seconds, 1),
          fmt(r.recordsPerSecond, 1),
          fmtInt(r.tokensPerSecond),
          `${fmt((100 * r.embedSeconds) / r.seconds, 0)}%`,
          `${fmt((100 * r.tokenizeSeconds) / r.seconds, 0)}%`,
          `${fmt((100 * Math.max(0, r.seconds - r.embedSeconds)) / r.seconds, 0)}%`,
          `${fmt(r.rssMB.start, 0)}/${fmt(r.rssMB.max, 0)}/${fmt(r.rssMB.end, 0)}`,
        ]),
      ),
    );
    const [a, b] = e2e as [EndToEnd, EndToEnd];
    console.log(`  q8 / fp32   ${fmtRatio(b.recordsPerSecond / a.recordsPerSecond)} records/s end to end`);
    console.log(`  load        ${loadText()} (end)`);
    writeJson(v.out, { machine, model: dir, threads, texts: texts.length, passes, agreement, endToEnd: e2e });
    console.log(`\nWrote ${v.out} (${fmtBytes(readFileSync(v.out).length)})`);
  } finally {
    for (const d of DTYPES) await models[d].close();
  }
}

await runMain('bench/ingest.ts', main);
